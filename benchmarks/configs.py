"""`python -m benchmarks.configs [--quick]`: cold scan, unchanged rescan and 2 workers against 1,
on SQLite + the ORM broker and on PostgreSQL + Redis, in one run, side by side.

Settings are read once per process, so each configuration runs in a child process of its own
(`--child`), with the perf benchmark's own scenarios. The PostgreSQL run gets a throw-away database
and a Redis db and queue name of its own, all removed at the end: other runs sharing the servers
are never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

RESULT = "RESULT "
PG_ADMIN_URL = os.environ.get("STOAT_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("STOAT_BENCH_REDIS", "redis://127.0.0.1:6379")


@dataclass(frozen=True)
class Figures:
    """What one configuration measured (seconds are wall time from request to end)."""

    clips: int
    files: int
    cold_seconds: float
    rescan_seconds: float
    one_worker_seconds: float
    two_worker_seconds: float

    @property
    def cold_rate(self) -> float:
        return self.clips / self.cold_seconds

    @property
    def rescan_rate(self) -> float:
        return self.files / self.rescan_seconds

    @property
    def speed_up(self) -> float:
        return self.one_worker_seconds / self.two_worker_seconds


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.configs", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--clips", type=int, help="clips in the cold-scan library")
    parser.add_argument("--files", type=int, help="files in the unchanged-rescan library")
    parser.add_argument("--repeats", type=int, help="runs of each measurement (best is kept)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def sizes(args: argparse.Namespace) -> tuple[int, int, int]:
    clips, files, repeats = (200, 10_000, 2) if args.quick else (1000, 100_000, 3)
    return args.clips or clips, args.files or files, args.repeats or repeats


# -- in the child: one configuration, as its environment says ------------------------------------
def measure(args: argparse.Namespace) -> Figures:
    from benchmarks import environment

    base = environment.prepare(keep=False)
    from django.conf import settings

    from benchmarks import libraries, scenarios

    clips, files, repeats = sizes(args)
    print(environment.describe(), flush=True)
    thumbs = settings.STOAT_THUMB_DIR
    sources = libraries.make_sources(base / "sources", min(300, clips), libraries.ClipSpec())
    cold = base / "cold"
    libraries.copy_library(cold, sources, clips)
    cold_runs = [scenarios.cold_scan(base, cold, clips, thumbs, workers=2) for _ in range(repeats)]
    print(f"  cold scans:  {' '.join(f'{r.seconds:.2f}' for r in cold_runs)} s", flush=True)
    speed = scenarios.speed_up(base, cold, clips, thumbs, repeats)
    print(
        f"  1 worker:    {' '.join(f'{r.seconds:.2f}' for r in speed.one)} s\n"
        f"  2 workers:   {' '.join(f'{r.seconds:.2f}' for r in speed.two)} s",
        flush=True,
    )
    big = base / "big"
    libraries.seed_library(libraries.link_library(big, sources, files))
    rescan = scenarios.rescan(base, big, files, repeats, workers=2)
    print(f"  rescans:     {' '.join(f'{r.seconds:.2f}' for r in rescan.runs)} s", flush=True)
    return Figures(
        clips=clips,
        files=files,
        cold_seconds=min(r.seconds for r in cold_runs),
        rescan_seconds=min(r.seconds for r in rescan.runs),
        one_worker_seconds=speed.best(speed.one).seconds,
        two_worker_seconds=speed.best(speed.two).seconds,
    )


# -- in the parent: one child per configuration ---------------------------------------------------
class Postgres:
    """A database of its own on the shared server, dropped afterwards unless it is to be kept
    (then an existing one of that name is reused)."""

    def __init__(self, name: str, keep: bool = False) -> None:
        self.name = name
        self.keep = keep

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(sql)

    def url(self) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.name

    def exists(self) -> bool:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name])
            return found.fetchone() is not None

    def __enter__(self) -> Postgres:
        if not (self.keep and self.exists()):
            self.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            self.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def forget_queue(url: str, queue: str) -> None:
    import redis

    client = redis.from_url(url)
    keys = list(client.scan_iter(f"django_q:{queue}:*"))
    if keys:
        client.delete(*keys)


def run_child(label: str, env: dict[str, str], argv: list[str]) -> Figures:
    print(f"== {label}", flush=True)
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.configs", "--child", *argv],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    result: dict[str, Any] | None = None
    for line in child.stdout:
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
        else:
            print(line, end="", flush=True)
    if child.wait() != 0 or result is None:
        raise SystemExit(f"the {label} run failed (exit {child.returncode})")
    return Figures(**result)


def run_sqlite(argv: list[str]) -> Figures:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STOAT_BROKER_URL")}
    return run_child("SQLite + ORM broker", env, argv)


def run_postgres(argv: list[str]) -> Figures:
    run = f"{int(time.time())}_{os.getpid()}_{secrets.token_hex(2)}"
    queue = f"stoat-bench-{run}"
    redis_url = f"{REDIS_URL}/{secrets.randbelow(15) + 1}"
    with Postgres(f"stoat_bench_{run}") as database:
        env = dict(
            os.environ,
            DATABASE_URL=database.url(),
            STOAT_BROKER_URL=redis_url,
            STOAT_QUEUE_NAME=queue,
        )
        try:
            return run_child("PostgreSQL + Redis", env, argv)
        finally:
            forget_queue(redis_url, queue)


def table(results: dict[str, Figures]) -> list[str]:
    labels = {"sqlite": "SQLite + ORM", "postgres": "PostgreSQL + Redis"}
    any_result = next(iter(results.values()))
    rows = [
        f"{'':40}" + "".join(f"{labels[name]:>22}" for name in results),
        f"{f'cold scan, {any_result.clips:,} clips, 2 workers':40}"
        + "".join(f"{f.cold_rate:>18,.1f} f/s" for f in results.values()),
        f"{f'unchanged rescan, {any_result.files:,} files':40}"
        + "".join(f"{f.rescan_rate:>18,.0f} f/s" for f in results.values()),
        f"{'cold scan, 1 worker':40}"
        + "".join(f"{f.one_worker_seconds:>20.2f} s" for f in results.values()),
        f"{'cold scan, 2 workers':40}"
        + "".join(f"{f.two_worker_seconds:>20.2f} s" for f in results.values()),
        f"{'2 workers vs 1':40}" + "".join(f"{f.speed_up:>21.2f}x" for f in results.values()),
    ]
    return rows


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.child:
        print(RESULT + json.dumps(asdict(measure(args))), flush=True)
        return 0
    passed = [a for a in argv if a not in ("--only", "sqlite", "postgres")]
    runners = {"sqlite": run_sqlite, "postgres": run_postgres}
    results = {name: runners[name](passed) for name in (args.only or ["sqlite", "postgres"])}
    print(f"\nstoat on two configurations, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("(best of each; wall time from the scan request to the job's end)")
    for row in table(results):
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
