"""The simulated browsers of the load test: many keep-alive connections on one event loop."""

from __future__ import annotations

import asyncio
import random
import resource
import threading
import time
from dataclasses import dataclass, field

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


async def browser(
    port: int,
    path: str,
    samples: Samples,
    stop_at: float,
    every: float,
    pages: int = 0,
    cookie: str = "",
) -> None:
    """One simulated browser: a request about every `every` seconds, on one connection for as
    long as the server keeps it open (the timing includes opening a new one)."""
    page = random.randrange(1, pages + 1) if pages else 0
    await asyncio.sleep(random.uniform(0, every))  # browsers do not all arrive at once
    reader, writer = await asyncio.open_connection(HOST, port)
    while time.monotonic() < stop_at:
        url = f"{path}?page={page}" if pages else path
        request = (
            f"GET {url} HTTP/1.1\r\nHost: {HOST}:{port}\r\nHX-Request: true\r\n"
            f"Cookie: {cookie}\r\nConnection: keep-alive\r\n\r\n"
        )
        started = time.perf_counter()
        try:
            if writer.is_closing():
                # As a browser does when the server closed the last connection: open another.
                reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request.encode())
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
        if pages:
            page = page % pages + 1
        await asyncio.sleep(max(0.0, every - took) * random.uniform(0.9, 1.1))
    writer.close()


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
) -> tuple[Samples, Samples]:
    """All browsers on one event loop, so the load generator's own threads do not skew latency."""
    progress, library = Samples(), Samples()
    job_url = f"/jobs/{job_id}/"

    async def everyone() -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(browser(port, job_url, progress, stop_at, 1.0, 0, cookie) for _ in range(pollers)),
            *(browser(port, "/", library, stop_at, 1.0, pages, cookie) for _ in range(pagers)),
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
