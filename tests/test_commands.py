from __future__ import annotations

import io
import logging
import re
import signal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from stoat.scans import scanner
from stoat.scans.models import TERMINAL, Job, Status
from tests.conftest import make_job
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_scan_command_reports_counts_and_exits_zero(library_dir: Path) -> None:
    make_clip(library_dir / "a.mp4")
    make_clip(library_dir / "sub" / "b.mp4")

    out, err = run("scan", str(library_dir))

    job = Job.objects.get()
    assert job.status == Status.COMPLETE
    assert f"scan #{job.pk}" in out
    assert "100%" in out
    assert "complete: 2 new" in out
    assert Video.objects.count() == 2


def test_scan_command_lists_unreadable_files(library_dir: Path) -> None:
    (library_dir / "bad.mp4").write_bytes(b"\x00" * 100)
    out, err = run("scan", str(library_dir))
    assert "1 error, 0 missing" in out
    assert "1 errors" not in out
    assert str(library_dir / "bad.mp4") in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_scan_command_prints_whole_lines_when_its_output_is_not_a_terminal(
    library_dir: Path,
) -> None:
    make_clip(library_dir / "a.mp4")
    (library_dir / "bad.mp4").write_bytes(b"\x00" * 100)

    out, err = run("scan", str(library_dir))

    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0].startswith("scan #")
    assert lines[-2].startswith("[###") and lines[-2].endswith(" 1 error")
    assert " 2/2 " in lines[-2]
    assert lines[-1] == "complete: 1 new, 0 updated, 0 unchanged, 0 not video, 1 error, 0 missing"


def test_scan_command_redraws_one_line_on_a_terminal(library_dir: Path) -> None:
    make_clip(library_dir / "a.mp4")
    out = Terminal()

    call_command("scan", str(library_dir), stdout=out, stderr=io.StringIO())

    text = out.getvalue()
    assert text.count("\n") == 3  # the title, the bar drawn over itself, the summary
    final = text.split("\n")[1].rsplit("\r", 1)[1]
    assert final.startswith("[###")
    assert " 1/1 " in final and final.endswith(" 0 errors")


def test_scan_command_without_recursion_stays_in_the_folder(library_dir: Path) -> None:
    make_clip(library_dir / "a.mp4")
    make_clip(library_dir / "sub" / "b.mp4")
    run("scan", str(library_dir), "--no-recursive")
    assert list(Video.objects.values_list("filename", flat=True)) == ["a.mp4"]


def test_scan_command_refuses_a_bad_path() -> None:
    with pytest.raises(CommandError, match="not a folder"):
        run("scan", "/no/such/folder")


def test_scan_command_queue_hands_the_job_to_the_workers(
    library_dir: Path, django_capture_on_commit_callbacks: object
) -> None:
    out, err = run("scan", str(library_dir), "--queue")
    job = Job.objects.get()
    assert out.strip() == str(job.pk)
    assert job.status == Status.PENDING

    again, warning = run("scan", str(library_dir), "--queue")
    assert again.strip() == str(job.pk)
    assert "already active" in warning


# Committed for real, so the task is queued while the command runs, as outside the tests.
@pytest.mark.django_db(transaction=True)
def test_scan_queue_prints_the_job_id_and_nothing_of_the_queue_s_own_numbers(
    library_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="django-q"):
        out, err = run("scan", str(library_dir), "--queue")

    assert out.strip() == str(Job.objects.get().pk)
    assert err == ""
    assert not [r for r in caplog.records if r.name == "django-q"], caplog.text
    assert logging.getLogger("django-q").level == logging.INFO


def test_scan_command_refuses_to_run_beside_an_active_scan(library_dir: Path) -> None:
    run("scan", str(library_dir), "--queue")
    with pytest.raises(CommandError, match="already active"):
        run("scan", str(library_dir))


def test_ctrl_c_cancels_the_scan_and_keeps_what_was_read(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(6):
        make_clip(library_dir / f"c{index}.mp4")
    real_read = scanner.read_video
    reads: list[str] = []

    def read_then_interrupt(item: scanner.ReadItem) -> Video:
        reads.append(item.path)
        if len(reads) == 2:
            signal.raise_signal(signal.SIGINT)
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", read_then_interrupt)

    with pytest.raises(SystemExit) as exit_info:
        run("scan", str(library_dir), "--processes", "1")

    assert exit_info.value.code == 2
    job = Job.objects.get()
    assert (job.status, job.processed, job.new) == (Status.CANCELLED, 2, 2)
    assert job.cancel_requested_at is not None
    assert Video.objects.count() == 2


def test_ctrl_c_before_the_first_file_cancels_the_scan_instead_of_leaving_it_pending(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_clip(library_dir / "a.mp4")
    # The moment a real Ctrl-C hit: the job made, the readers still being prepared.
    monkeypatch.setattr(
        "stoat.scans.management.commands.scan.freeze_loaded",
        lambda: signal.raise_signal(signal.SIGINT),
    )

    with pytest.raises(SystemExit) as exit_info:
        run("scan", str(library_dir), "--processes", "1")

    assert exit_info.value.code == 2
    job = Job.objects.get()
    assert (job.status, job.processed) == (Status.CANCELLED, 0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # Nothing is left active: the next scan of the folder runs.
    monkeypatch.undo()
    run("scan", str(library_dir), "--processes", "1")
    assert Job.objects.latest("pk").status == Status.COMPLETE
    assert Video.objects.count() == 1


def test_a_scan_refused_beside_an_active_one_says_how_to_stop_that_one(library_dir: Path) -> None:
    first = run("scan", str(library_dir), "--queue")[0].strip()
    with pytest.raises(CommandError, match=rf"manage.py cancel {first}"):
        run("scan", str(library_dir))


def test_jobs_command_lists_and_filters() -> None:
    assert run("jobs")[0].strip() == "no jobs"
    make_job(status=Status.COMPLETE, path="/srv/a")
    make_job(status=Status.FAILED, path="/srv/b")

    everything = run("jobs")[0]
    failed = run("jobs", "--status", "failed")[0]

    assert "/srv/a" in everything and "/srv/b" in everything
    assert "/srv/b" in failed and "/srv/a" not in failed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("jobs", "--limit", "0"), "argument --limit: 0 is out of range: give 1 or more"),
        (("jobs", "--limit", "-5"), "argument --limit: -5 is out of range: give 1 or more"),
        (("jobs", "--limit", "ten"), "argument --limit: 'ten' is not a whole number"),
        (
            ("scan", "/srv", "--processes", "0"),
            "argument --processes: 0 is out of range: give from 1 to",
        ),
        (("scan", "/srv", "--processes", "100000"), "argument --processes: 100000 is out of range"),
    ],
)
def test_counts_out_of_range_are_refused_with_the_range(
    args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)
    assert not Job.objects.exists()


def test_cancel_command_follows_the_same_rules_as_the_view(client: Client) -> None:
    pending = make_job()
    running = make_job(status=Status.RUNNING)

    assert run("cancel", str(pending.pk))[0] == f"Job {pending.pk}: Cancelled before it started.\n"
    assert run("cancel", str(running.pk))[0] == (
        f"Job {running.pk}: Cancel requested: the scan stops at the next file.\n"
    )
    assert Job.objects.get(pk=pending.pk).status == Status.CANCELLED
    assert Job.objects.get(pk=running.pk).cancel_requested_at is not None

    with pytest.raises(CommandError, match="not found") as missing:
        run("cancel", "999")
    assert missing.value.returncode == 4
    assert client.post(reverse("scans:cancel", args=[999])).status_code == 404


@pytest.mark.parametrize("status", TERMINAL)
def test_cancel_command_and_view_agree_on_finished_jobs(client: Client, status: str) -> None:
    job = make_job(status=status)

    with pytest.raises(CommandError, match=f"already ended as {status}") as ended:
        run("cancel", str(job.pk))

    assert ended.value.returncode == 9
    assert client.post(reverse("scans:cancel", args=[job.pk])).status_code == 409
    assert Job.objects.get(pk=job.pk).status == status
