"""A move the watcher notices keeps the video: real `watch` and `qcluster` processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stoat.library.models import Video, VideoMove
from stoat.watch.models import Mode
from tests.libraries import add_library
from tests.media import make_clip
from tests.watching import wait_watched, watch_scans, watching
from tests.worker import qcluster, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_file_moved_to_another_folder_keeps_its_video_when_the_watcher_notices(
    library_dir: Path, data_dir: Path
) -> None:
    old = make_clip(library_dir / "inbox" / "beach.mp4", seconds=1, width=320, height=240)
    (library_dir / "holidays").mkdir()
    library = add_library(library_dir, every="off")

    with qcluster(data_dir), watching(data_dir):
        # The watcher's first comparison scan indexes the file.
        wait_watched(library, Mode.EVENTS)
        video = Video.objects.get(filename="beach.mp4")
        thumbnail = (data_dir / "thumbs" / video.thumbnail).read_bytes()
        new = library_dir / "holidays" / "beach.mp4"
        old.rename(new)
        wait_for(
            lambda: Video.objects.filter(pk=video.pk, path=str(new), missing=False).exists(),
            30,
            "the moved file to keep its video at the new path",
        )

    after = Video.objects.get()
    assert (after.pk, after.moved_from, after.fingerprint) == (
        video.pk,
        str(old),
        video.fingerprint,
    )
    assert (after.duration, after.width, after.height) == (video.duration, 320, 240)
    assert (data_dir / "thumbs" / after.thumbnail).read_bytes() == thumbnail
    move = VideoMove.objects.get()
    assert (move.video_id, move.from_path, move.to_path) == (video.pk, str(old), str(new))
    assert sum(job.moved for job in watch_scans(library)) == 1
    assert sum(job.new for job in watch_scans(library)) == 0
