"""Libraries as saved folders: the checks, the one-active-scan rule, schedules and removal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Schedule

from stoat.library.libraries import (
    LibraryError,
    LibrarySpec,
    every_text,
    format_minutes,
    parse_every,
    remove_library,
    save_library,
    scan_library,
)
from stoat.library.models import Library, Video
from stoat.scans import lifecycle
from stoat.scans.models import Job, Origin, Status
from stoat.scans.runner import run_here
from stoat.scans.tasks import library_schedule_name, scan_library_on_schedule
from tests.libraries import add_library
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def library_schedules() -> Any:
    return Schedule.objects.filter(name__startswith="stoat: rescan library")


def refused(spec: LibrarySpec, library: Library | None = None) -> LibraryError:
    schedules = library_schedules().count()
    libraries = list(Library.objects.values_list("name", "path", "cron", "every_minutes"))
    with pytest.raises(LibraryError) as caught:
        save_library(spec, library)
    # A refused change changes nothing.
    assert library_schedules().count() == schedules
    assert list(Library.objects.values_list("name", "path", "cron", "every_minutes")) == libraries
    return caught.value


def test_a_new_library_is_rescanned_every_6_hours_by_one_schedule(library_dir: Path) -> None:
    library = add_library(library_dir)

    schedule = library_schedules().get(name=library_schedule_name(library.pk))
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 360, -1)
    assert schedule.func == "stoat.scans.tasks.scan_library_on_schedule"
    wait = schedule.next_run - timezone.now()
    assert timedelta(hours=5, minutes=59) < wait <= timedelta(hours=6)


def test_saving_a_library_again_keeps_one_schedule_and_its_next_run(library_dir: Path) -> None:
    library = add_library(library_dir)
    first = library_schedules().get().next_run

    save_library(LibrarySpec(name="Videos", path=str(library_dir), watch="poll"), library)

    assert library_schedules().get().next_run == first


def test_a_cron_schedule_replaces_the_interval_and_runs_at_the_next_cron_time(
    library_dir: Path,
) -> None:
    library = add_library(library_dir)

    save_library(LibrarySpec(name="Videos", path=str(library_dir), cron="0 3 * * *"), library)

    schedule = library_schedules().get()
    assert (schedule.schedule_type, schedule.cron, schedule.minutes) == ("C", "0 3 * * *", None)
    local = timezone.localtime(schedule.next_run)
    assert (local.hour, local.minute) == (3, 0)
    assert Library.objects.get().every_minutes is None


def test_no_schedule_drops_the_schedule(library_dir: Path) -> None:
    library = add_library(library_dir)

    save_library(LibrarySpec(name="Videos", path=str(library_dir), every="off"), library)

    assert not library_schedules().exists()


@pytest.mark.parametrize(
    ("every", "minutes"), [("30m", 30), ("6h", 360), ("1d", 1440), ("90", 90), ("120s", 2)]
)
def test_intervals_are_read_in_minutes(every: str, minutes: int) -> None:
    assert parse_every(every) == minutes


def test_intervals_are_written_in_the_largest_whole_unit_and_one_of_it_in_words() -> None:
    minutes = (1440, 2880, 60, 360, 1, 45)
    assert [format_minutes(m) for m in minutes] == ["day", "2 d", "hour", "6 h", "minute", "45 min"]


def test_intervals_are_written_for_the_form_as_it_reads_them_back() -> None:
    assert [every_text(m) for m in (1440, 360, 90, None)] == ["1d", "6h", "90m", ""]
    assert [parse_every(every_text(m)) for m in (1440, 360, 90)] == [1440, 360, 90]


@pytest.mark.parametrize(
    ("every", "message"),
    [
        ("30s", "at least one minute"),
        ("0", "at least one minute"),
        ("soon", "not an interval"),
        ("90d", "at most 22 days"),
        ("1.5m", "whole number of minutes"),
    ],
)
def test_a_bad_interval_is_refused_with_its_reason(
    library_dir: Path, every: str, message: str
) -> None:
    error = refused(LibrarySpec(name="Videos", path=str(library_dir), every=every))
    assert (error.field, error.status) == ("every", 400)
    assert message in error.message


@pytest.mark.parametrize("cron", ["0 3 * *", "61 * * * *", "every night", "0 3 * * * *"])
def test_a_cron_expression_that_does_not_parse_is_refused(library_dir: Path, cron: str) -> None:
    error = refused(LibrarySpec(name="Videos", path=str(library_dir), cron=cron))
    assert (error.field, error.status) == ("cron", 400)
    assert "is not a cron expression" in error.message


def test_a_path_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.mp4").write_bytes(b"x")
    for path in (tmp_path / "file.mp4", tmp_path / "nowhere", "relative/path"):
        error = refused(LibrarySpec(name="Videos", path=str(path)))
        assert (error.field, error.status) == ("path", 400)


def test_a_folder_outside_the_scan_roots_is_refused_as_forbidden(
    settings: LazySettings, tmp_path: Path
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(tmp_path / "allowed")]
    (tmp_path / "allowed").mkdir()
    (tmp_path / "other").mkdir()

    error = refused(LibrarySpec(name="Videos", path=str(tmp_path / "other")))

    assert (error.field, error.status) == ("path", 403)
    assert "outside the folders stoat may scan" in error.message
    assert save_library(LibrarySpec(name="Videos", path=str(tmp_path / "allowed")))


def test_a_folder_overlapping_another_library_is_a_conflict(library_dir: Path) -> None:
    add_library(library_dir / "films", name="Films")
    (library_dir / "films" / "old").mkdir()

    inside = refused(LibrarySpec(name="Old", path=str(library_dir / "films" / "old")))
    around = refused(LibrarySpec(name="All", path=str(library_dir)))
    same = refused(LibrarySpec(name="Again", path=str(library_dir / "films") + "/"))

    for error in (inside, around, same):
        assert (error.field, error.status) == ("path", 409)
        assert "overlaps the library 'Films'" in error.message
    assert add_library(library_dir / "series", name="Series")


def test_a_name_in_use_is_a_conflict_and_names_are_required(library_dir: Path) -> None:
    add_library(library_dir / "a", name="Films")
    (library_dir / "b").mkdir()

    taken = refused(LibrarySpec(name=" Films ", path=str(library_dir / "b")))
    empty = refused(LibrarySpec(name="  ", path=str(library_dir / "b")))
    long = refused(LibrarySpec(name="x" * 101, path=str(library_dir / "b")))

    assert (taken.status, taken.field) == (409, "name")
    assert (empty.status, long.status) == (400, 400)


def test_bad_watch_modes_and_poll_intervals_are_refused(library_dir: Path) -> None:
    mode = refused(LibrarySpec(name="V", path=str(library_dir), watch="inotify"))
    fast = refused(LibrarySpec(name="V", path=str(library_dir), poll_seconds=1))

    assert (mode.field, fast.field) == ("watch", "poll_seconds")
    assert "auto, events, poll, off" in mode.message


def test_interval_and_cron_together_are_refused(library_dir: Path) -> None:
    error = refused(LibrarySpec(name="V", path=str(library_dir), every="1h", cron="0 3 * * *"))
    assert "not both" in error.message


def test_a_library_has_one_active_scan_however_often_it_is_asked(library_dir: Path) -> None:
    library = add_library(library_dir)
    (library_dir / "sub").mkdir()

    first = scan_library(library)
    again = scan_library(library, origin=Origin.SCHEDULE)
    sub = scan_library(library, folder=str(library_dir / "sub"), origin=Origin.WATCH)

    assert first.created and not again.created and not sub.created
    assert again.job.pk == sub.job.pk == first.job.pk
    assert Job.objects.count() == 1


def test_the_database_refuses_a_second_active_scan_of_a_library(library_dir: Path) -> None:
    library = add_library(library_dir)
    Job.objects.create(path=str(library_dir), library=library, status=Status.RUNNING)

    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(path=str(library_dir / "sub"), library=library)
    # Ended scans do not count.
    Job.objects.update(status=Status.COMPLETE)
    assert scan_library(library).created


def test_a_scheduled_run_during_a_running_scan_adds_none(library_dir: Path) -> None:
    library = add_library(library_dir)
    running = scan_library(library).job

    answer = scan_library_on_schedule(library.pk)

    assert f"scan {running.pk} is already active" in answer
    assert Job.objects.count() == 1


def test_a_scheduled_run_starts_a_scan_marked_as_scheduled(library_dir: Path) -> None:
    library = add_library(library_dir)

    scan_library_on_schedule(library.pk)

    job = Job.objects.get()
    assert (job.library, job.origin, job.path) == (library, Origin.SCHEDULE, str(library_dir))


def test_a_schedule_of_a_removed_library_removes_itself() -> None:
    Schedule.objects.create(name=library_schedule_name(99), func="x", schedule_type="I", minutes=5)

    assert "is gone" in scan_library_on_schedule(99)
    assert not library_schedules().exists()


def test_library_videos_are_the_videos_under_its_folder(library_dir: Path) -> None:
    make_clip(library_dir / "films" / "a.mp4")
    make_clip(library_dir / "films" / "deep" / "b.mp4")
    make_clip(library_dir / "films-old" / "c.mp4")
    films = add_library(library_dir / "films", name="Films")
    flat = add_library(library_dir / "films-old", name="Old", recursive=False)
    for path in (library_dir / "films", library_dir / "films-old"):
        run_here(lifecycle.create_scan(str(path)).job)

    assert sorted(films.videos().values_list("filename", flat=True)) == ["a.mp4", "b.mp4"]
    assert list(flat.videos().values_list("filename", flat=True)) == ["c.mp4"]


@pytest.mark.parametrize("forget", [False, True])
def test_removing_a_library_keeps_or_forgets_its_videos(
    library_dir: Path, data_dir: Path, forget: bool
) -> None:
    make_clip(library_dir / "films" / "a.mp4")
    make_clip(library_dir / "other" / "b.mp4")
    library = add_library(library_dir / "films", name="Films")
    job = scan_library(library).job
    run_here(job)
    run_here(lifecycle.create_scan(str(library_dir / "other")).job)
    thumbnail = data_dir / "thumbs" / Video.objects.get(filename="a.mp4").thumbnail
    assert thumbnail.is_file()

    forgotten = remove_library(library, forget_videos=forget)

    assert not Library.objects.exists()
    assert not library_schedules().exists()
    # Its scans stay in the history.
    assert Job.objects.get(pk=job.pk).library is None
    names = sorted(Video.objects.values_list("filename", flat=True))
    assert names == (["b.mp4"] if forget else ["a.mp4", "b.mp4"])
    assert forgotten == (1 if forget else 0)
    assert thumbnail.is_file() is not forget


def test_removing_a_library_cancels_its_active_scan(library_dir: Path) -> None:
    library = add_library(library_dir)
    job = scan_library(library).job

    remove_library(library, forget_videos=False)

    assert Job.objects.get(pk=job.pk).status == Status.CANCELLED
