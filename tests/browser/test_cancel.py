"""Journeys 2 and 3: cancelling a running scan, and cancelling one that has already ended."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.recorder import Recorder
from tests.browser.server import StoatServer
from tests.browser.steps import (
    Traffic,
    clip_folder,
    horizontal_overflow,
    is_reading,
    polls_once_timers_ran,
    read_job,
    start_scan,
    visit,
    watch_job,
)
from tests.hanging import hanging_file, release
from tests.media import make_clip

pytestmark = pytest.mark.browser

LARGE = 4000  # a scan of 8 s or more: the cancel ends it long before
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Cancel reaches the worker at its next file; the page learns it on its next 1 s poll.
CANCEL_SHOWN_WITHIN = 3.0


@pytest.mark.browser_context_args(**PHONE)
def test_on_a_phone_cancel_stops_a_large_scan_keeps_its_counts_and_ends_polling(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = clip_folder(media_root, "large-then-cancelled", LARGE)
    # The page's timers run on a clock the test can move on (at the real pace until then).
    page.clock.install()
    visit(page, stoat, "/")
    assert horizontal_overflow(page) == 0
    job_id = start_scan(page, folder)
    job_path = f"/jobs/{job_id}/"
    polls = Traffic(job_path).watch(page)
    assert horizontal_overflow(page) == 0

    watch_job(page, until=is_reading)
    cancel = page.get_by_role("button", name="Cancel scan")
    # A poll may redraw the panel between finding the button and measuring it (no box then):
    # measured again until a drawn button answers.
    box = None
    for _ in range(40):
        box = cancel.bounding_box()
        if box is not None:
            break
        page.wait_for_timeout(25)
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    tapped = time.monotonic()
    # The answer's message shows until the next poll redraws the panel (as "Stopping…").
    with page.expect_response(f"**/jobs/{job_id}/cancel") as answer:
        cancel.tap()
    # 286 when the job had already stopped by the time the answer was drawn.
    assert answer.value.status in (200, 286)
    assert "Cancel requested: the scan stops at the next file." in answer.value.text()
    answered = time.monotonic()
    seen = watch_job(page)
    shown_after = time.monotonic() - tapped

    last = seen[-1]
    assert last.status == "cancelled", seen[-3:]
    assert shown_after <= CANCEL_SHOWN_WITHIN, f"cancelled shown {shown_after:.1f}s after the tap"
    done, found = last.done
    assert found == LARGE and 0 < done < LARGE, last.stats
    assert last.count("New") == done
    expect(cancel).to_have_count(0)
    expect(page.get_by_text("None among the files it read.")).to_be_visible()

    # Polling ends with a 286: a poll's, or the cancel's own when the job had ended already.
    stopped = [at for at, status in polls.answers if status == 286]
    if answer.value.status == 286:
        stopped.insert(0, answered)
    assert stopped, f"no 286 answer ended the polling: {polls.answers}"
    assert polls_once_timers_ran(page, polls, stopped[0]) == 0
    assert read_job(page).stats == last.stats
    assert horizontal_overflow(page) == 0


def test_a_poll_still_on_its_way_when_cancel_is_pressed_is_dropped_not_drawn(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = clip_folder(media_root, "cancel-during-a-poll", LARGE)
    visit(page, stoat, "/jobs/")
    job_id = start_scan(page, folder)
    watch_job(page, until=is_reading)
    held: list[Route] = []
    polls = f"**/jobs/{job_id}/?said=*"
    # The next poll's answer is kept back until the cancel's has been drawn.
    page.route(polls, lambda route: held.append(route))
    for _ in range(60):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "no poll was sent while the scan was reading"

    with page.expect_response(f"**/jobs/{job_id}/cancel") as answer:
        page.get_by_role("button", name="Cancel scan").click()
    assert answer.value.status in (200, 286)
    page.unroute(polls)
    for route in held:
        # Refused when the page gave up on it: what the cancel is meant to do.
        with contextlib.suppress(PlaywrightError):
            route.continue_()
    # Drawn late, its answer would meet a panel that is no longer there (htmx's
    # oobErrorNoTarget in the console, which the recorder fails the journey on).
    page.wait_for_timeout(500)
    assert watch_job(page)[-1].status == "cancelled"


def test_cancel_in_a_tab_that_missed_the_end_explains_the_409(
    context: BrowserContext,
    page: Page,
    open_context: Callable[..., BrowserContext],
    stoat: StoatServer,
    media_root: Path,
    recorder: Recorder,
) -> None:
    folder = clip_folder(media_root, "ends-in-another-tab", 50)
    # Its own file (the others are links to one): while it is held, the scan cannot end.
    held = make_clip(folder / "zz-held.mp4")
    with hanging_file(held) as holder:
        visit(page, stoat, "/jobs/")
        job_id = start_scan(page, folder)

        # The second tab shares the login; it gets its own context only because Playwright's
        # clock is per context, and only this tab's clock is held.
        stale = open_context(storage_state=context.storage_state()).new_page()
        # A tab whose next poll has not come yet: its timers are held, so it stays as loaded.
        stale.clock.install()
        stale.clock.pause_at(time.time() + 1)
        stale.goto(page.url)
        assert read_job(stale).status in ("pending", "running")
        late_cancel = stale.get_by_role("button", name="Cancel scan")
        expect(late_cancel).to_be_enabled()
        release(holder)

    assert watch_job(page)[-1].status == "complete"
    recorder.expect_status(409, f"/jobs/{job_id}/cancel")
    polls = Traffic(f"/jobs/{job_id}/").watch(stale)
    late_cancel.click()
    clicked = time.monotonic()

    expect(stale.get_by_role("status")).to_have_text(
        "This job had already ended as complete; there is nothing to cancel."
    )
    assert read_job(stale).status == "complete"
    expect(late_cancel).to_have_count(0)
    expect(stale.get_by_role("heading", name=f"Scan #{job_id}")).to_be_visible()
    expect(stale.get_by_role("navigation", name="Main")).to_be_visible()
    # The 409 also brought the rest of the page up to date.
    expect(stale.get_by_text("None — every file found was read.")).to_be_visible()
    assert polls_once_timers_ran(stale, polls, clicked) == 0
    recorder.page = stale
