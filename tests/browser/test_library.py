"""Journey 4: searching, sorting and paging through the library, then opening one video."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.server import StoatServer
from tests.browser.steps import clip_folder, start_scan, visit, watch_job
from tests.media import make_clip

pytestmark = pytest.mark.browser

EPISODES = 60  # with the two below: 62 videos, a full page of 48 and a second page of 14


def card_names(page: Page) -> list[str]:
    return page.locator("#results li.card .name").all_inner_texts()


def test_searching_sorting_and_paging_the_library_then_opening_a_video(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = clip_folder(media_root, "shelf", EPISODES, prefix="episode")
    make_clip(folder / "zebra-long.mp4", seconds=3)
    make_clip(folder / "aardvark-wide.mp4", width=320, height=180)
    visit(page, stoat, "/jobs/")
    start_scan(page, folder)
    assert watch_job(page)[-1].done == (EPISODES + 2, EPISODES + 2)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    # Typing before htmx has set up the page would search by nothing: wait for the load.
    page.wait_for_url(stoat.url + "/")
    page.wait_for_load_state()
    search = page.get_by_role("searchbox", name="Search")
    search.fill("shelf")
    expect(page.locator("#results .meta")).to_have_text("62 videos matching “shelf”")
    expect(page).to_have_url(re.compile(r"[?&]q=shelf"))
    cards = page.locator("#results li.card")
    expect(cards).to_have_count(48)
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text("Page 1 of 2")

    sort = page.get_by_label("Sort by")
    sort.select_option(label="Longest first")
    expect(cards.first.locator(".name")).to_have_text("zebra-long.mp4")
    expect(cards.first.locator(".duration")).to_have_text("0:03")
    expect(page).to_have_url(re.compile(r"[?&]sort=-duration"))
    sort.select_option(label="Name (A–Z)")
    expect(cards.first.locator(".name")).to_have_text("aardvark-wide.mp4")
    show_missing = page.get_by_label("Show missing files")
    show_missing.check()
    expect(page).to_have_url(re.compile(r"[?&]missing=1"))
    show_missing.uncheck()
    expect(page).not_to_have_url(re.compile(r"[?&]missing=1"))

    pager.get_by_role("link", name="Next →").click()
    expect(pager).to_contain_text("Page 2 of 2")
    expect(cards).to_have_count(14)
    names = card_names(page)
    assert names[0] == "episode-0047.mp4" and names[-1] == "zebra-long.mp4"
    expect(search).to_have_value("shelf")
    expect(sort).to_have_value("name")
    pager.get_by_role("link", name="← Previous").click()
    expect(pager).to_contain_text("Page 1 of 2")
    assert card_names(page)[:2] == ["aardvark-wide.mp4", "episode-0000.mp4"]

    search.fill("no-such-video")
    expect(page.locator("#results .empty")).to_have_text(
        "No video matches “no-such-video”. Try part of a file or folder name."
    )
    search.fill("aardvark")
    expect(page.locator("#results .meta")).to_have_text("1 video matching “aardvark”")
    expect(pager).to_have_count(0)
    cards.first.get_by_role("link").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("aardvark-wide.mp4")
    facts = page.locator("dl.facts-table")
    expect(facts).to_contain_text("320×180")
    expect(facts).to_contain_text("H.264")
    expect(facts).to_contain_text("0:01 (25 frames)")
    # A file the browser plays shows the player, whose poster is the thumbnail, and no second
    # copy of that picture.
    player = page.get_by_label("Play aardvark-wide.mp4")
    poster = player.get_attribute("poster")
    assert poster is not None
    answer = page.request.get(stoat.url + poster)
    assert answer.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(answer.body())).width == 320
    expect(page.get_by_role("img", name="Frame from aardvark-wide.mp4")).to_have_count(0)
