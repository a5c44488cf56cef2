"""Load test: `manage.py serve` itself, polled by 100 browsers while it scans.

    python -m benchmarks.load [--server both|gunicorn|granian] [--files 40000] [--seconds 60]

For each web server (both by default, one after the other, each in a fresh folder):
1. Generates a library of hard links to a few real clips (three copies: one per scan below,
   each linking clips of its own, so no copy holds links to or copies of another's videos).
2. Starts `manage.py serve --server NAME` (web server + qcluster, as `make run` does) on one
   SQLite file in the data folder, with serve's own defaults for processes and threads.
3. Baseline: scans the first copy with no web load and measures its throughput for the window.
4. Load: scans the second copy while `pollers` browsers poll the job's progress partial as the
   job page makes htmx do it (the address and interval each answer names, counted from the
   answer) and `pagers` browsers page through the library about once a second, for `seconds`.
   `--clocked`: the first version's browsers (a one-second clock, fewer headers), to compare.
5. Baseline again: scans the third copy with no web load. Each scan adds rows, and a scan into a
   bigger table is slower, so the loaded scan is compared with the mean of the two around it.
6. Prints requests, errors, latency percentiles, CPU use, throughput and the machine's load
   average before and after (other work on the machine skews every figure); then stops serve
   with SIGTERM, as a service manager would.

Targets: 0 errors, progress partial p99 under 50 ms, library page p99 under 150 ms, the scan
keeps at least 75 % of its speed. Everything listens on 127.0.0.1 only, every loop is bounded by
the window, and the temporary folder is removed at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.browsers import HOST, Samples, own_cpu_seconds, report, run_load

ROOT = Path(__file__).resolve().parent.parent
FILES_PER_FOLDER = 500
SOURCES = 12
SERVERS = ("gunicorn", "granian")
TARGET_ERRORS = 0
TARGET_P99_MS = 50.0
TARGET_LIBRARY_P99_MS = 150.0
TARGET_KEPT = 0.75


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


def make_sources(folder: Path, variant: int = 0) -> list[Path]:
    """The clips a library copy links to; each `variant` has its own bytes (one frame longer),
    so one copy's files are neither hard links nor copies of another's videos."""
    from tests.media import make_clip

    folder.mkdir(parents=True)
    return [
        make_clip(
            folder / f"source{index:02d}.{'mkv' if index % 4 == 0 else 'mp4'}",
            width=320,
            height=240,
            seconds=2 + index % 3 + variant * 0.04,
            audio=index % 2 == 0,
        )
        for index in range(SOURCES)
    ]


@contextmanager
def serving(
    env: dict[str, str], log: Path, server: str, port: int, extra: Sequence[str] = ()
) -> Iterator[int]:
    """`manage.py serve` answering on `port`; stopped with SIGTERM (killed if it will not) after.

    In this process's session: Linux gives each session an equal share of the CPU (autogroup)
    whatever the niceness inside, and serve keeps its children in its own, as in a terminal.
    """
    command = [
        *(sys.executable, "manage.py", "serve", "--addr", f"{HOST}:{port}", "--server", server),
        *extra,
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until_serving(process, port)
        except RuntimeError:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(process: subprocess.Popen[bytes], port: int, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and process.poll() is None:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    ended = f"exited with code {process.returncode}" if process.poll() is not None else "hangs"
    raise RuntimeError(f"serve did not answer on {HOST}:{port} within {seconds:g} s: it {ended}")


def start_scan(folder: Path) -> int:
    from stoat.scans import services

    start = services.start_scan(str(folder))
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


def process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, CPU ticks of it and its reaped children, command line)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue  # it ended while we looked
        table[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]), command)
    return table


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by `root` and every process below it."""
    table = process_table()
    ticks, todo = 0, [root]
    while todo:
        pid = todo.pop()
        ticks += table.get(pid, (0, 0, ""))[1]
        todo.extend(child for child, (parent, _, _) in table.items() if parent == pid)
    return ticks / os.sysconf("SC_CLK_TCK")


def serve_children(serve: int) -> dict[str, int]:
    """The web server and the scan worker among serve's children, by their command lines."""
    found = {}
    for pid, (parent, _, command) in process_table().items():
        if parent == serve and "qcluster" in command:
            found["scan worker"] = pid
        elif parent == serve and any(f"-m {server}" in command for server in SERVERS):
            found["web"] = pid
    return found


def load_average() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="both")
    parser.add_argument("--files", type=int, default=40_000, help="files in each library copy")
    parser.add_argument("--seconds", type=float, default=60, help="length of each window")
    parser.add_argument("--pollers", type=int, default=100, help="browsers polling the progress")
    parser.add_argument("--pagers", type=int, default=10, help="browsers paging the library")
    parser.add_argument("--web-workers", type=int, help="STOAT_WEB_WORKERS (default: serve's)")
    parser.add_argument("--web-threads", type=int, help="STOAT_WEB_THREADS (default: serve's)")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=None,
        help="STOAT_WORKER_NICE for the scan workers (default: the setting's, 10)",
    )
    parser.add_argument(
        "--clocked",
        action="store_true",
        help="the first version's browsers: polls on a 1 s clock, no said, few headers",
    )
    parser.add_argument(
        "--one-source-set",
        action="store_true",
        help="the first version's library: all three copies hard links to the same 12 clips",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--summary-file", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    # SIGTERM (timeout, a service manager) unwinds like Ctrl-C: serve stopped, folder removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if options.server == "both":
        return both(sys.argv[1:] if argv is None else argv)
    folder = Path(tempfile.mkdtemp(prefix="stoat-load-"))
    try:
        return run(options, folder)
    finally:
        if options.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def both(argv: list[str]) -> int:
    """Each server in a process of its own (Django's settings are fixed once loaded)."""
    argv = [arg for arg in argv if not arg.startswith("--server")]
    codes, summaries = [], []
    for server in SERVERS:
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as summary:
            print(f"\n=== manage.py serve --server {server}", flush=True)
            command = [sys.executable, "-m", "benchmarks.load", "--server", server, *argv]
            run = subprocess.Popen([*command, "--summary-file", summary.name], cwd=ROOT)
            try:
                codes.append(run.wait())
            except BaseException:
                # Stopped early: let the run stop its serve and remove its folder first.
                run.terminate()
                run.wait(timeout=60)
                raise
            summaries.append(Path(summary.name).read_text())
    print("\n=== both servers")
    print("".join(summaries), end="")
    return max(codes)


def run(options: argparse.Namespace, folder: Path) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stoat.settings",
        # serve's own defaults otherwise: no DEBUG, plain HTTP, a key made in the data folder.
        "STOAT_DATA_DIR": str(folder / "data"),
        "STOAT_BROKER_URL": "",
    }
    for name in ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "STOAT_HTTPS", "DATABASE_URL"):
        # The default SQLite file in the data folder: the database a `make run` install has.
        env.pop(name, None)
    for name, value in (
        ("STOAT_WEB_WORKERS", options.web_workers),
        ("STOAT_WEB_THREADS", options.web_threads),
        # Scans yield the CPU to page views: a deployment choice this option lets you weigh.
        ("STOAT_WORKER_NICE", options.worker_nice),
    ):
        if value is not None:
            env[name] = str(value)
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    # django-q2 logs every task this process enqueues; the figures are the output here.
    logging.getLogger("django-q").setLevel(logging.WARNING)

    print(f"making {options.files:,} files three times under {folder} …", flush=True)
    shared = make_sources(folder / "sources") if options.one_source_set else None
    for variant, copy in enumerate(("before", "loaded", "after")):
        sources = shared or make_sources(folder / f"sources-{copy}", variant)
        make_library(folder / copy, sources, options.files)
    call_command("migrate", verbosity=0)
    port = free_port()
    started_load = load_average()
    with serving(env, folder / "serve.log", options.server, port) as serve:
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
        roots = serve_children(serve)
        cpu_before = {name: tree_cpu_seconds(pid) for name, pid in roots.items()}
        cpu_before["browsers (this process)"] = own_cpu_seconds()
        started = time.monotonic()
        watcher.start()
        progress, library = run_load(
            port,
            job_id,
            options.pollers,
            options.pagers,
            options.seconds,
            pages,
            signed_in_cookie(),
            options.clocked,
        )
        window = time.monotonic() - started
        cpu_after = {name: tree_cpu_seconds(pid) for name, pid in roots.items()}
        cpu_after["browsers (this process)"] = own_cpu_seconds()
        watcher.join(timeout=options.seconds + 300)
        print(f"baseline again: scanning {options.files:,} files with no web load …", flush=True)
        after = measure(start_scan(folder / "after"), options.seconds)
    loaded = measured[0] if measured else Throughput(0, 0.0)
    print()
    log = (folder / "serve.log").read_text().splitlines()
    print(next((line for line in log if line.startswith("stoat: serving")), "serve said nothing"))
    print(f"machine: {os.cpu_count()} cores, {started_load} before, {load_average()} after")
    report("progress partial", progress)
    report("library pages", library)
    used = ", ".join(
        f"{name} {(cpu_after[name] - cpu_before[name]) / window:.2f}" for name in cpu_before
    )
    print(f"CPU cores used under load: {used} (of {os.cpu_count()})")
    # CPU time per answer barely moves with other work on the machine, unlike latency.
    answered = len(progress.latencies) + len(library.latencies)
    if "web" in cpu_after and answered:
        per_request = (cpu_after["web"] - cpu_before["web"]) / answered * 1000
        print(f"web server CPU per answered request: {per_request:.2f} ms")
    quiet = (before.per_second + after.per_second) / 2
    kept = loaded.per_second / quiet if quiet else float("nan")
    print(
        f"scan throughput without load: {before.per_second:.1f} files/s before, "
        f"{after.per_second:.1f} after, mean {quiet:.1f}\n"
        f"scan throughput under load:   {loaded.per_second:.1f} files/s "
        f"({loaded.files:,} files in {loaded.seconds:.1f} s): kept {kept:.0%}"
    )
    return verdict(options, progress, library, kept)


def verdict(options: argparse.Namespace, progress: Samples, library: Samples, kept: float) -> int:
    errors = progress.error_count + library.error_count
    p99, library_p99 = progress.percentile(0.99), library.percentile(0.99)
    checks = [
        (f"errors {errors} (target {TARGET_ERRORS})", errors <= TARGET_ERRORS),
        (f"progress p99 {p99:.1f} ms (target < {TARGET_P99_MS:g} ms)", p99 < TARGET_P99_MS),
        (
            f"library p99 {library_p99:.1f} ms (target < {TARGET_LIBRARY_P99_MS:g} ms)",
            library_p99 < TARGET_LIBRARY_P99_MS,
        ),
        (f"scan kept {kept:.0%} of its speed (target >= {TARGET_KEPT:.0%})", kept >= TARGET_KEPT),
    ]
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    if options.summary_file:
        line = "; ".join(text for text, _ in checks)
        options.summary_file.write_text(f"{options.server:<9} {line}; {load_average()}\n")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
