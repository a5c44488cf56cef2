"""`python -m benchmarks.webcost`: the web CPU one progress poll and one library page cost.

The load test (benchmarks/load.py) says whether pages stay quick during a scan; on a machine
with two cores every millisecond the web server spends is taken from the scan. This measures
that millisecond in one process, through Django's WSGI handler with the whole middleware stack
(session, user, templates, queries), without an HTTP server or another process in the way:

1. A library of `--files` videos (rows as a finished scan stores them) and a running scan job.
2. `--polls` progress polls as a signed-in read-only user's page sends them (`GET /jobs/<id>/`
   with HX-Request and the `said` parameter), the job's counters changing every `--change`
   polls, as 100 pages polling once a second see a job that writes its progress twice a second
   across two web processes.
3. `--pages` library pages (`GET /?page=N`, HX-Request), pages cycling through the library;
   then as many again with a video row written before each, as while a scan runs.

Prints CPU milliseconds per request (process time, which other work on the machine moves
little) and, with `--profile`, where it goes. With `--server NAME` (repeatable), it then starts
`manage.py serve --web-only --server NAME` on the same database, lets the load test's browsers
(100 pollers, 10 pagers) use it for `--seconds` with no scan running (the job's counters move
twice a second, as a scan's do), and prints the web server's CPU per answered request: the
difference from the figures above is what the HTTP server and its threads add.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import environment

HOST = "127.0.0.1"


def environ_for(path: str, query: str, cookie: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": HOST,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": HOST,
        "HTTP_HOST": f"{HOST}:8000",
        "HTTP_HX_REQUEST": "true",
        "HTTP_COOKIE": cookie,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> str:
    status = []

    def start_response(line: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        status.append(line)

    body = app(environ, start_response)
    b"".join(body)
    close = getattr(body, "close", None)
    if close is not None:
        close()
    return status[0]


def seed(base: Path, files: int) -> int:
    """A library of `files` rows and a running scan; the job's id."""
    from benchmarks import libraries
    from benchmarks.load import make_sources
    from stoat.scans import lifecycle

    sources = make_sources(base / "sources")
    libraries.seed_library(libraries.link_library(base / "library", sources, files))
    job = lifecycle.create_scan(str(base / "library")).job
    lifecycle.claim(job.pk)
    lifecycle.progress(job.pk, found=files, processed=1)
    return job.pk


def measure(
    label: str, requests: Sequence[tuple[dict[str, Any], Callable[[], None] | None]], profile: bool
) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()
    call(app, requests[0][0])  # the first one pays for imports and template loading
    profiler = cProfile.Profile() if profile else None
    statuses: dict[str, int] = {}
    cpu, wall = 0.0, 0.0
    for environ, before in requests:
        if before is not None:
            before()
        environ["wsgi.input"] = io.BytesIO(b"")
        started_cpu, started = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        line = call(app, environ)
        if profiler is not None:
            profiler.disable()
        cpu += time.process_time() - started_cpu
        wall += time.perf_counter() - started
        statuses[line] = statuses.get(line, 0) + 1
    count = len(requests)
    answers = ", ".join(f"{n} × {line}" for line, n in sorted(statuses.items()))
    print(
        f"{label:<18} {count:>6} requests  CPU {cpu / count * 1000:6.2f} ms each  "
        f"wall {wall / count * 1000:6.2f} ms each  ({answers})"
    )
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)


def served(server: str, job_id: int, cookie: str, pages: int, seconds: float) -> None:
    """Web CPU per answered request of `serve --web-only` under the load test's browsers."""
    from benchmarks.browsers import report, run_load
    from benchmarks.load import free_port, serving, tree_cpu_seconds
    from stoat.scans import lifecycle

    base = Path(os.environ["STOAT_DATA_DIR"]).parent
    env = {**os.environ, "STOAT_BROKER_URL": ""}
    done = threading.Event()

    def scan_moves() -> None:
        while not done.wait(0.5):
            lifecycle.progress(job_id, processed=3, new=3)

    port = free_port()
    with serving(env, base / f"serve-{server}.log", server, port, ["--web-only"]) as serve:
        mover = threading.Thread(target=scan_moves)
        mover.start()
        try:
            before, started = tree_cpu_seconds(serve), time.monotonic()
            progress, library = run_load(port, job_id, 100, 10, seconds, pages, cookie)
            used, window = tree_cpu_seconds(serve) - before, time.monotonic() - started
        finally:
            done.set()
            mover.join()
    answered = len(progress.latencies) + len(library.latencies)
    print(f"served by {server}, no scan: web CPU {used / window:.2f} cores", end="")
    print(f", {used / max(1, answered) * 1000:.2f} ms per answered request")
    report("progress partial", progress)
    report("library pages", library)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webcost", description=__doc__)
    parser.add_argument("--files", type=int, default=40_000, help="videos in the library")
    parser.add_argument("--polls", type=int, default=3000)
    parser.add_argument("--change", type=int, default=25, help="polls between progress writes")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print cProfile's view as well")
    parser.add_argument("--server", action="append", default=[], choices=["granian", "gunicorn"])
    parser.add_argument("--seconds", type=float, default=30, help="window of each --server run")
    args = parser.parse_args(argv)
    base = environment.prepare(keep=False)
    try:
        job_id = seed(base, args.files)
        from django.db.models import F

        from benchmarks.load import signed_in_cookie
        from stoat.library.models import Video
        from stoat.scans import lifecycle
        from stoat.scans.models import Job

        cookie = signed_in_cookie()
        said = str(Job.objects.get(pk=job_id).status)

        def advance() -> None:
            lifecycle.progress(job_id, processed=7, new=7)

        polls = [
            (
                environ_for(f"/jobs/{job_id}/", f"said={said}", cookie),
                advance if index % args.change == 0 else None,
            )
            for index in range(args.polls)
        ]
        pages = max(1, args.files // 48)
        library = [
            (environ_for("/", f"page={1 + index * 37 % pages}", cookie), None)
            for index in range(args.pages)
        ]

        def scan_writes() -> None:
            # As during a scan: a video row written since the last page.
            Video.objects.filter(pk=Video.objects.order_by("pk").values("pk")[:1]).update(
                size=F("size")
            )

        during_scan = [(environ, scan_writes) for environ, _ in library]
        print(environment.describe())
        measure("progress partial", polls, args.profile)
        measure("library pages", library, args.profile)
        measure("library, scan", during_scan, args.profile)
        for server in args.server:
            served(server, job_id, cookie, pages, args.seconds)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
