"""Load test: the real app under gunicorn and a qcluster worker, polled by 100 browsers mid-scan.

    python -m benchmarks.load [--files 40000] [--seconds 60] [--pollers 100] [--pagers 10]

1. Generates a library of hard links to a few real clips (three copies: one per scan below).
2. Starts gunicorn (the production WSGI server) and `manage.py qcluster` on one SQLite file.
3. Baseline: scans the first copy with no web load and measures its throughput for the window.
4. Load: scans the second copy while `pollers` browsers poll the job's progress partial
   (`GET /jobs/<id>/`, `HX-Request: true`) about once a second and `pagers` browsers page through
   the library, for `seconds`.
5. Baseline again: scans the third copy with no web load. Each scan adds rows, and a scan into a
   bigger table is slower, so the loaded scan is compared with the mean of the two around it.
6. Prints requests, errors, latency percentiles, CPU use and throughput.

Targets: 0 errors, p99 of the progress partial under 100 ms, throughput drop under 30 %.
Everything listens on 127.0.0.1 only, every loop is bounded by the window, and the temporary
folder is removed at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
FILES_PER_FOLDER = 500
SOURCES = 12
TARGET_ERRORS = 0
TARGET_P99_MS = 100.0
TARGET_DROP = 0.30


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
class Throughput:
    files: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def make_library(folder: Path, sources: list[Path], count: int) -> None:
    """`count` hard links to the sources, 500 to a folder: distinct paths, real files to read."""
    for index in range(count):
        source = sources[index % len(sources)]
        path = folder / f"part{index // FILES_PER_FOLDER:03d}" / f"clip{index:06d}{source.suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, path)


def make_sources(folder: Path) -> list[Path]:
    from tests.media import make_clip

    folder.mkdir(parents=True)
    return [
        make_clip(
            folder / f"source{index:02d}.{'mkv' if index % 4 == 0 else 'mp4'}",
            width=320,
            height=240,
            seconds=2 + index % 3,
            audio=index % 2 == 0,
        )
        for index in range(SOURCES)
    ]


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process in its own group, stopped (then killed) with everything it started.

    Its own process group, not its own session: Linux gives each session an equal share of the
    CPU (autogroup) whatever the niceness inside, so the web and the worker share this one, as
    they share the terminal's session under `manage.py serve`.
    """
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=os.setpgrp,  # safe: no thread runs yet when the servers start
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_serving(port: int, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {HOST}:{port} within {seconds:g} s")


def start_scan(folder: Path) -> int:
    from stoat.scans import lifecycle

    start = lifecycle.create_scan(str(folder))
    if not start.created:
        raise RuntimeError(f"a scan of {folder} was already active")
    return start.job.pk


def measure(job_id: int, window: float) -> Throughput:
    """Files read per second by the scan over `window` seconds (or until it ended), then stop it."""
    from stoat.scans import lifecycle
    from stoat.scans.models import Job

    end = time.monotonic() + window + 120  # the worker may take a while to pick the scan up
    started_at = None
    while time.monotonic() < end:
        job = Job.objects.get(pk=job_id)
        if job.started_at is not None and started_at is None:
            started_at = time.monotonic()
            end = started_at + window
        if job.is_terminal:
            break
        time.sleep(0.2)
    job = Job.objects.get(pk=job_id)
    elapsed = job.elapsed or 0.0
    files = job.processed - job.unchanged
    if not job.is_terminal:
        lifecycle.request_cancel(job_id)
        stop_by = time.monotonic() + 60
        while not Job.objects.get(pk=job_id).is_terminal and time.monotonic() < stop_by:
            time.sleep(0.2)
    return Throughput(files, elapsed)


def signed_in_cookie() -> str:
    """A session of a read-only user, as a browser that signed in would send it."""
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    user, _ = User.objects.get_or_create(username="load-viewer")
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


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


def group_cpu_seconds(group: int) -> float:
    """CPU time used so far by the processes of one process group (and its reaped children)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        if int(fields[2]) == group:
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_load(
    port: int, job_id: int, pollers: int, pagers: int, seconds: float, pages: int
) -> tuple[Samples, Samples]:
    """All browsers on one event loop, so the load generator's own threads do not skew latency."""
    progress, library = Samples(), Samples()
    cookie = signed_in_cookie()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40_000, help="files in each library copy")
    parser.add_argument("--seconds", type=float, default=60, help="length of each window")
    parser.add_argument("--pollers", type=int, default=100, help="browsers polling the progress")
    parser.add_argument("--pagers", type=int, default=10, help="browsers paging the library")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--web-threads", type=int, default=8, help="threads per gunicorn process")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=None,
        help="STOAT_WORKER_NICE for the scan workers (default: the setting's, 10)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="stoat-load-"))
    try:
        return run(options, folder)
    finally:
        if options.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(options: argparse.Namespace, folder: Path) -> int:
    data = folder / "data"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stoat.settings",
        "STOAT_DATA_DIR": str(data),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": HOST,
        "STOAT_BROKER_URL": "",
        # Plain HTTP on loopback: in a deployment the TLS proxy sits in front of gunicorn.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }
    if options.worker_nice is not None:
        # Scans yield the CPU to page views: a deployment choice this option lets you weigh.
        env["STOAT_WORKER_NICE"] = str(options.worker_nice)
    # The default SQLite file in the data folder: the database the issue is about.
    env.pop("DATABASE_URL", None)
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    print(f"making {options.files:,} files three times under {folder} …", flush=True)
    sources = make_sources(folder / "sources")
    for copy in ("before", "loaded", "after"):
        make_library(folder / copy, sources, options.files)
    call_command("migrate", verbosity=0)
    port = free_port()
    python = sys.executable
    gunicorn = [
        python,
        "-m",
        "gunicorn",
        "stoat.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(options.web_workers),
        "--threads",
        str(options.web_threads),
        "--worker-class",
        "gthread",
        "--keep-alive",
        "5",
    ]
    logs = folder / "logs"
    logs.mkdir()
    qcluster = [python, "manage.py", "qcluster"]
    with (
        running(qcluster, env, logs / "qcluster.log") as worker,
        running(gunicorn, env, logs / "gunicorn.log") as web,
    ):
        wait_until_serving(port)
        print(f"baseline: scanning {options.files:,} files with no web load …", flush=True)
        before = measure(start_scan(folder / "before"), options.seconds)
        job_id = start_scan(folder / "loaded")
        from stoat.library.models import Video

        pages = max(1, Video.objects.count() // 48)
        print(
            f"load: {options.pollers} pollers + {options.pagers} pagers for "
            f"{options.seconds:g} s while scanning again …",
            flush=True,
        )
        measured: list[Throughput] = []
        watcher = threading.Thread(target=lambda: measured.append(measure(job_id, options.seconds)))
        groups = {"web": web.pid, "scan worker": worker.pid}
        cpu_before = {name: group_cpu_seconds(pid) for name, pid in groups.items()}
        cpu_before["browsers (this process)"] = own_cpu_seconds()
        started = time.monotonic()
        watcher.start()
        progress, library = run_load(
            port, job_id, options.pollers, options.pagers, options.seconds, pages
        )
        window = time.monotonic() - started
        cpu_after = {name: group_cpu_seconds(pid) for name, pid in groups.items()}
        cpu_after["browsers (this process)"] = own_cpu_seconds()
        watcher.join(timeout=options.seconds + 300)
        print(f"baseline again: scanning {options.files:,} files with no web load …", flush=True)
        after = measure(start_scan(folder / "after"), options.seconds)
    loaded = measured[0] if measured else Throughput(0, 0.0)
    print()
    report("progress partial", progress)
    report("library pages", library)
    used = ", ".join(
        f"{name} {(cpu_after[name] - cpu_before[name]) / window:.2f}" for name in cpu_before
    )
    print(f"CPU cores used under load: {used} (of {os.cpu_count()})")
    quiet = (before.per_second + after.per_second) / 2
    drop = 1 - loaded.per_second / quiet if quiet else float("nan")
    print(
        f"scan throughput without load: {before.per_second:.1f} files/s before, "
        f"{after.per_second:.1f} after, mean {quiet:.1f}\n"
        f"scan throughput under load:   {loaded.per_second:.1f} files/s "
        f"({loaded.files:,} files in {loaded.seconds:.1f} s): {drop:+.0%} drop"
    )
    errors = progress.error_count + library.error_count
    p99 = progress.percentile(0.99)
    checks = [
        (f"errors {errors} (target {TARGET_ERRORS})", errors <= TARGET_ERRORS),
        (f"progress p99 {p99:.1f} ms (target < {TARGET_P99_MS:g} ms)", p99 < TARGET_P99_MS),
        (f"throughput drop {drop:.0%} (target < {TARGET_DROP:.0%})", drop < TARGET_DROP),
    ]
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
