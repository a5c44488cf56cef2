"""Journey 5: with JavaScript off, a scan starts and is cancelled through plain form posts."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.server import StoatServer
from tests.browser.steps import JobState, clip_folder, is_reading, read_job, start_scan, visit

pytestmark = pytest.mark.browser

LARGE = 4000


def reload_until(page: Page, until: Callable[[JobState], bool], timeout: float = 30.0) -> JobState:
    """Reload the job page, as a person without live updates does, until `until` holds."""
    deadline = time.monotonic() + timeout
    state = read_job(page)
    while not until(state) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.reload()
        state = read_job(page)
    return state


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_javascript_a_scan_starts_and_cancels_through_plain_forms(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    htmx_requests: list[str] = []

    def note_htmx(request: Request) -> None:
        if request.headers.get("hx-request"):
            htmx_requests.append(request.url)

    page.on("request", note_htmx)
    folder = clip_folder(media_root, "no-javascript", LARGE)
    visit(page, stoat, "/jobs/")
    job_id = start_scan(page, folder)
    job_url = page.url
    assert is_reading(reload_until(page, is_reading))

    with page.expect_navigation() as sent:
        page.get_by_role("button", name="Cancel scan").click()
    response = sent.value
    assert response is not None and response.request.method == "POST" and response.status == 200
    expect(page.get_by_role("status")).to_have_text(
        "Cancel requested: the scan stops at the next file."
    )
    # The worker may have stopped before this page was drawn; else it is stopping.
    if read_job(page).status == "running":
        expect(page.get_by_role("button", name="Cancel scan")).to_be_disabled()
    else:
        assert read_job(page).status == "cancelled"

    page.get_by_role("link", name="← All scans").click()
    row = page.locator("table.jobs tbody tr").filter(has=page.get_by_text(str(folder)))
    deadline = time.monotonic() + 5
    while row.locator(".badge").inner_text() != "cancelled" and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.reload()
    expect(row.locator(".badge")).to_have_text("cancelled")
    row.get_by_role("link", name=str(job_id), exact=True).click()
    page.wait_for_url(job_url)
    last = read_job(page)
    assert last.status == "cancelled"
    done, found = last.done
    assert found == LARGE and 0 < done < LARGE, last.stats
    expect(page.get_by_role("button", name="Cancel scan")).to_have_count(0)
    assert htmx_requests == []
