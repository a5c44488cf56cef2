"""The simulated browsers of the load test: many keep-alive connections on one event loop."""

from __future__ import annotations

import asyncio
import html
import random
import re
import resource
import secrets
import string
import threading
import time
from dataclasses import dataclass, field, replace

HOST = "127.0.0.1"


@dataclass
class Samples:
    """Answers of one kind of request: latencies of the good ones, and what went wrong."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def failed(self, why: str) -> None:
        with self.lock:
            self.errors[why] = self.errors.get(why, 0) + 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    # The server closes the connection after this response (gunicorn's sync workers always do).
    closes: bool


async def read_response(reader: asyncio.StreamReader) -> Response:
    """One HTTP/1.1 response (Content-Length, chunked, or up to the end of the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    closes = headers.get("connection", "").lower() == "close"
    if "content-length" in headers:
        return Response(status, await reader.readexactly(int(headers["content-length"])), closes)
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return Response(status, await reader.read(), True)
    body = b""
    while True:
        size = int((await reader.readline()).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return Response(status, body, closes)
        body += chunk[:-2]


# What a browser sends with every request besides the URL (Chrome's, trimmed).
BROWSER_HEADERS = (
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36\r\n"
    "Accept: */*\r\nAccept-Language: en-GB,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n"
)
HX_GET = re.compile(rb'hx-get="([^"]+)"')
HX_EVERY = re.compile(rb'hx-trigger="every ([0-9.]+)s"')


@dataclass
class Polling:
    """What the page asks htmx to do next: the address of the next poll, and how long to wait.

    htmx starts the wait when the answer has been swapped in (hx-swap="outerHTML" replaces the
    polling element, and the new one starts its own timer), so a poll comes one interval after
    the previous answer, not one interval after the previous request.
    """

    url: str
    every: float
    target: str

    def follow(self, body: bytes) -> bool:
        """Take the next address and interval from the answer; False when it stops polling."""
        url, every = HX_GET.search(body), HX_EVERY.search(body)
        if url is None or every is None:
            return False
        self.url = html.unescape(url.group(1).decode())
        self.every = float(every.group(1))
        return True


def request_text(port: int, url: str, cookie: str, hx: dict[str, str], bare: bool) -> bytes:
    headers = "".join(f"{name}: {value}\r\n" for name, value in hx.items())
    if not bare:
        headers = BROWSER_HEADERS + headers
    return (
        f"GET {url} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{headers}"
        f"Cookie: {cookie}\r\nConnection: keep-alive\r\n\r\n"
    ).encode()


async def browser(
    port: int,
    path: str,
    samples: Samples,
    stop_at: float,
    every: float,
    pages: int = 0,
    cookie: str = "",
    polling: Polling | None = None,
    bare: bool = False,
) -> None:
    """One simulated browser on one connection for as long as the server keeps it open (the
    timing includes opening a new one). A pager asks for a page about every `every` seconds; a
    poller does what the job page tells htmx to do (`polling`), and stops when told to (286).
    `bare`: only the headers the first version of this test sent."""
    page = random.randrange(1, pages + 1) if pages else 0
    await asyncio.sleep(random.uniform(0, every))  # browsers do not all arrive at once
    reader, writer = await asyncio.open_connection(HOST, port)
    origin = f"http://{HOST}:{port}"
    while time.monotonic() < stop_at:
        if polling is not None:
            url = polling.url
            hx = {
                "HX-Request": "true",
                "HX-Current-URL": f"{origin}{path}",
                "HX-Target": polling.target,
                "HX-Trigger": polling.target,
                "Referer": f"{origin}{path}",
            }
        else:
            url = f"{path}?page={page}" if pages else path
            hx = {"HX-Request": "true"}
        request = request_text(port, url, cookie, hx, bare)
        started = time.perf_counter()
        response = None
        try:
            if writer.is_closing():
                # As a browser does when the server closed the last connection: open another.
                reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request)
            response = await asyncio.wait_for(read_response(reader), timeout=10)
            took = time.perf_counter() - started
            if response.status in (200, 286) and response.body:
                samples.ok(took)
            else:
                samples.failed(f"HTTP {response.status}")
            if response.closes:
                writer.close()
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            took = time.perf_counter() - started
            samples.failed(type(error).__name__)
            writer.close()
            reader, writer = await asyncio.open_connection(HOST, port)
        if polling is not None:
            good = response is not None and response.status == 200
            if good and response is not None and not polling.follow(response.body):
                break
            if response is not None and response.status == 286:
                break  # htmx stops polling: the scan ended
            await asyncio.sleep(polling.every)
            continue
        if pages:
            page = page % pages + 1
        await asyncio.sleep(max(0.0, every - took) * random.uniform(0.9, 1.1))
    writer.close()


def with_page_cookies(cookie: str) -> str:
    """The cookies a browser that opened a page has besides the session: the CSRF cookie the
    page's forms set, and the time zone static/stoat/timezone.js sets."""
    token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return f"{cookie}; csrftoken={token}; stoat_tz=Europe/Berlin"


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_load(
    port: int,
    job_id: int,
    pollers: int,
    pagers: int,
    seconds: float,
    pages: int,
    cookie: str,
    clocked: bool = False,
) -> tuple[Samples, Samples]:
    """All browsers on one event loop, so the load generator's own threads do not skew latency.

    `clocked`: the browsers of the first version of this test, kept to compare with: pollers on
    a one-second clock with no `said`, every browser sending only Host, HX-Request and Cookie.
    """
    progress, library = Samples(), Samples()
    job_url = f"/jobs/{job_id}/"
    # As the job page starts it (templates/scans/_progress.html): its URL with what the live
    # region said, every second; each answer then says what comes next.
    first = Polling(f"{job_url}?said=running", 1.0, f"job-{job_id}")
    if not clocked:
        cookie = with_page_cookies(cookie)

    async def everyone() -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(
                browser(
                    port,
                    job_url,
                    progress,
                    stop_at,
                    1.0,
                    0,
                    cookie,
                    None if clocked else replace(first),
                    clocked,
                )
                for _ in range(pollers)
            ),
            *(
                browser(port, "/", library, stop_at, 1.0, pages, cookie, None, clocked)
                for _ in range(pagers)
            ),
        )

    asyncio.run(everyone())
    return progress, library


def report(name: str, samples: Samples) -> None:
    count = len(samples.latencies) + samples.error_count
    print(
        f"{name:<18} {count:>7} requests {samples.error_count:>4} errors   "
        f"p50 {samples.percentile(0.50):6.1f} ms  p90 {samples.percentile(0.90):6.1f} ms  "
        f"p99 {samples.percentile(0.99):6.1f} ms  max {samples.percentile(1.0):6.1f} ms"
    )
    for why, times in sorted(samples.errors.items()):
        print(f"{'':<18} {times} × {why}")
