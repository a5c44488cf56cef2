from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.models import TERMINAL, Job, Status
from stoat.scans.runner import run_here
from tests.conftest import make_job
from tests.media import make_clip

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def scanned(folder: Path) -> Job:
    job = lifecycle.create_scan(str(folder)).job
    run_here(job)
    job.refresh_from_db()
    return job


def make_video(name: str, **fields: object) -> Video:
    values: dict[str, object] = {
        "path": f"/srv/videos/{name}",
        "path_key": name,
        "folder": "/srv/videos",
        "filename": name,
        "size": 1000,
        "mtime_ns": 1,
        "width": 1920,
        "height": 1080,
        "video_codec": "h264",
        "duration": 62.0,
    }
    values.update(fields)
    return Video.objects.create(**values)


def test_empty_library_says_what_to_do_next(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No videos yet" in response.content.decode()
    assert 'name="path"' in response.content.decode()


def test_library_shows_scanned_videos_with_human_units(client: Client, library_dir: Path) -> None:
    make_clip(library_dir / "holiday.mp4", width=320, height=240, seconds=2, audio=True)
    scanned(library_dir)

    page = client.get("/").content.decode()

    video = Video.objects.get()
    assert "holiday.mp4" in page
    assert reverse("library:thumbnail", args=[video.pk]) in page
    assert "0:02" in page and "SD ·" in page
    assert '<abbr title="h264">H.264</abbr>/<abbr title="aac">AAC</abbr>' in page


def test_search_matches_filename_and_folder(client: Client) -> None:
    make_video("cats.mp4")
    make_video("dogs.mp4", folder="/srv/pets", path="/srv/pets/dogs.mp4")

    assert "cats.mp4" in client.get("/?q=CAT").content.decode()
    assert "dogs.mp4" not in client.get("/?q=cat").content.decode()
    assert "dogs.mp4" in client.get("/?q=pets").content.decode()
    assert "No video matches" in client.get("/?q=zebra").content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["a.mp4", "b.mp4", "c.mp4"]),
        ("-name", ["c.mp4", "b.mp4", "a.mp4"]),
        ("-duration", ["b.mp4", "c.mp4", "a.mp4"]),
        ("size", ["c.mp4", "a.mp4", "b.mp4"]),
        ("-added", ["c.mp4", "b.mp4", "a.mp4"]),
        ("nonsense", ["a.mp4", "b.mp4", "c.mp4"]),
    ],
)
def test_library_sorts(client: Client, sort: str, expected: list[str]) -> None:
    make_video("a.mp4", duration=10.0, size=500)
    make_video("b.mp4", duration=30.0, size=900)
    make_video("c.mp4", duration=20.0, size=100)

    response = client.get("/", {"sort": sort}, headers=HTMX)

    assert [v.filename for v in response.context["page"].object_list] == expected


def test_library_pages_and_serves_a_partial_to_htmx(client: Client) -> None:
    for index in range(50):
        make_video(f"v{index:02d}.mp4")

    first = client.get("/")
    second = client.get("/", {"page": 2}, headers=HTMX)

    assert len(first.context["page"].object_list) == 48
    assert "Page 1 of 2" in first.content.decode()
    assert [v.filename for v in second.context["page"].object_list] == ["v48.mp4", "v49.mp4"]
    assert "<html" not in second.content.decode()
    assert [t.name for t in second.templates][0] == "library/_results.html"


def test_missing_videos_are_hidden_unless_asked_for(client: Client) -> None:
    make_video("here.mp4")
    make_video("gone.mp4", missing=True)

    assert "gone.mp4" not in client.get("/").content.decode()
    assert "gone.mp4" in client.get("/?missing=1").content.decode()


def test_video_page_shows_all_metadata(client: Client) -> None:
    video = make_video(
        "film.mkv",
        frame_rate_num=30000,
        frame_rate_den=1001,
        audio_codec="aac",
        size=1_288_490_189,
        duration=3723.0,
        container="matroska,webm",
    )

    page = client.get(reverse("library:video", args=[video.pk])).content.decode()

    for text in ("1:02:03", "1920×1080", "1080p", "29.97 fps", "1.2 GB", "h264", "aac", "matroska"):
        assert text in page, text


def test_unknown_video_is_404(client: Client) -> None:
    assert client.get(reverse("library:video", args=[999])).status_code == 404
    assert client.get(reverse("library:thumbnail", args=[999])).status_code == 404


def test_thumbnail_is_served_by_id_or_falls_back_to_the_placeholder(
    client: Client, library_dir: Path, data_dir: Path
) -> None:
    make_clip(library_dir / "a.mp4")
    scanned(library_dir)
    video = Video.objects.get()

    response = client.get(reverse("library:thumbnail", args=[video.pk]))
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/jpeg"
    assert body == (data_dir / "thumbs" / video.thumbnail).read_bytes()

    (data_dir / "thumbs" / video.thumbnail).unlink()
    fallback = client.get(reverse("library:thumbnail", args=[video.pk]))
    assert fallback["Content-Type"] == "image/jpeg"
    assert b"".join(fallback.streaming_content)[:2] == b"\xff\xd8"  # type: ignore[attr-defined]


def test_start_scan_creates_a_job_and_redirects_to_it(client: Client, library_dir: Path) -> None:
    response = client.post(reverse("scans:start"), {"path": str(library_dir), "recursive": "on"})

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scans:job", args=[job.pk])
    assert (job.path, job.recursive, job.status) == (str(library_dir), True, Status.PENDING)


def test_starting_a_scan_of_a_folder_being_scanned_shows_that_scan(
    client: Client, library_dir: Path
) -> None:
    client.post(reverse("scans:start"), {"path": str(library_dir)})
    response = client.post(reverse("scans:start"), {"path": str(library_dir)}, follow=True)

    assert Job.objects.count() == 1
    assert "already being scanned" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "This field is required"),
        ("relative/path", "absolute path"),
        ("/no/such/folder", "is not a folder"),
    ],
)
def test_bad_scan_path_is_400_with_a_message(client: Client, path: str, message: str) -> None:
    response = client.post(reverse("scans:start"), {"path": path})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Job.objects.count() == 0


def test_path_outside_the_scan_roots_is_refused(
    client: Client, library_dir: Path, settings: object, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    settings.STOAT_SCAN_ROOTS = [str(allowed)]  # type: ignore[attr-defined]

    response = client.post(reverse("scans:start"), {"path": str(allowed / ".." / "videos")})

    # Not allowed, rather than malformed: the form's error with 403 (PATH_NOT_ALLOWED).
    assert response.status_code == 403
    assert "outside the folders stoat may scan" in response.content.decode()


def test_job_page_shows_progress_and_polls_while_active(client: Client) -> None:
    job = make_job(status=Status.RUNNING, found=10, found_final=True, processed=4, new=4)

    page = client.get(reverse("scans:job", args=[job.pk]))
    partial = client.get(reverse("scans:job", args=[job.pk]), headers=HTMX)

    assert page.status_code == 200 and "<html" in page.content.decode()
    assert partial.status_code == 200
    body = partial.content.decode()
    assert "<html" not in body
    assert 'hx-trigger="every 1s"' in body
    assert 'value="40"' in body and "4 / 10" in body


def test_without_javascript_the_job_page_reloads_itself_until_the_job_ends(
    client: Client,
) -> None:
    running = make_job(status=Status.RUNNING, found=10, processed=4)
    ended = make_job(status=Status.COMPLETE, found=10, processed=10)
    refresh = '<noscript><meta http-equiv="refresh" content="2; url={}"></noscript>'

    running_url = reverse("scans:job", args=[running.pk])
    assert refresh.format(running_url) in client.get(running_url).content.decode()
    # After a cancel posted without JavaScript, the reload goes to the job page, not the POST.
    cancelled = client.post(reverse("scans:cancel", args=[running.pk])).content.decode()
    assert refresh.format(running_url) in cancelled
    ended_page = client.get(reverse("scans:job", args=[ended.pk])).content.decode()
    assert "http-equiv" not in ended_page
    assert "http-equiv" not in client.get(running_url, headers=HTMX).content.decode()


def test_job_page_before_the_count_is_known_says_found_so_far(client: Client) -> None:
    job = make_job(status=Status.RUNNING, phase="finding", found=120)
    body = client.get(reverse("scans:job", args=[job.pk]), headers=HTMX).content.decode()
    assert "120 so far" in body
    assert "<progress" in body and "value=" not in body.split("<progress")[1].split(">")[0]


@pytest.mark.parametrize("status", TERMINAL)
def test_polling_partial_answers_286_once_the_job_has_ended(client: Client, status: str) -> None:
    job = make_job(status=status)

    partial = client.get(reverse("scans:job", args=[job.pk]), headers=HTMX)
    page = client.get(reverse("scans:job", args=[job.pk]))

    assert partial.status_code == 286
    assert "hx-trigger" not in partial.content.decode()
    assert status in partial.content.decode()
    assert page.status_code == 200


def test_job_page_lists_per_file_errors(client: Client, library_dir: Path) -> None:
    (library_dir / "broken.mp4").write_bytes(b"not a video at all" * 100)
    job = scanned(library_dir)

    page = client.get(reverse("scans:job", args=[job.pk])).content.decode()
    last_poll = client.get(reverse("scans:job", args=[job.pk]), headers=HTMX)

    assert str(library_dir / "broken.mp4") in page
    assert "not a video file that can be read" in page
    # The final poll brings the error list with it, so the page is complete without a reload.
    assert last_poll.status_code == 286
    assert str(library_dir / "broken.mp4") in last_poll.content.decode()


def test_unknown_job_is_404(client: Client) -> None:
    assert client.get(reverse("scans:job", args=[999])).status_code == 404


def test_cancel_of_pending_job_is_200_and_cancelled(client: Client) -> None:
    job = make_job()
    response = client.post(reverse("scans:cancel", args=[job.pk]))
    assert response.status_code == 200
    assert "Cancelled before it started" in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == Status.CANCELLED


def test_cancel_of_running_job_is_200_and_flags_it(client: Client) -> None:
    job = make_job(status=Status.RUNNING)
    response = client.post(reverse("scans:cancel", args=[job.pk]), headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "stops at the next file" in response.content.decode()
    job.refresh_from_db()
    assert job.status == Status.RUNNING and job.cancel_requested_at is not None


@pytest.mark.parametrize("status", TERMINAL)
def test_cancel_of_finished_job_is_409_and_changes_nothing(client: Client, status: str) -> None:
    job = make_job(status=status)
    response = client.post(reverse("scans:cancel", args=[job.pk]), headers=HTMX)
    assert response.status_code == 409
    assert f"already ended as {status}" in response.content.decode()
    job.refresh_from_db()
    assert job.status == status and job.cancel_requested_at is None


def test_cancel_of_unknown_job_is_404(client: Client) -> None:
    response = client.post(reverse("scans:cancel", args=[999]))
    assert response.status_code == 404
    assert "Job 999 not found" in response.content.decode()


def test_cancel_needs_a_post(client: Client) -> None:
    job = make_job()
    assert client.get(reverse("scans:cancel", args=[job.pk])).status_code == 405
    assert Job.objects.get(pk=job.pk).status == Status.PENDING


def test_job_history_lists_and_filters_jobs(client: Client) -> None:
    make_job(status=Status.COMPLETE, path="/srv/one")
    make_job(status=Status.FAILED, path="/srv/two")

    everything = client.get(reverse("scans:jobs")).content.decode()
    failed = client.get(reverse("scans:jobs"), {"status": "failed"}, headers=HTMX).content.decode()

    assert "/srv/one" in everything and "/srv/two" in everything
    assert "/srv/two" in failed and "/srv/one" not in failed


def test_empty_job_history_says_what_to_do(client: Client) -> None:
    assert "No scans yet" in client.get(reverse("scans:jobs")).content.decode()


def test_every_stylesheet_and_script_the_page_links_is_served_with_its_type(
    client: Client,
) -> None:
    page = client.get("/").content.decode()
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', page)
    assert styles and scripts, page[:500]
    for url, kind in [
        *((u, "text/css") for u in styles),
        *((u, "text/javascript") for u in scripts),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].split(";")[0] == kind, url


def test_static_files_are_served_by_whitenoise_with_debug_off(
    client: Client, settings: object
) -> None:
    assert settings.DEBUG is False  # type: ignore[attr-defined]
    response = client.get("/static/stoat/stoat.css")
    assert response.status_code == 200
    assert b"prefers-color-scheme: dark" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
