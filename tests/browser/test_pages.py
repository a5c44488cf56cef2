"""Journey 6: the pages as a person meets them (issue 19): no dead ends, clear words, and every
page at desktop and phone width in light and dark, kept as screenshots."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import artifacts_folder, run_server
from tests.browser.recorder import Recorder
from tests.browser.server import PASSWORD, USERNAME, StoatServer
from tests.browser.steps import (
    JobState,
    button_contrasts,
    has_ended,
    horizontal_overflow,
    is_reading,
    read_job,
    start_scan,
    visit,
    watch_job,
)
from tests.browser.test_accessibility import unlabelled_fields
from tests.media import make_audio_file, make_clip

pytestmark = pytest.mark.browser

DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)
# Long enough that both the scan and its continuation are still reading when Cancel is pressed:
# at ~470 files/s under coverage the first scan read 3,646 of 4,000 before its cancel.
LARGE = 12000


def own_clip_folder(root: Path, name: str, count: int, width: int) -> Path:
    """`count` hard links to one clip whose bytes no other journey makes: a file this journey
    deletes is never taken for another journey's file moved (same fingerprint)."""
    folder = root / f"{name}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    source = make_clip(root / "sources" / f"{folder.name}.mp4", width=width, height=width // 2)
    for index in range(count):
        os.link(source, folder / f"{name}-{index:04d}.mp4")
    return folder


def shoot(page: Page, name: str, *, ours: bool = True) -> None:
    """Screenshots at 1280 and 390 px in light and dark; stoat's own pages never scroll
    sideways on a phone and label every field."""
    folder = artifacts_folder() / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for label, size in (("1280", DESKTOP), ("390", PHONE)):
            page.set_viewport_size(size)
            if ours:
                assert horizontal_overflow(page) == 0, (name, label)
                assert unlabelled_fields(page) == [], name
                # WCAG AA for text of a button's size: 4.5:1 against its fill.
                weak = {b: r for b, r in button_contrasts(page).items() if r < 4.5}
                assert weak == {}, (name, scheme)
            page.screenshot(path=str(folder / f"{name}-{label}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(DESKTOP)


def heading(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def same_row(page: Page, *selectors: str) -> bool:
    """Whether the elements' vertical middles line up (one row of the header)."""
    middles = []
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        assert box is not None, selector
        middles.append(box["y"] + box["height"] / 2)
    return max(middles) - min(middles) < 12


@pytest.fixture(scope="module")
def open_stoat(browser_run_folder: Path) -> Iterator[StoatServer]:
    """An app that may scan anywhere (scan root `/`): what it refuses, it refuses by itself."""
    yield from run_server(Path(tempfile.mkdtemp(prefix="open-", dir=browser_run_folder)), Path("/"))


def test_forms_lead_nowhere_dead_and_refuse_what_is_no_place_for_videos(
    page: Page, open_stoat: StoatServer, media_root: Path, recorder: Recorder
) -> None:
    recorder.expect_status(400, "/jobs/new")
    recorder.expect_status(405, "/jobs/1/cancel")
    recorder.expect_status(404, "/videos/987654/")
    visit(page, open_stoat, "/")

    # 2: the kernel's own file system, refused on the page the form was on (1).
    box = page.locator("details.scan-box")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    page.get_by_label("Folder to scan").fill("/proc")
    page.get_by_role("button", name="Scan", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(
        "/proc is on the kernel's proc file system (/proc), which holds no videos"
    )
    assert heading(page) == "Library"
    expect(page.get_by_label("Folder to scan")).to_have_value("/proc")

    # 1: the address the form was sent to opens the form (a reload, a bookmark, a new tab).
    page.goto(open_stoat.url + "/jobs/new")
    assert heading(page) == "Scan a folder"
    shoot(page, "scan-form")

    # 2: a whole system is scanned only when the person says so.
    page.get_by_label("Folder to scan").fill("/")
    page.get_by_role("button", name="Scan", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("/ is a whole system's root file system")
    assert heading(page) == "Scan a folder"
    shoot(page, "scan-form-confirm")
    system = media_root / f"old-laptop-{uuid.uuid4().hex[:8]}"
    for name in ("etc", "usr", "bin"):
        (system / name).mkdir(parents=True)
    page.get_by_label("Folder to scan").fill(str(system))
    page.get_by_role("button", name="Scan", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("is a whole system's root file system")
    page.get_by_label("Yes, scan all of it").check()
    page.get_by_role("button", name="Scan", exact=True).click()
    page.wait_for_url("**/jobs/*/")
    assert watch_job(page)[-1].status == "complete"

    # 3: a path longer than the system allows is called too long and does not widen the page.
    page.goto(open_stoat.url + "/jobs/")
    page.get_by_label("Folder to scan").fill("/" + "a" * 4300)
    page.get_by_role("button", name="Scan", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "The path is too long: 4,301 bytes, and this system's limit is 4,095."
    )
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert horizontal_overflow(page) == 0
        height = cast(int, page.evaluate("() => document.documentElement.scrollHeight"))
        assert height < 2500, height
    page.set_viewport_size(DESKTOP)
    shoot(page, "scans-long-path-error")

    # 8: stoat's own error pages, each with a way back.
    page.goto(open_stoat.url + "/jobs/1/cancel")
    assert heading(page) == "This address is not a page to open"
    shoot(page, "error-405")
    page.goto(open_stoat.url + "/videos/987654/")
    assert heading(page) == "There is nothing here"
    shoot(page, "error-404")
    page.get_by_role("link", name="Go to the library").click()
    assert heading(page) == "Library"
    icon = page.request.get(open_stoat.url + "/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")


def test_signing_in_with_a_wrong_password_then_changing_it(
    page: Page, open_stoat: StoatServer
) -> None:
    page.goto(open_stoat.url + "/accounts/login/")
    shoot(page, "sign-in")
    page.get_by_label("User name").fill(USERNAME)
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_response("**/accounts/login/") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 200
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("That user name and password do not match. Both are case-sensitive.")
    shoot(page, "sign-in-wrong-password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert heading(page) == "Library"

    # 13: at phone width the header is one row; the user menu folds away.
    page.set_viewport_size(PHONE)
    assert same_row(page, ".brand", ".top nav a", ".user-menu summary")
    expect(page.get_by_role("link", name="Change password")).to_be_hidden()
    page.locator(".user-menu summary").click()
    shoot(page, "user-menu-open")
    page.get_by_role("link", name="Change password").click()
    assert heading(page) == "Change your password"
    shoot(page, "password-change")
    new_password = PASSWORD + "-changed"
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password confirmation").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    # 7: messages share one style.
    message = page.locator(".messages .message.success")
    expect(message).to_have_text("Your password is changed.")
    background = message.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    shoot(page, "library-with-message")


def test_every_page_at_both_widths_with_a_scan_read_again_and_its_missing_files(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = own_clip_folder(media_root, "take", 60, width=208)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "garbage-1.mp4").write_bytes(b"not a video" * 50)
    (folder / "garbage-2.mp4").write_bytes(b"still not a video" * 50)
    make_audio_file(folder / "memo.mp4")
    visit(page, stoat, "/jobs/")
    first = start_scan(page, folder)
    assert watch_job(page)[-1].status == "complete"
    (folder / "take-0007.mp4").unlink()
    (folder / "take-0042.mp4").unlink()

    # 6: scan again from the scan's page; it lists what went missing and groups the errors.
    page.get_by_role("button", name="Scan again").click()
    page.wait_for_url(f"**/jobs/{first + 1}/")
    last = watch_job(page)[-1]
    assert (last.status, last.count("Missing"), last.count("Unchanged")) == ("complete", 2, 58)
    missing = page.locator(".missing-files li")
    expect(missing).to_have_text([str(folder / "take-0007.mp4"), str(folder / "take-0042.mp4")])
    expect(page.locator("table.reasons")).to_be_visible()
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, "job-complete")

    page.goto(stoat.url + "/jobs/")
    shoot(page, "scans")
    # 14: on a phone the Scans table keeps Errors and drops the lesser columns first.
    page.set_viewport_size(PHONE)
    table = page.locator("table.jobs")
    for column in ("#", "Folder", "Status", "Errors"):
        expect(table.get_by_role("columnheader", name=column, exact=True)).to_be_visible()
    for column in ("Updated", "Unchanged", "Created", "New"):
        expect(table.get_by_role("columnheader", name=column, exact=True)).to_be_hidden()
    page.set_viewport_size(DESKTOP)

    visit(page, stoat, f"/?q={folder.name}")
    # 17: page numbers and a jump to a page.
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager.get_by_role("link", name="Page 2")).to_be_visible()
    # 19: the ranges are folded until used: a phone shows videos on its first screen.
    more = page.locator("#more-filters")
    expect(more).not_to_have_attribute("open", "")
    more.locator("summary").click()
    # Opened but unused, it stays open when a facet ticked redraws the facets around it.
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator("#facets input[name=video_codec]").first.check()
    expect(page.locator("#facets input[name=video_codec]").first).to_be_checked()
    expect(more).to_have_attribute("open", "")
    # What is typed in it stays too.
    with page.expect_response(lambda r: "min_duration=0%3A30" in r.url):
        page.get_by_label("Duration from").fill("0:30")
        page.get_by_label("Duration from").press("Tab")
    expect(page.locator("#results .empty")).to_be_visible()
    expect(page.get_by_label("Duration from")).to_have_value("0:30")
    visit(page, stoat, f"/?q={folder.name}")
    page.set_viewport_size(PHONE)
    first_card = page.locator("#results li.card").first.bounding_box()
    assert first_card is not None and first_card["y"] < PHONE["height"], first_card
    page.set_viewport_size(DESKTOP)
    shoot(page, "library")
    more.locator("summary").click()
    shoot(page, "library-more-filters")
    # 18: each range's name, from and to boxes share a row; on a phone, from and to still do,
    # inside the fieldset.
    ranges = (
        ("min_duration", "max_duration"),
        ("min_size", "max_size"),
        ("added_after", "added_before"),
    )
    for low, high in ranges:
        assert same_row(page, f"label[for={low}]", f"#{low}", f"label[for={high}]", f"#{high}")
    page.set_viewport_size(PHONE)
    box = page.locator("fieldset.ranges").bounding_box()
    assert box is not None
    for low, high in ranges:
        assert same_row(page, f"#{low}", f"label[for={high}]", f"#{high}"), low
        right = page.locator(f"#{high}").bounding_box()
        assert right is not None and right["x"] + right["width"] <= box["x"] + box["width"], high
    page.set_viewport_size(DESKTOP)
    pager.get_by_label("Go to page").fill("2")
    pager.get_by_role("button", name="Go").click()
    expect(pager).to_contain_text("Page 2 of 2")
    shoot(page, "library-page-2")
    # 5: a search that finds only hidden missing files says so.
    page.goto(stoat.url + f"/?q={folder.name}/take-0007")
    expect(page.locator("#results .empty")).to_contain_text(
        "1 missing file matches but is hidden: tick Show missing files to see it."
    )
    shoot(page, "library-no-match")
    page.goto(stoat.url + f"/?q={folder.name}")
    page.locator("#results li.card").first.get_by_role("link").first.click()
    shoot(page, "video")

    page.goto(stoat.url + "/api/v1/docs")
    shoot(page, "api-docs")
    # Every chart draws all its bars, one per row of its numbers table, sizes too (an HTML
    # tag inside the SVG ended it after the first bar). A second folder of larger clips gives the
    # charts of bytes by folder and by resolution two bars each at least.
    page.goto(stoat.url + "/jobs/")
    start_scan(page, own_clip_folder(media_root, "wide", 2, width=1280))
    assert watch_job(page)[-1].status == "complete"
    page.goto(stoat.url + "/stats/")
    charts = page.locator("figure.chart")
    assert charts.count() == 9
    for chart in charts.all():
        rows = chart.locator("details.numbers tbody tr").count()
        assert chart.locator("svg rect.bar").count() == rows, chart.get_attribute("id")
    assert page.locator("#folders svg rect.bar").count() >= 2
    assert page.locator("#res-bytes svg rect.bar").count() >= 2
    shoot(page, "stats")
    for path, name in (
        ("/admin/", "admin"),
        ("/admin/scans/job/", "admin-jobs"),
        (f"/admin/scans/job/{first}/change/", "admin-job"),
        ("/admin/library/video/", "admin-videos"),
    ):
        page.goto(stoat.url + path)
        expect(page.locator("#site-name")).to_have_text("stoat")
        shoot(page, name, ours=False)


def test_a_long_scan_shows_time_left_and_a_cancelled_one_continues(
    page: Page, stoat: StoatServer, media_root: Path
) -> None:
    folder = own_clip_folder(media_root, "long", LARGE, width=176)
    visit(page, stoat, "/")
    job_id = start_scan(page, folder)

    # 6: once reading has gone on for a moment, a time left and the reading speed.
    def estimated(state: JobState) -> bool:
        return has_ended(state) or (is_reading(state) and state.stats.get("Time left", "–") != "–")

    state = watch_job(page, until=estimated)[-1]
    assert state.stats["Time left"].startswith(("about", "a few")), state.stats
    assert state.stats["Reading speed"].endswith("files/s"), state.stats
    # 16: "334 / 1,800 (18%)" on one line, with room around Cancel scan.
    done = page.locator("dd.done")
    box = done.bounding_box()
    line = float(done.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    assert box is not None and box["height"] < line * 1.5, (box, line)
    shoot(page, "job-running")

    page.get_by_role("button", name="Cancel scan").click()
    assert watch_job(page)[-1].status == "cancelled"
    # 6: a cancelled scan's bar is no longer the active blue but the warning amber (--warn).
    # Waited for: htmx gives the swapped panel its new class a settle delay (20 ms) after its
    # text, so the badge can say "cancelled" a moment before the bar turns.
    expect(page.locator("section.job progress")).to_have_css("accent-color", "rgb(168, 107, 0)")
    shoot(page, "job-cancelled")
    read_before = read_job(page).count("New")

    page.get_by_role("button", name="Continue scan").click()
    page.wait_for_url(f"**/jobs/{job_id + 1}/")
    # What the cancelled scan read is compared, not read again; then it reads the rest.
    going = watch_job(page, until=lambda state: has_ended(state) or is_reading(state))[-1]
    assert going.count("Unchanged") == read_before, going.stats
    assert going.done[1] == LARGE
    page.get_by_role("button", name="Cancel scan").click()
    assert watch_job(page)[-1].status == "cancelled"


def add_library(page: Page, name: str, folder: Path, **boxes: str) -> None:
    """Fill the Add a library form on the libraries page and send it."""
    box = page.locator("details.library-add")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Folder", exact=True).fill(str(folder))
    for label, value in boxes.items():
        page.get_by_label(label.replace("_", " "), exact=True).fill(value)
    page.get_by_role("button", name="Add library").click()


def test_the_libraries_pages_fit_a_phone_and_say_when_and_how_a_folder_is_kept_current(
    page: Page, stoat: StoatServer, media_root: Path, recorder: Recorder
) -> None:
    recorder.expect_status(400, "/libraries/new")
    talks = media_root / f"talks-and-conference-recordings-{uuid.uuid4().hex[:6]}"
    holiday = media_root / f"holiday-videos-{uuid.uuid4().hex[:6]}"
    talks.mkdir()
    holiday.mkdir()
    visit(page, stoat, "/libraries/")

    # A bad interval is answered beside its own box, which names the answer.
    add_library(page, "Holiday videos", holiday, Rescan_every="often")
    every = page.get_by_label("Rescan every")
    field = page.locator(".field", has=every)
    expect(field.get_by_role("alert")).to_contain_text("'often' is not an interval")
    expect(every).to_have_attribute("aria-describedby", re.compile(r"id_every_error"))
    shoot(page, "libraries-add-error")
    # Short boxes are sized for what they hold, not the page's width.
    width = every.bounding_box()
    assert width is not None and width["width"] < 400, width

    add_library(page, "Holiday videos", holiday, Rescan_every="1d")
    expect(page.locator(".messages")).to_contain_text("Library Holiday videos added")
    add_library(
        page,
        "Talks and conference recordings",
        talks,
        Rescan_every="",
        or_at_cron_times="0 3 * * *",
    )
    expect(page.locator(".messages")).to_contain_text("Library Talks and conference recordings")
    shoot(page, "libraries")
    table = page.locator("table.libraries")
    holiday_row = table.get_by_role("row").filter(has_text="Holiday videos")
    talks_row = table.get_by_role("row").filter(has_text="Talks and conference recordings")
    expect(holiday_row).to_contain_text("every day")
    expect(talks_row).to_contain_text("at cron times 0 3 * * *")
    # The watch state names the command in code, without the command line's backticks.
    expect(holiday_row.locator(".watch-state code").first).to_have_text("manage.py watch")
    expect(holiday_row.locator(".watch-state")).not_to_contain_text("`")
    # "Scan now" on one line.
    scan_now = holiday_row.get_by_role("button", name="Scan now")
    box = scan_now.bounding_box()
    line = float(scan_now.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    assert box is not None and box["height"] < line * 2, (box, line)
    # On a phone the lesser columns go (the edit page has the schedule); the name, the last scan
    # and the actions stay, whole, without scrolling the table.
    page.set_viewport_size(PHONE)
    for column in ("Library", "Last scan", "Actions"):
        expect(table.get_by_role("columnheader", name=column, exact=True)).to_be_visible()
    for column in ("Folder", "Next scan", "Watch"):
        expect(table.get_by_role("columnheader", name=column, exact=True)).to_be_hidden()
    wrap = page.locator("#library-table")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table scrolls on a phone"
    page.set_viewport_size(DESKTOP)

    # The edit form writes the interval as the add form takes it; removing looks destructive.
    holiday_row.get_by_role("link", name="Edit").click()
    assert heading(page) == "Library Holiday videos"
    expect(page.get_by_label("Rescan every")).to_have_value("1d")
    videos = page.get_by_role("group", name="Its videos")
    expect(videos.get_by_role("radio")).to_have_count(2)
    expect(page.get_by_role("button", name="Remove library")).to_have_class(
        re.compile(r"\bdanger\b")
    )
    shoot(page, "library-edit")
