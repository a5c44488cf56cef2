"""What a person does on stoat's pages, in Playwright terms, and the media they point it at."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, Response, expect

from tests.browser.server import PASSWORD, USERNAME, StoatServer
from tests.media import make_audio_file, make_clip

TERMINAL = ("complete", "cancelled", "failed", "timeout")
JOB_URL = re.compile(r"/jobs/(\d+)/$")


# -- media ----------------------------------------------------------------------------------------
def clip_folder(root: Path, name: str, count: int, *, prefix: str = "clip") -> Path:
    """`count` videos in `root/name`: hard links to one generated clip, so they cost nothing."""
    folder = root / name
    folder.mkdir(parents=True)
    source = make_clip(root / "sources" / f"{name}.mp4")
    for index in range(count):
        os.link(source, folder / f"{prefix}-{index:04d}.mp4")
    return folder


def add_unreadable_files(folder: Path) -> None:
    """One file that is no video (audio only), one that is broken, one the scan ignores."""
    make_audio_file(folder / "voice-memo.mp4")
    (folder / "broken.mp4").write_bytes(b"this is not a video at all" * 40)
    (folder / "notes.txt").write_text("not a video extension: never looked at")


# -- navigation and login ------------------------------------------------------------------------
def log_in_if_asked(page: Page) -> bool:
    """Fill and send the login form when the page shows one (a password field)."""
    password = page.locator("input[type=password]")
    if password.count() == 0:
        return False
    form = page.locator("form").filter(has=password).first
    form.locator("input[name=username], input[type=email], input[type=text]").first.fill(USERNAME)
    password.first.fill(PASSWORD)
    with page.expect_navigation():
        password.first.press("Enter")
    expect(page.locator("input[type=password]")).to_have_count(0)
    return True


def visit(page: Page, server: StoatServer, path: str) -> None:
    """Open a page of the app, logging in first when it asks."""
    page.goto(server.url + path)
    if log_in_if_asked(page) and urlsplit(page.url).path != urlsplit(server.url + path).path:
        page.goto(server.url + path)


def start_scan(page: Page, folder: Path) -> int:
    """Fill the scan form on the current page and send it; returns the new job's id."""
    box = page.locator("details.scan-box")
    if box.count() and box.get_attribute("open") is None:
        box.locator("summary").click()
    page.get_by_label("Folder to scan").fill(str(folder))
    page.get_by_label("Include subfolders").check()
    page.get_by_role("button", name="Scan", exact=True).click()
    page.wait_for_url(JOB_URL)
    found = JOB_URL.search(urlsplit(page.url).path)
    assert found is not None
    return int(found.group(1))


# -- reading the job panel ------------------------------------------------------------------------
@dataclass(frozen=True)
class JobState:
    status: str
    bar: str | None  # the progress bar's value; None while the bar is indeterminate
    stats: dict[str, str]
    elapsed: float

    def count(self, label: str) -> int:
        return int(self.stats[label].replace(",", ""))

    @property
    def done(self) -> tuple[int, int]:
        """(files done, files found) from the "Done" figure."""
        found = re.match(r"([\d,]+) / ([\d,]+)", self.stats["Done"])
        assert found is not None, self.stats
        return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


READ_JOB_JS = """() => {
  const panel = document.querySelector('section.job');
  if (!panel) return null;
  const bar = panel.querySelector('progress');
  const stats = {};
  for (const item of panel.querySelectorAll('dl.stats > div')) {
    stats[item.querySelector('dt').textContent.trim()] = item.querySelector('dd').textContent
      .replace(/\\s+/g, ' ').trim();
  }
  return {status: panel.querySelector('.badge').textContent.trim(),
          bar: bar ? bar.getAttribute('value') : null, stats};
}"""


def read_job(page: Page, started: float = 0.0) -> JobState:
    raw = cast(dict[str, Any] | None, page.evaluate(READ_JOB_JS))
    assert raw is not None, "no job panel on the page"
    return JobState(raw["status"], raw["bar"], raw["stats"], time.monotonic() - started)


def has_ended(state: JobState) -> bool:
    return state.status in TERMINAL


def is_reading(state: JobState) -> bool:
    """Running and past the walk, with some files read: the bar shows a share."""
    return state.status == "running" and state.bar is not None and state.done[0] > 0


def watch_job(
    page: Page, until: Callable[[JobState], bool] = has_ended, timeout: float = 90.0
) -> list[JobState]:
    """Each different state the job panel showed, looked at every 0.1 s, up to `until`."""
    started = time.monotonic()
    seen: list[JobState] = []
    while True:
        state = read_job(page, started)
        if not seen or (state.status, state.bar, state.stats) != (
            seen[-1].status,
            seen[-1].bar,
            seen[-1].stats,
        ):
            seen.append(state)
        if until(state):
            return seen
        assert state.elapsed < timeout, f"no end in sight after {timeout}s: {seen[-3:]}"
        page.wait_for_timeout(100)


# -- requests the page makes ----------------------------------------------------------------------
@dataclass
class Traffic:
    """The requests a page sends to one URL path, and when the answers came."""

    path: str
    requests: list[tuple[float, str]] = field(default_factory=list)
    answers: list[tuple[float, int]] = field(default_factory=list)

    def watch(self, page: Page) -> Traffic:
        page.on("request", self.on_request)
        page.on("response", self.on_response)
        return self

    def on_request(self, request: Request) -> None:
        if urlsplit(request.url).path == self.path:
            self.requests.append((time.monotonic(), request.method))

    def on_response(self, response: Response) -> None:
        if urlsplit(response.url).path == self.path:
            self.answers.append((time.monotonic(), response.status))

    def polls_after(self, moment: float) -> int:
        return sum(1 for at, method in self.requests if method == "GET" and at > moment)

    def next_answer(self, page: Page) -> int:
        """Wait for the page's next answer from this path (an event, never a fixed time)."""
        with page.expect_response(lambda r: urlsplit(r.url).path == self.path) as answer:
            pass
        return answer.value.status


def polls_once_timers_ran(page: Page, polls: Traffic, since: float) -> int:
    """Polls sent after `since`, once the page's timers ran five more seconds (on its installed
    clock, so no real time passes).
    """
    page.clock.run_for(5000)
    # A request those timers started is seen before this one's answer arrives.
    page.evaluate("() => fetch('/healthz').then((answer) => answer.status)")
    return polls.polls_after(since)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return cast(
        int,
        page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"),
    )


# WCAG 2's contrast of two sRGB colours given as computed `rgb()`/`rgba()` strings.
CONTRAST_JS = """() => {
  const channels = (text) => text.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  return [...document.querySelectorAll('button')].filter((el) => el.offsetParent !== null)
    .map((el) => {
      const style = getComputedStyle(el);
      const back = channels(style.backgroundColor);
      if (back.length === 4 && back[3] === 0) return null;  // no fill of its own: a link look
      const [light, dark] = [luminance(channels(style.color)), luminance(back)]
        .sort((a, b) => b - a);
      return {button: el.textContent.trim(), ratio: (light + 0.05) / (dark + 0.05)};
    })
    .filter((found) => found !== null);
}"""


def button_contrasts(page: Page) -> dict[str, float]:
    """Each visible filled button's text against its own fill, as WCAG 2's contrast ratio."""
    found = cast(list[dict[str, Any]], page.evaluate(CONTRAST_JS))
    return {item["button"]: round(float(item["ratio"]), 2) for item in found}
