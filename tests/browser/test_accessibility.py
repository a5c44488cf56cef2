"""Basic accessibility: labelled fields, a visible focus, a progress bar assistive technology can
read, and a scan that can be started and cancelled with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.server import StoatServer
from tests.browser.steps import (
    Traffic,
    clip_folder,
    is_reading,
    read_job,
    start_scan,
    visit,
    watch_job,
)

pytestmark = pytest.mark.browser

LARGE = 8000  # a scan of 15 s or more: the keyboard cancel ends it long before
FOCUS_STYLE_JS = """el => {
  const s = getComputedStyle(el);
  return {outline: s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth),
          shadow: s.boxShadow};
}"""


def unlabelled_fields(page: Page) -> list[str]:
    """Visible inputs, selects and text areas that no <label> names."""
    fields = page.locator("input:not([type=hidden]):visible, select:visible, textarea:visible")
    return [
        field.evaluate("el => el.outerHTML")
        for field in fields.all()
        if field.evaluate("el => el.labels.length") == 0
    ]


def tab_to(page: Page, target: Locator, most: int = 25) -> None:
    """Press Tab until `target` has the focus."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} not reached with {most} presses of Tab")


def assert_focus_is_visible(page: Page, focused: Locator) -> None:
    """The focused control draws a ring (outline or shadow) that it does not have unfocused,
    in the normal colours and in forced colours (high contrast modes, which drop shadows)."""
    for colours in ("none", "active"):
        page.emulate_media(forced_colors=colours)
        with_focus: dict[str, Any] = focused.evaluate(FOCUS_STYLE_JS)
        assert with_focus["outline"] >= 2 or with_focus["shadow"] != "none", (colours, with_focus)
        page.evaluate("() => document.activeElement.blur()")
        assert focused.evaluate(FOCUS_STYLE_JS) != with_focus, colours
        focused.focus()
    page.emulate_media(forced_colors="none")


def progress_bars_seen_by_assistive_technology(page: Page) -> list[dict[str, Any]]:
    """The progressbar nodes of Chromium's accessibility tree, with their name and values."""
    session = page.context.new_cdp_session(page)
    try:
        tree = session.send("Accessibility.getFullAXTree")
    finally:
        session.detach()
    bars = []
    for node in tree["nodes"]:
        if node.get("role", {}).get("value") != "progressbar" or node.get("ignored"):
            continue
        values = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
        # Chromium gives a range widget's current value as the node's value, not a property.
        values["valuenow"] = node.get("value", {}).get("value")
        bars.append({"name": node.get("name", {}).get("value"), **values})
    return bars


def test_every_form_field_has_a_label(
    page: Page, stoat: StoatServer, open_context: Callable[..., BrowserContext]
) -> None:
    # A stranger's first page: the sign-in form once stoat asks for one, else the library.
    stranger = open_context().new_page()
    stranger.goto(stoat.url + "/")
    assert unlabelled_fields(stranger) == []
    stranger.close()

    visit(page, stoat, "/")
    scan_box = page.locator("details.scan-box")
    if scan_box.get_attribute("open") is None:
        scan_box.locator("summary").click()
    assert unlabelled_fields(page) == []
    visit(page, stoat, "/jobs/")
    assert unlabelled_fields(page) == []


def test_a_keyboard_user_starts_a_scan_reads_its_progress_and_cancels_it(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = clip_folder(media_root, "keyboard-only", LARGE)
    visit(page, stoat, "/jobs/")
    path_field = page.get_by_label("Folder to scan")
    tab_to(page, path_field)
    assert_focus_is_visible(page, path_field)
    page.keyboard.type(str(folder))
    scan_button = page.get_by_role("button", name="Scan", exact=True)
    tab_to(page, scan_button)
    assert_focus_is_visible(page, scan_button)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    watch_job(page, until=is_reading)
    # Chromium updates its accessibility tree a moment after the DOM: allow it that moment.
    for _ in range(20):
        shown = read_job(page).bar
        bars = progress_bars_seen_by_assistive_technology(page)
        if shown is not None and [bar.get("valuenow") for bar in bars] == [int(shown)]:
            break
        page.wait_for_timeout(100)
    assert len(bars) == 1, bars
    assert bars[0]["name"] == "Scan progress"
    assert (bars[0]["valuemin"], bars[0]["valuemax"]) == (0, 100)
    assert shown is not None and bars[0]["valuenow"] == int(shown), (bars, shown)

    cancel = page.get_by_role("button", name="Cancel scan")
    polls = Traffic(urlsplit(page.url).path).watch(page)
    tab_to(page, cancel)
    assert_focus_is_visible(page, cancel)
    # A person takes a moment: two polls redraw the panel meanwhile; focus must stay put.
    assert [polls.next_answer(page), polls.next_answer(page)] == [200, 200]
    expect(cancel).to_be_focused()
    with page.expect_response(re.compile(r"/cancel$")) as answer:
        page.keyboard.press("Enter")
    # 286 when the job had already stopped by the time the answer was drawn.
    assert answer.value.status in (200, 286)
    assert "Cancel requested: the scan stops at the next file." in answer.value.text()
    assert watch_job(page)[-1].status == "cancelled"


def test_the_filter_statistics_folder_and_video_pages_can_be_read_and_used(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = clip_folder(media_root, "a11y-find", 3)
    visit(page, stoat, "/jobs/")
    start_scan(page, folder)
    watch_job(page)
    # The job page speaks through one polite region, outside the panel a poll redraws.
    assert page.locator("[aria-live]").count() == 1
    assert page.locator("[aria-live]").get_attribute("aria-live") == "polite"

    visit(page, stoat, "/?q=a11y-find")
    assert unlabelled_fields(page) == []
    codec = page.locator("#facets fieldset", has=page.locator("legend", has_text="Video codec"))
    box = codec.get_by_role("checkbox").first
    tab_to(page, box, most=40)
    assert_focus_is_visible(page, box)
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"[?&]video_codec=h264"))

    visit(page, stoat, "/stats/?video_codec=h264")
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 8
    for index in range(charts.count()):
        name = charts.nth(index).get_attribute("aria-labelledby") or ""
        title_id, desc_id = name.split()
        assert page.locator(f"#{title_id}").text_content()
        assert page.locator(f"#{desc_id}").text_content()
    expect(page.get_by_role("img", name="Videos by resolution")).to_have_count(1)
    assert page.locator("details.numbers table th[scope=col]").count() >= 2 * charts.count()

    visit(page, stoat, "/folders/?path=" + str(folder))
    crumbs = page.get_by_role("navigation", name="Folder")
    expect(crumbs.locator("[aria-current=page]")).to_have_text("a11y-find")
    assert unlabelled_fields(page) == []

    visit(page, stoat, "/?q=a11y-find")
    page.locator("#results li.card a").first.click()
    expect(page.locator("video.player")).to_have_attribute("aria-label", re.compile("^Play "))
