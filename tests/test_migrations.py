"""Renamed job fields keep what was stored under their old names."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("scans", "0004_job_path_key")]
AFTER = [("scans", "0005_rename_error_fields")]


@pytest.mark.django_db(transaction=True)
def test_renaming_the_error_fields_keeps_their_values() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    job = old.get_model("scans", "Job").objects.create(
        path="/srv/videos", path_key="k", status="failed", errors=3, error="worker lost"
    )
    old.get_model("scans", "ScanError").objects.create(job=job, path="/a.mp4", message="bad")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    moved = new.get_model("scans", "Job").objects.get(pk=job.pk)
    assert (moved.error_count, moved.failure_reason) == (3, "worker lost")
    assert [e.message for e in moved.file_errors.all()] == ["bad"]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
