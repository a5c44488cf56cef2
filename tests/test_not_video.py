"""Files that are not videos are listed on the job page with their reason, apart from errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from stoat.scans import lifecycle
from stoat.scans.models import Job, SkippedFile, Status
from stoat.scans.runner import run_here
from stoat.scans.scanner import Scanner
from tests.media import make_audio_file, make_clip, truncate


def scan(folder: Path) -> Job:
    job = lifecycle.create_scan(str(folder)).job
    run_here(job)
    job.refresh_from_db()
    return job


def test_each_file_that_is_not_a_video_is_kept_with_its_reason(
    client: Client, library_dir: Path
) -> None:
    make_clip(library_dir / "good.mp4")
    song = make_audio_file(library_dir / "song.mp4")
    album = make_audio_file(library_dir / "album.mp4", cover=True)
    still = library_dir / "photo.mp4"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(still, format="PNG")
    broken = truncate(make_clip(library_dir / "broken.mp4"), keep=0.05)

    job = scan(library_dir)

    reasons = dict(SkippedFile.objects.filter(job=job).values_list("path", "reason"))
    assert reasons == {
        str(song): "an audio file with no video stream",
        str(album): "only a still cover image, no moving picture",
        str(still): "a still image, not a video",
    }
    assert job.skipped == len(reasons)
    assert job.error_count == 1
    page = client.get(reverse("scans:job", args=[job.pk])).content.decode()
    not_video = page[page.index("Files that are not videos") :]
    errors = page[
        page.index("Files that could not be read") : page.index("Files that are not videos")
    ]
    for path, reason in reasons.items():
        assert f"<td><code>{path}</code></td><td>{reason}</td>" in not_video
        assert path not in errors
    assert str(broken) in errors and str(broken) not in not_video


def test_a_scan_with_only_videos_shows_no_such_list(client: Client, library_dir: Path) -> None:
    make_clip(library_dir / "good.mp4")

    job = scan(library_dir)

    assert (
        "Files that are not videos"
        not in client.get(reverse("scans:job", args=[job.pk])).content.decode()
    )


def test_a_resumed_job_reads_them_again_and_lists_them_once(db: None, library_dir: Path) -> None:
    make_audio_file(library_dir / "song.mp4")
    job = scan(library_dir)
    # Its worker went silent while walking: the walk is handed back and starts over.
    silent = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, heartbeat_at=silent, batches_total=0, started_at=silent
    )

    assert lifecycle.reap_lost(job.pk) == [job.pk]

    assert SkippedFile.objects.filter(job=job).count() == 0
    assert lifecycle.claim(job.pk)
    Scanner(Job.objects.get(pk=job.pk)).run()
    job.refresh_from_db()
    assert (job.skipped, SkippedFile.objects.filter(job=job).count()) == (1, 1)
