"""Browser journeys: a real stoat (`serve`: gunicorn + qcluster) driven by Debian's chromium."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext
from pytest_playwright.pytest_playwright import CreateContextCallback

from tests.browser.recorder import Recorder
from tests.browser.server import REPO, StoatServer, start_server, stop_server

# Playwright's own browser download does not work here; Debian's chromium is driven instead.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS_TAKEN = pytest.StashKey[Path]()
KEPT_RUN_FOLDER = pytest.StashKey[Path]()


def artifacts_folder() -> Path:
    return Path(os.environ.get("STOAT_ARTIFACTS") or REPO / "artifacts" / "screenshots")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("no `chromium` on PATH: run scripts/browser-setup.sh to install it")
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium_path: str
) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """None: journeys open pages by full address, since the newcomer's app has its own."""
    return None


@pytest.fixture(scope="session")
def browser_run_folder(request: pytest.FixtureRequest) -> Iterator[Path]:
    """This run's own temporary folder (kept, and named at the end, when a journey failed)."""
    folder = Path(tempfile.mkdtemp(prefix="stoat-browser-"))
    yield folder
    if request.session.testsfailed:
        request.config.stash[KEPT_RUN_FOLDER] = folder
    else:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def media_root(browser_run_folder: Path) -> Path:
    """The one folder the app may scan (STOAT_SCAN_ROOTS); each journey makes its own inside."""
    folder = browser_run_folder / "media"
    folder.mkdir()
    return folder


def run_server(folder: Path, media_root: Path) -> Iterator[StoatServer]:
    server = start_server(Path(tempfile.mkdtemp(prefix="data-", dir=folder)), media_root)
    yield server
    leftovers = stop_server(server)
    assert not leftovers, f"processes outlived `serve` (killed now): {leftovers}"


@pytest.fixture(scope="session")
def stoat(browser_run_folder: Path, media_root: Path) -> Iterator[StoatServer]:
    """One app shared by the journeys that each scan their own folder."""
    yield from run_server(browser_run_folder, media_root)


@pytest.fixture
def fresh_stoat(browser_run_folder: Path, media_root: Path) -> Iterator[StoatServer]:
    """An app that has never scanned anything, as a newcomer finds it."""
    yield from run_server(browser_run_folder, media_root)


@pytest.fixture
def recorder(
    new_context: CreateContextCallback, request: pytest.FixtureRequest
) -> Iterator[Recorder]:
    """Fails the journey on any JavaScript error, console error or failed request, after saving
    a screenshot of its last state."""
    recorder = Recorder()
    yield recorder
    name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    folder = artifacts_folder()
    if recorder.save_screenshot(folder, name) is not None:
        request.config.stash[SCREENSHOTS_TAKEN] = folder
    assert not recorder.problems, "the browser reported problems:\n" + "\n".join(recorder.problems)


@pytest.fixture
def context(new_context: CreateContextCallback, recorder: Recorder) -> BrowserContext:
    """pytest-playwright's context (with any `browser_context_args` marker), watched."""
    return recorder.watch(new_context())


@pytest.fixture
def open_context(
    new_context: CreateContextCallback, recorder: Recorder
) -> Callable[..., BrowserContext]:
    """Another watched context (the late-cancel tab, whose clock is held apart from the first)."""

    def open_watched(**options: Any) -> BrowserContext:
        return recorder.watch(new_context(**options))

    return open_watched


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    folder = config.stash.get(SCREENSHOTS_TAKEN, None)
    if folder is not None:
        terminalreporter.write_line(f"browser screenshots: {folder}")
    kept = config.stash.get(KEPT_RUN_FOLDER, None)
    if kept is not None:
        terminalreporter.write_line(f"browser run kept for a look (server logs, media): {kept}")
