"""How a card shows its video's folder when the folder is too long for it."""

from __future__ import annotations

from stoat.library.templatetags.stoat_format import path_end


def test_a_short_folder_is_shown_whole() -> None:
    assert path_end("/srv/videos/2022", 28) == "/srv/videos/2022"


def test_a_long_folder_keeps_its_end_from_a_slash() -> None:
    folder = "/srv/media/family/holidays/2022/summer"
    shown = path_end(folder, 28)
    assert shown == "…/family/holidays/2022/summer"
    assert len(shown) <= 30


def test_two_folders_that_share_a_long_start_stay_apart() -> None:
    root = "/mnt/nas/share/videos/imported-from-camera"
    assert path_end(f"{root}/a", 28) != path_end(f"{root}/b", 28)
    assert path_end(f"{root}/a", 28).endswith("camera/a")


def test_a_folder_whose_last_part_is_long_is_cut_inside_it() -> None:
    folder = "/srv/" + "x" * 60
    shown = path_end(folder, 28)
    assert shown == "…" + "x" * 27
