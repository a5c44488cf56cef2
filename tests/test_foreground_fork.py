"""`manage.py scan PATH` as a person runs it: its own process, which forks its readers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stoat.library.models import Video
from stoat.scans.models import Job, Status
from stoat.scans.parallel import start_method
from tests.media import make_clip
from tests.worker import ROOT, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def library(folder: Path, count: int) -> None:
    clip = make_clip(folder / "c000.mp4", seconds=0.2)
    for index in range(1, count):
        sub = folder / f"part{index % 3}"
        sub.mkdir(exist_ok=True)
        shutil.copyfile(clip, sub / f"c{index:03d}.mp4")


def command(folder: Path, data_dir: Path, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "scan", str(folder), "--processes", "2"],
        cwd=ROOT,
        env=worker_env(data_dir, STOAT_SCAN_ROOTS="", **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def test_a_process_alone_forks_its_readers_and_one_with_threads_spawns_them() -> None:
    program = (
        "import django; django.setup()\n"
        "from stoat.scans.parallel import start_method\nprint(start_method())"
    )
    alone = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="stoat.settings"),
        capture_output=True,
        check=True,
    )
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert (alone.stdout.strip(), start_method()) == (b"fork", "spawn")
    finally:
        release.set()


def test_the_command_reads_every_file_with_forked_readers(
    library_dir: Path, data_dir: Path
) -> None:
    library(library_dir, 24)

    scan = command(library_dir, data_dir)
    out, err = scan.communicate(timeout=120)

    assert scan.returncode == 0, err.decode()
    assert b"2 reader processes" in out and b"complete: 24 new" in out
    job = Job.objects.get()
    assert (job.status, job.processed, job.new, job.error_count) == (Status.COMPLETE, 24, 24, 0)
    thumbs = data_dir / "thumbs"
    assert all((thumbs / video.thumbnail).stat().st_size > 0 for video in Video.objects.all())


def test_ctrl_c_cancels_the_command_within_a_second_keeping_what_was_read(
    library_dir: Path, data_dir: Path
) -> None:
    library(library_dir, 150)
    scan = command(library_dir, data_dir, STOAT_PROGRESS_INTERVAL="0.02")
    try:

        def read_some() -> bool:
            job = Job.objects.first()
            return job is not None and job.processed >= 4

        wait_for(read_some, 60, "the first files to be read")
        readers = children(scan.pid)
        # Forked: the readers run the command's own program, not `python -c …spawn_main…`.
        assert len(readers) == 2 and all(cmdline(pid) == cmdline(scan.pid) for pid in readers)
        fired = time.time()
        scan.send_signal(signal.SIGINT)
        scan.communicate(timeout=60)
    finally:
        scan.kill()

    assert scan.returncode == 2
    job = Job.objects.get()
    assert job.status == Status.CANCELLED and job.finished_at is not None
    assert job.finished_at.timestamp() - fired < 1.0
    assert 4 <= job.processed < 150
    assert Video.objects.count() == job.new == job.processed
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in readers), 30, "readers")
