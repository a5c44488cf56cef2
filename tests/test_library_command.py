"""`manage.py library add|list|scan|remove`: the same service as the page, with exit codes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import CommandError, call_command

from stoat.library.models import Library, Video
from stoat.scans.models import Job, Origin
from stoat.scans.runner import run_here
from tests.libraries import add_library
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("library", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def exit_code(*args: str) -> int:
    with pytest.raises(SystemExit) as stopped:
        run(*args)
    return int(str(stopped.value.code))


def test_add_saves_the_library_and_queues_its_first_scan(library_dir: Path) -> None:
    out, _ = run("add", "Films", str(library_dir), "--cron", "0 3 * * *", "--watch", "poll")

    library = Library.objects.get()
    assert (library.cron, library.every_minutes, library.watch) == ("0 3 * * *", None, "poll")
    assert "rescan cron 0 3 * * *" in out
    assert f"first scan: job {Job.objects.get(library=library).pk}" in out


def test_add_with_an_interval_and_without_a_first_scan(library_dir: Path) -> None:
    run("add", "Films", str(library_dir), "--every", "30m", "--no-scan", "--no-recursive")

    library = Library.objects.get()
    assert (library.every_minutes, library.recursive) == (30, False)
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "20s"], "at least one minute"),
        (["--cron", "0 3 * *"], "is not a cron expression"),
        (["--watch", "inotify"], "is not a watch mode"),
    ],
)
def test_add_refuses_bad_input_with_a_message_and_exit_1(
    library_dir: Path, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("add", "Films", str(library_dir), *args)
    assert not Library.objects.exists()


def test_add_refuses_a_path_that_is_not_a_folder_or_outside_the_roots(
    settings: LazySettings, library_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="is not a folder"):
        run("add", "Films", str(library_dir / "nowhere"))
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    with pytest.raises(CommandError, match="outside the folders"):
        run("add", "Films", str(tmp_path))


def test_add_of_an_overlapping_folder_exits_9(library_dir: Path) -> None:
    add_library(library_dir)
    (library_dir / "sub").mkdir()

    assert exit_code("add", "Sub", str(library_dir / "sub")) == 9
    assert Library.objects.count() == 1


def test_list_shows_each_library_with_its_schedule_and_last_scan(library_dir: Path) -> None:
    assert "no libraries yet" in run("list")[0]
    make_clip(library_dir / "a.mp4")
    add_library(library_dir)
    run("scan", "Videos")
    run_here(Job.objects.get())

    out, _ = run("list")

    assert out.startswith(f"Videos\t{library_dir}\tevery 6 h, next ")
    assert "complete" in out and "(1 new, 0 errors)" in out
    assert "not watching: no watcher is running" in out


def test_scan_prints_the_job_and_points_at_the_active_one(library_dir: Path) -> None:
    add_library(library_dir)

    first, _ = run("scan", "Videos")
    again, err = run("scan", "Videos")

    job = Job.objects.get()
    assert first.strip() == again.strip() == str(job.pk)
    assert job.origin == Origin.MANUAL
    assert "already active" in err


def test_an_unknown_library_exits_4(library_dir: Path) -> None:
    assert exit_code("scan", "Nope") == 4
    assert exit_code("remove", "Nope", "--keep-videos") == 4


def test_remove_needs_to_be_told_what_to_do_with_the_videos(library_dir: Path) -> None:
    make_clip(library_dir / "a.mp4")
    add_library(library_dir)
    run("scan", "Videos")
    run_here(Job.objects.get())
    with pytest.raises(CommandError):
        run("remove", "Videos")

    out, _ = run("remove", "Videos", "--forget-videos")

    assert "1 videos forgotten" in out
    assert not Library.objects.exists() and not Video.objects.exists()
