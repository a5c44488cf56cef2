"""Scan workers run at a lower CPU priority than the web, so pages answer while a scan runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django_q.tasks import async_task, result

from tests.worker import ROOT, qcluster, worker_env

NICE_NOW = os.nice(0)


def priority_in_a_child(data_dir: Path, wanted: str) -> str:
    """Run the hook in a fresh process: niceness can never be lowered again in this one."""
    code = (
        "import django; django.setup();"
        "from stoat.scans.priority import apply_worker_nice;"
        "print(apply_worker_nice(), os.nice(0))"
    )
    env = worker_env(data_dir, STOAT_WORKER_NICE=wanted, DJANGO_SETTINGS_MODULE="stoat.settings")
    done = subprocess.run(
        [sys.executable, "-c", f"import os; {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split("\n")[-2]


@pytest.mark.django_db
def test_the_hook_raises_niceness_to_the_setting_and_clamps_it(data_dir: Path) -> None:
    assert priority_in_a_child(data_dir, "7") == f"{max(7, NICE_NOW)} {max(7, NICE_NOW)}"
    assert priority_in_a_child(data_dir, "40") == "19 19"


@pytest.mark.django_db
def test_the_hook_never_lowers_niceness(data_dir: Path) -> None:
    assert priority_in_a_child(data_dir, "0") == f"{NICE_NOW} {NICE_NOW}"
    assert priority_in_a_child(data_dir, "-5") == f"{NICE_NOW} {NICE_NOW}"


@pytest.mark.django_db
@pytest.mark.usefixtures("sync_tasks")
def test_a_task_run_in_this_process_leaves_its_priority_alone() -> None:
    # Sync mode runs django-q2's worker loop here, and sends `post_spawn` here too.
    before = os.nice(0)
    task_id = async_task("os.nice", 0)
    assert result(task_id) == before
    assert os.nice(0) == before


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_workers_tasks_run_at_the_configured_niceness(data_dir: Path) -> None:
    with qcluster(data_dir, STOAT_WORKER_NICE="13"):
        # os.nice(0) only reads the niceness: run as a task, it reports the worker's own.
        task_id = async_task("os.nice", 0)
        assert result(task_id, wait=30_000) == max(13, NICE_NOW)
