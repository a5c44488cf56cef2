"""Journey: filter the grid by a facet, read the statistics of that view, play a video and seek."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import StoatServer
from tests.browser.steps import clip_folder, start_scan, visit, watch_job
from tests.media import make_clip

pytestmark = pytest.mark.browser

PLAYER = "document.querySelector('video.player')"


def wait_for(page: Page, script: str, seconds: float = 20.0) -> None:
    """Poll until `script` is true (wait_for_function needs eval, which the CSP forbids)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {seconds} s: {script}")


def test_filtering_reading_the_statistics_then_playing_and_seeking(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = clip_folder(media_root, "find-play", 6, prefix="holiday")
    make_clip(folder / "walk.webm", seconds=6, width=320, height=240, audio=True)
    visit(page, stoat, "/jobs/")
    start_scan(page, folder)
    assert watch_job(page)[-1].done == (7, 7)

    visit(page, stoat, "/?q=find-play")
    page.wait_for_load_state()
    cards = page.locator("#results li.card")
    expect(cards).to_have_count(7)
    facets = page.locator("#facets")
    expect(facets.locator("fieldset", has_text="Container")).to_contain_text("MP4 (6)")
    vp9 = facets.locator("label", has=page.locator('input[name="video_codec"][value="vp9"]'))
    expect(vp9).to_have_text(re.compile(r"VP9\s+\(1\)"))
    vp9.locator("input").check()
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".name")).to_have_text("walk.webm")
    expect(page).to_have_url(re.compile(r"[?&]video_codec=vp9"))
    # The other facets now count within VP9 only.
    container = page.locator("#facets fieldset", has_text="Container")
    expect(container).to_contain_text("WebM (1)")
    expect(container).not_to_contain_text("MP4")

    page.get_by_role("link", name="Statistics of this view").click()
    expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()
    expect(page.locator(".totals")).to_contain_text("Videos1")
    chart = page.get_by_role("img", name="Videos by video codec")
    expect(chart).to_be_visible()
    expect(page.locator("#codec-videos table")).to_contain_text("VP9")

    streamed: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda r: (
            streamed.append((r.status, r.headers.get("content-range", "")))
            if r.url.endswith("/stream")
            else None
        ),
    )
    visit(page, stoat, "/?q=find-play&video_codec=vp9")
    cards.first.locator("a").first.click()
    video = page.locator("video.player")
    expect(video).to_be_visible()
    wait_for(page, f"{PLAYER}.readyState >= 1")
    assert page.evaluate(f"{PLAYER}.duration") > 5
    page.evaluate(f"{PLAYER}.currentTime = 4")
    wait_for(page, f"!{PLAYER}.seeking && {PLAYER}.currentTime > 3.5")
    page.evaluate(f"{PLAYER}.muted = true; {PLAYER}.play()")
    wait_for(page, f"{PLAYER}.currentTime > 4.2")
    # The player asked for byte ranges, and got them.
    assert streamed and all(status == 206 for status, _ in streamed), streamed
    assert all(re.fullmatch(r"bytes \d+-\d+/\d+", part) for _, part in streamed), streamed
