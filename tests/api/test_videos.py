from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client

from stoat.library.models import Video
from stoat.scans.models import Job, Status
from tests.api.conftest import body, error_of, give_thumbnail, make_video, post_json

pytestmark = pytest.mark.django_db

VIDEO_FIELDS = {
    "id",
    "path",
    "filename",
    "folder",
    "container",
    "duration",
    "duration_frames",
    "frame_rate_numerator",
    "frame_rate_denominator",
    "width",
    "height",
    "video_codec",
    "audio_codec",
    "bit_rate",
    "file_size",
    "thumbnail_path",
    "thumbnail_url",
    "missing",
    "created_at",
    "updated_at",
    "fingerprint",
    "duplicates",
    "identical",
    "moved_from",
    "moved_at",
}


def test_list_is_200_with_videos_total_limit_and_offset(api: Client) -> None:
    for name in ("b.mp4", "a.mp4", "c.mkv"):
        make_video(f"/srv/videos/{name}")
    make_video("/srv/videos/gone.mp4", missing=True)

    data = body(api.get("/api/v1/videos?limit=2&offset=1"))

    assert set(data) == {"videos", "total", "limit", "offset"}
    assert data["total"] == 3
    assert (data["limit"], data["offset"]) == (2, 1)
    assert [v["filename"] for v in data["videos"]] == ["b.mp4", "c.mkv"]


def test_list_defaults_to_twenty_from_the_start_in_name_order(api: Client) -> None:
    for index in range(25):
        make_video(f"/srv/videos/{index:02d}.mp4")
    data = body(api.get("/api/v1/videos"))
    assert (data["limit"], data["offset"], data["total"]) == (20, 0, 25)
    assert [v["filename"] for v in data["videos"]][:2] == ["00.mp4", "01.mp4"]
    assert len(data["videos"]) == 20


def test_list_sorts_by_size_largest_first(api: Client) -> None:
    make_video("/srv/videos/small.mp4", size=10)
    make_video("/srv/videos/large.mp4", size=10_000)
    data = body(api.get("/api/v1/videos?sort=-size"))
    assert [v["filename"] for v in data["videos"]] == ["large.mp4", "small.mp4"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=-1", "offset=-1", "limit=abc", f"offset={10**30}", "sort=x"],
)
def test_list_with_out_of_range_paging_is_422(api: Client, query: str) -> None:
    detail = error_of(api.get(f"/api/v1/videos?{query}"), 422)
    assert detail["code"] == "VALIDATION_ERROR"
    assert query.split("=")[0] in detail["message"]


def test_one_video_has_every_field_with_its_values(api: Client, data_dir: Path) -> None:
    video = make_video("/srv/videos/holiday.mp4", audio_codec="aac", bit_rate=800_000)
    thumb = give_thumbnail(video, data_dir / "thumbs")

    data = body(api.get(f"/api/v1/videos/{video.pk}"))

    assert set(data) == VIDEO_FIELDS
    assert data["id"] == video.pk
    assert data["path"] == "/srv/videos/holiday.mp4"
    assert (data["filename"], data["folder"]) == ("holiday.mp4", "/srv/videos")
    assert (data["width"], data["height"], data["duration_frames"]) == (160, 120, 50)
    assert (data["frame_rate_numerator"], data["frame_rate_denominator"]) == (25, 1)
    assert (data["video_codec"], data["audio_codec"]) == ("h264", "aac")
    assert (data["file_size"], data["bit_rate"], data["duration"]) == (1000, 800_000, 2.0)
    assert data["thumbnail_path"] == str(thumb)
    assert data["thumbnail_url"] == f"/api/v1/videos/{video.pk}/thumbnail"
    assert data["missing"] is False
    created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
    assert abs((created - video.created_at).total_seconds()) < 0.01
    assert datetime.fromisoformat(data["updated_at"].replace("Z", "+00:00")).tzinfo is not None
    assert (data["fingerprint"], data["duplicates"], data["identical"]) == (None, [], [])
    assert (data["moved_from"], data["moved_at"]) == (None, None)


def test_video_without_audio_or_thumbnail_has_nulls(api: Client) -> None:
    video = make_video(audio_codec=None)
    data = body(api.get(f"/api/v1/videos/{video.pk}"))
    assert data["audio_codec"] is None
    assert data["thumbnail_path"] is None


def test_unknown_video_is_404_not_found(api: Client) -> None:
    detail = error_of(api.get("/api/v1/videos/4242"), 404)
    assert detail == {"code": "NOT_FOUND", "message": "Video 4242 not found"}


def test_search_is_200_with_videos_total_and_query(api: Client) -> None:
    make_video("/srv/videos/Holiday 2023.mp4")
    make_video("/srv/holidays/beach.mkv")
    make_video("/srv/videos/work.mp4")

    data = body(api.get("/api/v1/videos/search?q=holiday&limit=20"))

    assert {"videos", "total", "query"} <= set(data)
    assert data["query"] == "holiday"
    assert data["total"] == 2
    assert sorted(v["filename"] for v in data["videos"]) == ["Holiday 2023.mp4", "beach.mkv"]


def test_search_limit_applies_to_the_page_not_the_total(api: Client) -> None:
    for index in range(3):
        make_video(f"/srv/videos/cat{index}.mp4")
    data = body(api.get("/api/v1/videos/search?q=cat&limit=1"))
    assert (len(data["videos"]), data["total"]) == (1, 3)


@pytest.mark.parametrize("query", ["", "?q=", "?limit=5", f"?q={'x' * 501}"])
def test_search_without_usable_text_is_422(api: Client, query: str) -> None:
    detail = error_of(api.get(f"/api/v1/videos/search{query}"), 422)
    assert detail["code"] == "VALIDATION_ERROR"
    assert "q" in detail["message"]


def test_thumbnail_is_the_videos_jpeg(api: Client, data_dir: Path) -> None:
    video = make_video()
    give_thumbnail(video, data_dir / "thumbs", b"\xff\xd8 the real one")
    response = api.get(f"/api/v1/videos/{video.pk}/thumbnail")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == b"\xff\xd8 the real one"  # type: ignore[attr-defined]


def test_thumbnail_falls_back_to_the_placeholder_jpeg(api: Client) -> None:
    video = make_video()
    response = api.get(f"/api/v1/videos/{video.pk}/thumbnail")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert content.startswith(b"\xff\xd8")
    assert content == Path("static/stoat/placeholder.jpg").read_bytes()


def test_thumbnail_of_unknown_video_is_404(api: Client) -> None:
    assert error_of(api.get("/api/v1/videos/77/thumbnail"), 404)["code"] == "NOT_FOUND"


def test_delete_is_204_and_removes_the_row_and_thumbnail_but_keeps_the_file(
    api: Client, data_dir: Path, clips: Callable[..., list[Path]], scan_root: Path
) -> None:
    (clip,) = clips(1)
    video = make_video(str(clip))
    thumb = give_thumbnail(video, data_dir / "thumbs")

    response = api.delete(f"/api/v1/videos/{video.pk}?delete_file=false")

    assert response.status_code == 204
    assert response.content == b""
    assert not Video.objects.filter(pk=video.pk).exists()
    assert not thumb.exists()
    assert clip.exists()


def test_delete_with_delete_file_removes_the_file_inside_a_scan_root(
    api: Client, clips: Callable[..., list[Path]], scan_root: Path
) -> None:
    (clip,) = clips(1)
    video = make_video(str(clip))
    response = api.delete(f"/api/v1/videos/{video.pk}?delete_file=true")
    assert response.status_code == 204
    assert not clip.exists()
    assert not Video.objects.filter(pk=video.pk).exists()


def test_delete_file_outside_the_scan_roots_is_403_and_changes_nothing(
    api: Client, settings: LazySettings, tmp_path: Path, clips: Callable[..., list[Path]]
) -> None:
    (clip,) = clips(1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings.STOAT_SCAN_ROOTS = [str(elsewhere)]
    video = make_video(str(clip))

    detail = error_of(api.delete(f"/api/v1/videos/{video.pk}?delete_file=true"), 403)

    assert detail["code"] == "PATH_NOT_ALLOWED"
    assert str(clip) in detail["message"]
    assert clip.exists()
    assert Video.objects.filter(pk=video.pk).exists()


def test_delete_file_that_is_gone_is_409_and_keeps_the_entry(api: Client, scan_root: Path) -> None:
    video = make_video(str(scan_root / "vanished.mp4"), missing=True)
    detail = error_of(api.delete(f"/api/v1/videos/{video.pk}?delete_file=true"), 409)
    assert detail["code"] == "FILE_NOT_DELETABLE"
    assert "no longer on disk" in detail["message"]
    assert Video.objects.filter(pk=video.pk).exists()


def test_delete_of_unknown_video_is_404(api: Client) -> None:
    detail = error_of(api.delete("/api/v1/videos/31337"), 404)
    assert detail == {"code": "NOT_FOUND", "message": "Video 31337 not found"}


@pytest.mark.parametrize("flag", ["maybe", "2", ""])
def test_delete_with_a_flag_that_is_no_boolean_is_422_and_deletes_nothing(
    api: Client, flag: str
) -> None:
    video = make_video()
    detail = error_of(api.delete(f"/api/v1/videos/{video.pk}?delete_file={flag}"), 422)
    assert "delete_file" in detail["message"]
    assert Video.objects.filter(pk=video.pk).exists()


def test_scan_is_202_with_the_new_jobs_id(api: Client, scan_root: Path) -> None:
    response = post_json(api, "/api/v1/videos/scan", {"path": str(scan_root), "recursive": False})

    assert response.status_code == 202
    data = body(response)
    job = Job.objects.get()
    assert data["job_id"] == str(job.pk)
    assert data["created"] is True
    assert data["status"] == "pending"
    assert (job.path, job.recursive) == (str(scan_root), False)


def test_scan_of_a_folder_already_being_scanned_is_202_with_that_job(
    api: Client, scan_root: Path
) -> None:
    first = body(post_json(api, "/api/v1/videos/scan", {"path": str(scan_root)}))
    again = body(post_json(api, "/api/v1/videos/scan", {"path": str(scan_root) + "/"}))

    assert again["job_id"] == first["job_id"]
    assert again["created"] is False
    assert "already being scanned" in again["message"]
    assert Job.objects.count() == 1


def test_scan_runs_and_its_job_reports_the_result(
    api: Client,
    clips: Callable[..., list[Path]],
    scan_root: Path,
    sync_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    clips(2, audio=True)
    (scan_root / "broken.mp4").write_bytes(b"not a video at all")

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        started = body(post_json(api, "/api/v1/videos/scan", {"path": str(scan_root)}))
    job = body(api.get(f"/api/v1/jobs/{started['job_id']}"))

    assert job["status"] == Status.COMPLETE
    assert job["progress"] == 1.0
    assert job["error"] is None
    result = job["result"]
    assert (result["scanned"], result["new"], result["updated"]) == (3, 2, 0)
    assert [e["path"] for e in result["errors"]] == [str(scan_root / "broken.mp4")]
    assert result["errors"][0]["error"]
    videos = body(api.get("/api/v1/videos"))["videos"]
    assert [v["filename"] for v in videos] == ["clip0000.mp4", "clip0001.mp4"]
    assert (videos[0]["video_codec"], videos[0]["audio_codec"]) == ("h264", "aac")
    assert (videos[0]["width"], videos[0]["height"], videos[0]["duration_frames"]) == (160, 120, 25)
    assert videos[0]["thumbnail_path"] is not None
    assert Path(videos[0]["thumbnail_path"]).is_file()


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("relative/folder", "absolute path"),
        ("", "Enter the path"),
        ("/no/such/folder/anywhere", "not a folder"),
        ("/tmp/\x00evil", "not a usable path"),
        ("/" + "a" * 5000, "The path is too long"),
        ("/\ud800", "not a usable path"),
    ],
)
def test_scan_of_a_path_that_is_no_folder_is_400_invalid_path(
    api: Client, path: str, words: str
) -> None:
    detail = error_of(post_json(api, "/api/v1/videos/scan", {"path": path}), 400)
    assert detail["code"] == "INVALID_PATH"
    assert words in detail["message"]
    assert not Job.objects.exists()


def test_scan_of_a_file_is_400_invalid_path(api: Client, clips: Callable[..., list[Path]]) -> None:
    (clip,) = clips(1)
    detail = error_of(post_json(api, "/api/v1/videos/scan", {"path": str(clip)}), 400)
    assert detail["code"] == "INVALID_PATH"


def test_scan_outside_the_scan_roots_is_403_path_not_allowed(
    api: Client, scan_root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    detail = error_of(post_json(api, "/api/v1/videos/scan", {"path": str(outside)}), 403)
    assert detail["code"] == "PATH_NOT_ALLOWED"
    assert str(outside) in detail["message"]
    assert not Job.objects.exists()
