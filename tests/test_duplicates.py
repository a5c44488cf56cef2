"""Copies are listed as duplicates, called identical only once every byte was compared, and one
copy can be deleted only when another identical copy stays."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client

from stoat.library.duplicates import confirm_group_of
from stoat.library.fingerprint import SAMPLE
from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.runner import run_here
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def scan(folder: Path) -> Job:
    job = lifecycle.create_scan(str(folder)).job
    assert run_here(job) == Status.COMPLETE
    job.refresh_from_db()
    return job


def padded_clip(path: Path, seed: int = 1) -> Path:
    """A real clip followed by 800 KiB of noise: larger than the three samples together."""
    make_clip(path)
    with path.open("ab") as file:
        file.write(random.Random(seed).randbytes(800 * 1024))
    return path


def altered_between_samples(source: Path, target: Path) -> Path:
    """A file of the same size that differs from `source` in one byte no sample reads."""
    data = bytearray(source.read_bytes())
    data[SAMPLE + 100] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def json(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json"), response.content
    return response.json()


def test_a_copy_shows_on_both_videos_and_in_the_duplicates_list(
    library_dir: Path, client: Client
) -> None:
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    make_clip(library_dir / "alone.mp4", seconds=2)
    scan(library_dir)
    a = Video.objects.get(filename="a.mp4")
    b = Video.objects.get(filename="b.mp4")

    data = json(client.get(f"/api/v1/videos/{a.pk}"))
    assert (data["fingerprint"], data["duplicates"], data["identical"]) == (
        a.fingerprint,
        [b.pk],
        [],
    )
    listing = json(client.get("/api/v1/videos?limit=10"))
    by_id = {v["id"]: v["duplicates"] for v in listing["videos"]}
    alone = Video.objects.get(filename="alone.mp4")
    assert by_id == {a.pk: [b.pk], b.pk: [a.pk], alone.pk: []}

    groups = json(client.get("/api/v1/duplicates"))
    assert groups["total"] == 1 and groups["total_wasted"] == a.size
    assert groups["groups"] == [
        {
            "size": a.size,
            "fingerprint": a.fingerprint,
            "videos": sorted([a.pk, b.pk]),
            "wasted": a.size,
            "identical": False,
        }
    ]

    page = client.get(f"/videos/{a.pk}/").content.decode()
    assert "Probably identical to" in page and f"/videos/{b.pk}/" in page
    listing_page = client.get("/duplicates/").content.decode()
    assert "Probably identical" in listing_page and str(library_dir / "b.mp4") in listing_page


def test_a_video_page_lists_its_copies_by_path_and_says_how_many_more_there_are(
    library_dir: Path, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stoat.library.copies.COPIES_SHOWN", 2)
    original = padded_clip(library_dir / "m.mp4")
    for name in ("z1.mp4", "z2.mp4"):
        shutil.copyfile(original, library_dir / name)
    scan(library_dir)
    # Found by a later scan, so their ids come after the z copies' ids.
    shutil.copyfile(original, library_dir / "a1.mp4")
    scan(library_dir)
    m = Video.objects.get(filename="m.mp4")

    page = client.get(f"/videos/{m.pk}/").content.decode()

    listed = [name for name in ("a1.mp4", "z1.mp4", "z2.mp4") if str(library_dir / name) in page]
    assert listed == ["a1.mp4", "z1.mp4"]
    assert page.index(str(library_dir / "a1.mp4")) < page.index(str(library_dir / "z1.mp4"))
    assert "And 1 more:" in page


def test_groups_are_listed_largest_waste_first(library_dir: Path, client: Client) -> None:
    small = padded_clip(library_dir / "small.mp4", seed=1)
    shutil.copyfile(small, library_dir / "small copy.mp4")
    big = make_clip(library_dir / "big.mp4", seconds=3)
    with big.open("ab") as file:
        file.write(random.Random(2).randbytes(2 * 1024 * 1024))
    for n in range(2):
        shutil.copyfile(big, library_dir / f"big copy {n}.mp4")
    scan(library_dir)

    groups = json(client.get("/api/v1/duplicates?limit=1"))["groups"]
    big_ids = sorted(Video.objects.filter(filename__startswith="big").values_list("pk", flat=True))
    assert [g["videos"] for g in groups] == [big_ids]
    assert groups[0]["wasted"] == 2 * big.stat().st_size
    second = json(client.get("/api/v1/duplicates?limit=1&offset=1"))
    assert [len(g["videos"]) for g in second["groups"]] == [2]
    assert second["total"] == 2


def test_files_differing_only_outside_the_samples_are_never_confirmed_identical(
    library_dir: Path, client: Client, settings: LazySettings
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    original = padded_clip(library_dir / "a.mp4")
    altered_between_samples(original, library_dir / "b.mp4")
    scan(library_dir)
    a = Video.objects.get(filename="a.mp4")
    b = Video.objects.get(filename="b.mp4")
    assert (a.size, a.fingerprint) == (b.size, b.fingerprint)

    group = confirm_group_of(a)

    a.refresh_from_db()
    b.refresh_from_db()
    assert group.confirmed is False
    assert a.content_hash and b.content_hash and a.content_hash != b.content_hash
    assert json(client.get(f"/api/v1/videos/{a.pk}"))["identical"] == []
    refused = client.delete(f"/api/v1/videos/{b.pk}/copy")
    assert refused.status_code == 409
    assert json(refused)["detail"]["code"] == "NOT_A_DUPLICATE"
    assert (library_dir / "b.mp4").exists() and Video.objects.filter(pk=b.pk).exists()


def test_a_confirmed_copy_can_be_deleted_but_never_the_last_one(
    library_dir: Path, client: Client, settings: LazySettings
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    a = Video.objects.get(filename="a.mp4")
    b = Video.objects.get(filename="b.mp4")

    # The delete itself compares every byte first: nothing was confirmed before.
    assert client.delete(f"/api/v1/videos/{b.pk}/copy").status_code == 204

    assert not (library_dir / "b.mp4").exists()
    assert list(Video.objects.values_list("pk", flat=True)) == [a.pk]
    a.refresh_from_db()
    assert a.content_hash and original.exists()
    last = client.delete(f"/api/v1/videos/{a.pk}/copy")
    assert (last.status_code, json(last)["detail"]["code"]) == (409, "NOT_A_DUPLICATE")
    assert original.exists() and Video.objects.filter(pk=a.pk).exists()


def test_a_copy_whose_twin_vanished_is_not_deleted(
    library_dir: Path, client: Client, settings: LazySettings
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    b = Video.objects.get(filename="b.mp4")
    original.unlink()  # the library still lists it until the next scan

    refused = client.delete(f"/api/v1/videos/{b.pk}/copy")

    assert (refused.status_code, json(refused)["detail"]["code"]) == (409, "NOT_A_DUPLICATE")
    assert (library_dir / "b.mp4").exists()


def test_deleting_a_copy_outside_the_scan_roots_is_refused(
    library_dir: Path, tmp_path: Path, client: Client, settings: LazySettings
) -> None:
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    b = Video.objects.get(filename="b.mp4")
    settings.STOAT_SCAN_ROOTS = [str(tmp_path / "elsewhere")]

    refused = client.delete(f"/api/v1/videos/{b.pk}/copy")

    assert (refused.status_code, json(refused)["detail"]["code"]) == (403, "PATH_NOT_ALLOWED")
    b.refresh_from_db()
    assert b.content_hash == "" and (library_dir / "b.mp4").exists()


def test_the_page_deletes_a_confirmed_copy_and_shows_the_one_kept(
    library_dir: Path, client: Client, settings: LazySettings
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    a = Video.objects.get(filename="a.mp4")
    b = Video.objects.get(filename="b.mp4")

    response = client.post(f"/videos/{b.pk}/remove-copy")

    assert (response.status_code, response["Location"]) == (303, f"/videos/{a.pk}/")
    assert not (library_dir / "b.mp4").exists()
    page = client.get(response["Location"]).content.decode()
    assert "the copy at" in page and "Copies" not in page


def test_the_page_refuses_to_delete_a_file_with_no_identical_copy(
    library_dir: Path, client: Client, settings: LazySettings
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    original = padded_clip(library_dir / "a.mp4")
    altered_between_samples(original, library_dir / "b.mp4")
    scan(library_dir)
    b = Video.objects.get(filename="b.mp4")

    response = client.post(f"/videos/{b.pk}/remove-copy")

    assert response.status_code == 409
    assert "is not a confirmed copy" in response.content.decode()
    assert (library_dir / "b.mp4").exists()


def test_a_reader_may_not_delete_or_check_copies(library_dir: Path, reader_client: Client) -> None:
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    b = Video.objects.get(filename="b.mp4")

    assert reader_client.post(f"/videos/{b.pk}/remove-copy").status_code == 403
    assert reader_client.post(f"/videos/{b.pk}/check-copies").status_code == 403
    assert reader_client.delete(f"/api/v1/videos/{b.pk}/copy").status_code == 403
    assert (library_dir / "b.mp4").exists()


def test_checking_copies_runs_in_the_background_and_the_page_then_says_identical(
    library_dir: Path,
    client: Client,
    sync_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    a = Video.objects.get(filename="a.mp4")
    b = Video.objects.get(filename="b.mp4")
    assert "Compare every byte" in client.get(f"/videos/{a.pk}/").content.decode()

    response = client.post(f"/videos/{a.pk}/check-copies")

    assert response.status_code == 303
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.content_hash == b.content_hash != ""
    page = client.get(f"/videos/{a.pk}/").content.decode()
    assert "Identical to" in page and "Compare every byte" not in page
    assert json(client.get(f"/api/v1/videos/{a.pk}"))["identical"] == [b.pk]
    assert json(client.get("/api/v1/duplicates"))["groups"][0]["identical"] is True
    assert "Identical: every byte compared" in client.get("/duplicates/").content.decode()


def test_a_file_changed_since_its_scan_gets_no_content_hash(library_dir: Path) -> None:
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    a = Video.objects.get(filename="a.mp4")
    with original.open("ab") as file:
        file.write(b"more")

    group = confirm_group_of(a)

    a.refresh_from_db()
    assert (a.content_hash, group.confirmed) == ("", False)
    assert Video.objects.get(filename="b.mp4").content_hash != ""


def test_the_page_refuses_to_delete_a_copy_outside_the_scan_roots(
    library_dir: Path, tmp_path: Path, client: Client, settings: LazySettings
) -> None:
    original = padded_clip(library_dir / "a.mp4")
    shutil.copyfile(original, library_dir / "b.mp4")
    scan(library_dir)
    b = Video.objects.get(filename="b.mp4")
    settings.STOAT_SCAN_ROOTS = [str(tmp_path / "elsewhere")]

    response = client.post(f"/videos/{b.pk}/remove-copy")

    assert response.status_code == 403
    assert "outside the folders stoat may change" in response.content.decode()
    assert (library_dir / "b.mp4").exists() and Video.objects.filter(pk=b.pk).exists()
