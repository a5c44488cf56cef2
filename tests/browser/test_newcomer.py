"""Journey 1: someone who has never used stoat scans a folder and finds their videos."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import StoatServer
from tests.browser.steps import add_unreadable_files, clip_folder, start_scan, visit, watch_job

pytestmark = pytest.mark.browser

# Enough files that the scan takes a few seconds, so the 1 s poll sees the bar move.
CLIPS = 3000
CLIP_WIDTH = 160  # tests/media.make_clip's default; the placeholder image is 480 wide


def test_a_newcomer_scans_a_folder_and_finds_the_videos_with_thumbnails(
    page: Page, fresh_stoat: StoatServer, media_root: Path
) -> None:
    folder = clip_folder(media_root, "newcomer", CLIPS)
    add_unreadable_files(folder)

    visit(page, fresh_stoat, "/")
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    expect(page.get_by_text("No videos yet")).to_be_visible()
    start_scan(page, folder)

    seen = watch_job(page)
    last = seen[-1]
    assert last.status == "complete", seen[-3:]
    running = [state.bar for state in seen if state.status == "running" and state.bar is not None]
    assert running and running[0] != "100", f"the bar was never seen part-way: {running}"
    assert len({*running, last.bar}) >= 2, f"the bar did not move: {running} then {last.bar}"
    assert last.bar == "100"
    assert last.done == (CLIPS + 2, CLIPS + 2)
    assert (last.count("New"), last.count("Not video"), last.count("Errors")) == (CLIPS, 1, 1)
    assert (last.count("Updated"), last.count("Unchanged"), last.count("Missing")) == (0, 0, 0)
    errors = page.locator("table.errors")
    expect(errors).to_contain_text("broken.mp4")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    expect(page.locator("#results .meta")).to_have_text(f"{CLIPS:,} videos")
    cards = page.locator("#results li.card")
    expect(cards).to_have_count(48)
    pages = math.ceil(CLIPS / 48)
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text(f"Page 1 of {pages}")
    for index in range(cards.count()):
        image = cards.nth(index).locator("img")
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") == CLIP_WIDTH
    page.evaluate("() => window.scrollTo(0, 0)")
