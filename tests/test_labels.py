"""Long folders made short for a card or a chart: by their last names, which tell them apart."""

from __future__ import annotations

from stoat.library.labels import cut_end, path_end


def test_a_short_folder_is_shown_whole() -> None:
    assert path_end("/srv/videos", 16) == "/srv/videos"
    assert path_end("/srv/videos/2022", 28) == "/srv/videos/2022"


def test_a_long_folder_keeps_as_many_of_its_last_names_as_fit() -> None:
    assert path_end("/tmp/review-media/holiday/2022", 16) == "…/holiday/2022"
    assert path_end("/tmp/review-media/holiday/2023/", 16) == "…/holiday/2023"
    assert path_end("/srv/media/family/holidays/2022/summer", 28) == "…/holidays/2022/summer"


def test_two_folders_that_share_a_long_start_stay_apart() -> None:
    root = "/mnt/nas/share/videos/imported-from-camera"
    assert path_end(f"{root}/a", 28) == "…/imported-from-camera/a"
    assert path_end(f"{root}/b", 28) == "…/imported-from-camera/b"


def test_a_last_name_too_long_for_the_room_is_cut_inside_it() -> None:
    shown = path_end("/media/an-extremely-long-folder-name", 16)
    assert shown == "…" + "long-folder-name"[-15:]
    assert path_end("/srv/" + "x" * 60, 28) == "…" + "x" * 27


def test_a_long_label_is_cut_at_its_end() -> None:
    assert cut_end("Matroska", 16) == "Matroska"
    assert cut_end("A very long codec name", 16) == "A very long cod…"
