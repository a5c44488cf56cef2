"""What went wrong in the browser during a journey, and the page whose last state is kept."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, WebError

# Fetches the browser itself abandons: its icon when the page moves on, a player's range
# request when it seeks elsewhere, a grid thumbnail when a filter redraws the grid.
CUT_SHORT_BY_THE_BROWSER = ("/favicon.svg", "/stream", "/thumbnail.jpg")
# What htmx logs as errors when the page abandons one of its own requests on purpose (a poll on
# its way when Cancel is pressed, `hx-sync`): the abort, and the end of the request it cut. A
# request that really failed is caught apart from these: its status, or its failed load.
HTMX_ABANDONED = ("htmx:sendAbort", "htmx:afterRequest")


class Recorder:
    """Collects JavaScript errors, console errors and failed requests from watched contexts."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        # (status, path) answers a journey provokes on purpose, such as the 409 of a late cancel.
        self.expected: set[tuple[int, str]] = set()
        self.pages: list[Page] = []
        # The page whose last state is saved; by default the newest page still open.
        self.page: Page | None = None

    def expect_status(self, status: int, path: str) -> None:
        self.expected.add((status, path))

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.on("weberror", self.on_web_error)
        context.on("console", self.on_console)
        context.on("requestfailed", self.on_request_failed)
        context.on("response", self.on_response)
        context.on("page", self.on_page)
        return context

    def on_page(self, page: Page) -> None:
        self.pages.append(page)

    def on_web_error(self, error: WebError) -> None:
        self.problems.append(f"JavaScript error: {error.error}")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error" or message.text.startswith(HTMX_ABANDONED):
            return
        # Chromium logs every 4xx/5xx load as a console error; an expected one is not a problem.
        status = re.search(r"status of (\d{3})", message.text)
        source = urlsplit(message.location.get("url", "")).path
        if status and (int(status.group(1)), source) in self.expected:
            return
        self.problems.append(f"console error: {message.text} (at {message.location})")

    def on_request_failed(self, request: Request) -> None:
        path = urlsplit(request.url).path
        if request.failure == "net::ERR_ABORTED" and (
            path.endswith(CUT_SHORT_BY_THE_BROWSER) or is_htmx_read(request)
        ):
            return
        self.problems.append(f"failed request: {request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        path = urlsplit(response.url).path
        if response.status >= 400 and (response.status, path) not in self.expected:
            self.problems.append(
                f"{response.status} answer to {response.request.method} {response.url}"
            )

    def save_screenshot(self, folder: Path, name: str) -> Path | None:
        open_pages = [page for page in self.pages if not page.is_closed()]
        page = self.page or (open_pages[-1] if open_pages else None)
        if page is None or page.is_closed():
            return None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def is_htmx_read(request: Request) -> bool:
    """A GET htmx sent (a poll, a filter): the page may abandon it for a newer request."""
    return request.method == "GET" and request.headers.get("hx-request") == "true"
