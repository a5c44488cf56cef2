"""The watcher's parts in this process: mounts, settling, scopes, leases, feeds and one loop."""

from __future__ import annotations

import errno
import io
import os
import queue
import shutil
import signal
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import call_command
from django.utils import timezone

from stoat.library.models import Library, Video, WatchMode
from stoat.scans.models import Job, Origin, Status
from stoat.watch import lease
from stoat.watch.changes import Scope, Settler, describe, scope_of, sort_changes
from stoat.watch.feed import (
    LIMIT_OF_WATCHERS,
    LIMIT_OF_WATCHES,
    ChangesMessage,
    Feed,
    Message,
    ModeMessage,
    Target,
    first_mode,
    refusal,
)
from stoat.watch.models import Mode, WatchLease
from stoat.watch.mounts import events_work_on, mount_type
from stoat.watch.state import describe_watch
from stoat.watch.watcher import Watcher, known_folder
from tests.libraries import add_library
from tests.media import make_clip
from tests.worker import wait_for

TABLE = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:40 / /srv/nas rw,relatime shared:2 - nfs4 nas:/export rw
41 40 0:41 / /srv/nas/local\\040disk rw - xfs /dev/sdb1 rw
42 22 0:42 / /media/fuse rw - fuse.sshfs host: rw
"""


def test_the_deepest_mount_holding_a_folder_gives_its_type() -> None:
    assert mount_type("/srv/nas/films", TABLE) == "nfs4"
    assert mount_type("/srv/nas/local disk/films", TABLE) == "xfs"
    assert mount_type("/home/me", TABLE) == "ext4"
    assert mount_type("/media/fuse/x", TABLE) == "fuse.sshfs"
    assert mount_type("/anything", "garbage line\n") == ""


def test_events_are_trusted_on_local_file_systems_only() -> None:
    assert events_work_on("ext4") and events_work_on("tmpfs")
    for kind in ("nfs4", "cifs", "smb3", "fuse.sshfs", "9p", ""):
        assert not events_work_on(kind)


def test_auto_polls_on_network_mounts_and_the_modes_can_be_forced(tmp_path: Path) -> None:
    local = Target(1, str(tmp_path), True, "auto", 60)
    assert first_mode(local) == (False, "")
    assert first_mode(Target(1, "/proc/self", True, "auto", 60))[0] is True
    assert first_mode(Target(1, "/proc/self", True, "events", 60)) == (False, "")
    assert first_mode(local.__class__(1, str(tmp_path), True, "poll", 60)) == (True, "")


def test_refusals_are_told_from_other_failures() -> None:
    assert refusal(OSError(errno.ENOSPC, "no space")) == LIMIT_OF_WATCHES
    assert refusal(RuntimeError("OS file watch limit reached.")) == LIMIT_OF_WATCHES
    assert refusal(RuntimeError("Too many open files (os error 24)")) == LIMIT_OF_WATCHERS
    assert refusal(FileNotFoundError(errno.ENOENT, "gone")) is None
    assert refusal(RuntimeError("something else")) is None


def test_a_file_settles_once_unchanged_for_the_settling_time(tmp_path: Path) -> None:
    now = [0.0]
    settler = Settler(1.0, clock=lambda: now[0])
    growing, gone = tmp_path / "a.mp4", tmp_path / "gone.mp4"
    growing.write_bytes(b"1")
    settler.add([str(growing), str(gone)])

    assert settler.ready() == []  # first look
    now[0] = 0.6
    growing.write_bytes(b"12")
    assert settler.ready() == []
    now[0] = 1.2
    # The vanished file held still for the settling time; the growing one changed since.
    assert settler.ready() == [str(gone)]
    now[0] = 1.7
    assert settler.ready() == [str(growing)]
    assert len(settler) == 0


def test_a_file_that_never_stops_changing_is_never_given_up(tmp_path: Path) -> None:
    now = [0.0]
    settler = Settler(1.0, clock=lambda: now[0])
    path = tmp_path / "recording.mp4"
    settler.add([str(path)])
    for step in range(50):
        path.write_bytes(b"x" * (step + 1))
        now[0] += 2.0
        assert settler.ready() == []
    assert len(settler) == 1


def test_one_scope_covers_all_changes() -> None:
    root = "/lib"
    assert scope_of(["/lib/a/1.mp4", "/lib/a/2.mp4"], [], root, True) == Scope("/lib/a", False)
    assert scope_of(["/lib/a/1.mp4", "/lib/b/2.mp4"], [], root, True) == Scope("/lib", True)
    assert scope_of(["/lib/a/x/1.mp4"], ["/lib/a/y"], root, True) == Scope("/lib/a", True)
    assert scope_of(["/lib/a/1.mp4"], [], root, False) == Scope("/lib", False)
    assert scope_of([], ["/lib/new"], root, True) == Scope("/lib/new", True)
    assert describe(["/lib/a/1.mp4"] * 3, [], Scope("/lib/a", False)) == "watch: 3 files in /lib/a"
    assert describe([], ["/lib/new"], Scope("/lib/new", True)) == "watch: changes in /lib/new"


def test_changes_are_sorted_into_videos_and_folders(tmp_path: Path) -> None:
    root = str(tmp_path)
    (tmp_path / "new").mkdir()
    changes = {
        (1, f"{root}/a.mp4"),
        (1, f"{root}/notes.txt"),
        (1, f"{root}/.hidden.mp4"),
        (1, f"{root}/@eaDir/x.mp4"),
        (1, f"{root}/new"),
        (2, f"{root}/new"),
        (3, f"{root}/old"),
        (3, f"{root}/unknown"),
        (1, "/elsewhere/b.mp4"),
    }

    files, folders = sort_changes(changes, root, frozenset({"mp4"}), lambda p: p.endswith("old"))

    assert files == {f"{root}/a.mp4"}
    assert folders == {f"{root}/new", f"{root}/old"}


@pytest.mark.django_db
def test_a_lease_is_held_by_one_watcher_until_it_goes_stale(library_dir: Path) -> None:
    library = add_library(library_dir)

    assert lease.take(library.pk, "a:1")
    assert not lease.take(library.pk, "b:2")
    assert lease.renew(library.pk, "a:1") and not lease.renew(library.pk, "b:2")
    assert lease.report(library.pk, "a:1", Mode.EVENTS)
    WatchLease.objects.update(heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert lease.take(library.pk, "b:2")
    assert not lease.renew(library.pk, "a:1")
    lease.release(library.pk, "b:2")
    assert WatchLease.objects.get().holder == ""


@pytest.mark.django_db
def test_a_lease_of_a_dead_process_on_this_host_is_taken_at_once(library_dir: Path) -> None:
    library = add_library(library_dir)
    dead = os.getpid() + 4_000_000  # above any pid Linux hands out
    assert lease.take(library.pk, f"here:{dead}")

    assert not lease.take(library.pk, "elsewhere:1")
    assert lease.take(library.pk, "here:1")


@pytest.mark.django_db
def test_the_watch_state_in_words(library_dir: Path) -> None:
    library = add_library(library_dir, poll_seconds=30)
    assert describe_watch(library).startswith("not watching: no watcher is running")
    lease.take(library.pk, "a:1")
    library = Library.objects.get()
    assert describe_watch(library) == "not watching: starting"
    lease.report(library.pk, "a:1", Mode.POLL, "the folder is on a nfs4 file system")
    library = Library.objects.get()
    assert describe_watch(library) == (
        "watching by polling every 30 s; the folder is on a nfs4 file system"
    )
    lease.report(library.pk, "a:1", Mode.FAILED, "/x: gone")
    assert describe_watch(Library.objects.get()) == "not watching: /x: gone"
    Library.objects.update(watch=WatchMode.OFF)
    assert describe_watch(Library.objects.get()) == "not watching (watch mode off)"


def feed_messages(target: Target, count: int) -> list[Message]:
    out: queue.Queue[Message] = queue.Queue()
    feed = Feed(target, out)
    feed.start()
    try:
        return [out.get(timeout=20) for _ in range(count)]
    finally:
        feed.stop()
        feed.join(timeout=10)


def test_a_feed_reports_events_and_changes(tmp_path: Path) -> None:
    out: queue.Queue[Message] = queue.Queue()
    feed = Feed(Target(7, str(tmp_path), True, "events", 60), out)
    feed.start()
    try:
        assert out.get(timeout=20) == ModeMessage(7, Mode.EVENTS, "")
        (tmp_path / "new.mp4").write_bytes(b"x")
        message = out.get(timeout=20)
    finally:
        feed.stop()
        feed.join(timeout=10)
    assert isinstance(message, ChangesMessage)
    assert str(tmp_path / "new.mp4") in {path for _, path in message.changes}
    assert not feed.is_alive()


def test_a_refused_feed_polls_and_says_why(settings: LazySettings, tmp_path: Path) -> None:
    settings.STOAT_WATCH_REFUSE_EVENTS = "EMFILE"
    (mode,) = feed_messages(Target(7, str(tmp_path), True, "auto", 5), 1)
    assert mode == ModeMessage(
        7, Mode.POLL, f"file-system events were refused: {LIMIT_OF_WATCHERS}"
    )


def test_a_feed_of_a_missing_folder_says_it_cannot_watch(tmp_path: Path) -> None:
    (mode,) = feed_messages(Target(7, str(tmp_path / "gone"), True, "events", 60), 1)
    assert isinstance(mode, ModeMessage) and mode.mode == Mode.FAILED
    assert "trying again in 30 s" in mode.reason


@pytest.mark.django_db
def test_known_folders_are_those_holding_present_videos() -> None:
    Video.objects.create(
        path="/lib/a/x.mp4", folder="/lib/a", filename="x.mp4", size=1, mtime_ns=1,
        width=1, height=1, video_codec="h264",
    )  # fmt: skip
    assert known_folder("/lib/a") and known_folder("/lib")
    assert not known_folder("/lib/b")


@pytest.mark.django_db(transaction=True)
def test_one_watcher_loop_compares_then_scans_changes_after_the_active_scan(
    settings: LazySettings, library_dir: Path, tmp_path: Path
) -> None:
    settings.STOAT_WATCH_SETTLE = 0.2
    library = add_library(library_dir, every="off")
    watcher = Watcher("test:1")

    def tick_until(condition: object, what: str) -> None:
        def step() -> bool:
            watcher.tick()
            return bool(condition())  # type: ignore[operator]

        wait_for(step, 20, what)

    try:
        tick_until(lambda: WatchLease.objects.filter(mode=Mode.EVENTS).exists(), "the feed")
        comparison = Job.objects.get()
        assert comparison.label.startswith("watch: comparing")
        shutil.copy(make_clip(tmp_path / "clip.mp4"), library_dir / "new.mp4")
        # The comparison is still active: the change waits for it.
        tick_until(lambda: watcher.watched[library.pk].ready_files, "the file to settle")
        assert Job.objects.count() == 1
        Job.objects.update(status=Status.COMPLETE)
        tick_until(lambda: Job.objects.count() == 2, "the change's scan")
        scan = Job.objects.latest("id")
        assert (scan.origin, scan.label) == (Origin.WATCH, f"watch: 1 file in {library_dir}")

        # Another watcher took the lease over: this one stops watching.
        WatchLease.objects.update(holder="other:2")
        watcher.watched[library.pk].renewed = 0.0
        watcher.next_refresh = 0.0
        watcher.tick()
        assert library.pk not in watcher.watched

        # Back to this one, then the library is switched off: the lease is let go.
        WatchLease.objects.update(holder="", heartbeat_at=None)
        watcher.next_refresh = 0.0
        watcher.tick()
        assert library.pk in watcher.watched
        Library.objects.update(watch=WatchMode.OFF)
        watcher.next_refresh = 0.0
        watcher.tick()
        assert library.pk not in watcher.watched
        assert WatchLease.objects.get().holder == ""
    finally:
        watcher.stop()


@pytest.mark.django_db(transaction=True)
def test_the_watch_command_watches_until_sigterm_and_lets_its_leases_go(
    library_dir: Path,
) -> None:
    library = add_library(library_dir, every="off")
    out = io.StringIO()

    def stop_once_watching() -> None:
        wait_for(
            lambda: WatchLease.objects.filter(library=library, mode=Mode.EVENTS).exists(),
            20,
            "the command to watch",
        )
        os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_once_watching)
    stopper.start()
    call_command("watch", stdout=out)
    stopper.join()

    assert "running" in out.getvalue() and "stopped" in out.getvalue()
    assert WatchLease.objects.get().holder == ""
