"""Find, see and play at 100,000 videos: the filtered library page with its facet counts, /stats/
(unfiltered and filtered) and the streamed export, on SQLite and on PostgreSQL.

    python -m benchmarks.find                 # both databases, 100,000 videos
    python -m benchmarks.find --videos 20000 --only sqlite
    python -m benchmarks.find --keep mine     # fill once, then reuse the databases

Each configuration runs in a child process with a fresh database filled with library rows as a
scan writes them (varied codecs, sizes, folders and dates). With `--keep NAME` the SQLite file (in
the temp folder) and the PostgreSQL database named after NAME stay after the run, and a later run
with the same NAME and `--videos` reuses them (migrations are applied, rows are not written again);
`--drop` removes them at the end. Pages are requested in process through
Django's test client, signed in, templates and all; p95 over the repeats. The export's cost is the
growth of the process's resident memory while 100,000 rows stream out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.configs import Postgres

RESULT = "RESULT "
TARGET_MS = 100.0
TARGET_EXPORT_MIB = 50.0
THREE_FILTERS = (
    "/?video_codec=h264&video_codec=hevc&resolution=1080p&resolution=4k&container=mp4"
    "&container=matroska"
)
PAGES = {
    "library, 3 filters + facets": THREE_FILTERS,
    "library, 3 filters (htmx partial)": THREE_FILTERS + "&sort=-size",
    "library, unfiltered": "/",
    "/stats/ unfiltered": "/stats/",
    "/stats/ filtered": "/stats/?resolution=4k&video_codec=hevc&min_duration=600",
    "facets API, 3 filters": "/api/v1/videos/facets" + THREE_FILTERS[1:],
}
# The whole library's counts and stats are kept until a video changes (stoat/library/summary.py):
# these are the same pages right after a write to one video row, so every request reads the rows.
AFTER_A_WRITE = {
    "library, 3 filters + facets, after a write": THREE_FILTERS,
    "/stats/ unfiltered, after a write": "/stats/",
}
GATED = {"library, 3 filters + facets", "/stats/ unfiltered", "/stats/ filtered"}
CODECS = [("h264", 50), ("hevc", 25), ("vp9", 8), ("av1", 5), ("mpeg4", 7), ("mpeg2video", 5)]
AUDIO = [("aac", 60), ("opus", 10), ("mp3", 10), ("ac3", 8), (None, 12)]
SHAPES = [((1920, 1080), 40), ((3840, 2160), 20), ((1280, 720), 20), ((640, 480), 10)]
SHAPES += [((1080, 1920), 7), ((2560, 1440), 3)]
FILES = [(("mov,mp4,m4a,3gp,3g2,mj2", "mp4"), 55), (("matroska,webm", "mkv"), 20)]
FILES += [(("mov,mp4,m4a,3gp,3g2,mj2", "mov"), 10), (("avi", "avi"), 5), (("mpegts", "ts"), 5)]
FILES += [(("matroska,webm", "webm"), 5)]


def pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def fill(count: int) -> float:
    """`count` library rows in 2,000 folders over three years; returns the seconds it took."""
    from django.db import connection

    from stoat.library.models import Video, name_key, path_key

    started = time.perf_counter()
    rng = random.Random(17)
    folders = [
        f"/srv/media/{year}/{rng.choice('abcdefgh')}-{n:04d}"
        for n, year in ((n, 2019 + n % 6) for n in range(2000))
    ]
    batch: list[Video] = []
    for number in range(count):
        (container, ext) = pick(rng, FILES)
        width, height = pick(rng, SHAPES)
        folder = rng.choice(folders)
        name = f"clip-{number:06d}.{ext}"
        path = f"{folder}/{name}"
        batch.append(
            Video(
                path=path,
                path_key=path_key(path),
                folder=folder,
                filename=name,
                name_order=name_key(name),
                size=rng.randrange(10**6, 8 * 10**9),
                mtime_ns=number,
                container=container,
                duration=rng.uniform(5, 7200),
                width=width,
                height=height,
                video_codec=pick(rng, CODECS),
                audio_codec=pick(rng, AUDIO),
                missing=rng.random() < 0.01,
            )
        )
        if len(batch) == 5000:
            Video.objects.bulk_create(batch)
            batch.clear()
    Video.objects.bulk_create(batch)
    # Spread the dates over three years, as scans over time would have added them.
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE library_video SET created_at = %s + (id %% 1096) * interval '1 day'",
                [start],
            )
        else:
            cursor.execute(
                "UPDATE library_video SET created_at = datetime(%s, '+' || (id % 1096) || ' days')",
                [start.strftime("%Y-%m-%d %H:%M:%S")],
            )
    settle()
    return time.perf_counter() - started


def settle() -> None:
    """What autovacuum does soon after a big scan (PostgreSQL): statistics, and the visibility
    map that lets an index answer alone (an index-only scan); on SQLite, the statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE library_video")
        else:
            cursor.execute("ANALYZE")


def timed(
    client: Any, url: str, repeats: int, htmx: bool = False, write: bool = False
) -> list[float]:
    headers = {"HX-Request": "true"} if htmx else {}
    client.get(url, headers=headers)  # warm: templates compiled, connection open
    times = []
    for _ in range(repeats):
        if write:
            touch_one_video()
        begun = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - begun) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return times


def touch_one_video() -> None:
    """A write a scan could make (outside the timing): the library's version changes."""
    from django.db.models import F

    from stoat.library.models import Video

    Video.objects.filter(pk=Video.objects.order_by("id").values("pk")[:1]).update(
        mtime_ns=F("mtime_ns") + 1
    )


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def export_growth(client: Any, url: str) -> tuple[float, int, float]:
    """Resident memory growth (MiB) while the export streams, its bytes, and its seconds."""
    before = rss_mib()
    peak = before
    size = 0
    begun = time.perf_counter()
    response = client.get(url)
    for count, chunk in enumerate(response.streaming_content):
        size += len(chunk)
        if count % 20 == 0:
            peak = max(peak, rss_mib())
    return max(peak, rss_mib()) - before, size, time.perf_counter() - begun


def child(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks import environment

    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    if args.keep:
        environment.prepare_kept(kept_folder(args.keep))
    else:
        environment.prepare(keep=False)
    from django.contrib.auth.models import User
    from django.test import Client

    from stoat.library.models import Video

    print(f"   {environment.describe()}", flush=True)
    stored = Video.objects.count()
    if stored == args.videos:
        settle()  # indexes a new migration made get their statistics
        print(f"   {stored:,} videos kept from an earlier run", flush=True)
    else:
        Video.objects.all().delete()
        seconds = fill(args.videos)
        print(f"   {Video.objects.count():,} videos stored in {seconds:.1f} s", flush=True)
    client = Client()
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True})
    client.force_login(user)
    figures: dict[str, Any] = {"pages": {}, "export": {}}
    for label, url in [*PAGES.items(), *AFTER_A_WRITE.items()]:
        times = timed(client, url, args.repeats, "htmx" in label, label in AFTER_A_WRITE)
        p95 = statistics.quantiles(times, n=20)[-1]
        figures["pages"][label] = (statistics.median(times), p95)
        print(
            f"   {label:<43} median {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms",
            flush=True,
        )
    for fmt in ("csv", "json"):
        growth, size, took = export_growth(client, f"/export.{fmt}")
        figures["export"][fmt] = (growth, size, took)
        print(
            f"   export {fmt}: {size / 2**20:.1f} MiB in {took:.1f} s, "
            f"resident memory +{growth:.1f} MiB",
            flush=True,
        )
    return figures


def kept_folder(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"stoat-bench-find-{name}"


def run_child(label: str, env: dict[str, str], argv: list[str]) -> dict[str, Any]:
    print(f"== {label}", flush=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.find", "--child", *argv],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    result: dict[str, Any] | None = None
    for line in process.stdout:
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or result is None:
        raise SystemExit(f"the {label} run failed (exit {process.returncode})")
    return result


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.find", description=__doc__)
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--keep", metavar="NAME", help="keep the filled databases to reuse them")
    parser.add_argument("--drop", action="store_true", help="with --keep: remove them at the end")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.child:
        print(RESULT + json.dumps(child(args)), flush=True)
        return 0
    forwarded = ["--videos", str(args.videos), "--repeats", str(args.repeats)]
    if args.keep:
        forwarded += ["--keep", args.keep]
    results: dict[str, dict[str, Any]] = {}
    if args.only != "postgres":
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STOAT_BROKER_URL")}
        results["SQLite"] = run_child("SQLite", env, forwarded)
        if args.keep and args.drop:
            shutil.rmtree(kept_folder(args.keep), ignore_errors=True)
    if args.only != "sqlite":
        if args.keep:
            name = f"stoat_bench_find_{args.keep}"
        else:
            name = f"stoat_bench_find_{int(time.time())}_{secrets.token_hex(2)}"
        with Postgres(name, keep=bool(args.keep) and not args.drop) as database:
            env = dict(os.environ, DATABASE_URL=database.url())
            env.pop("STOAT_BROKER_URL", None)
            results["PostgreSQL"] = run_child("PostgreSQL", env, forwarded)
    print(
        f"== summary ({args.videos:,} videos; targets: p95 <= {TARGET_MS:g} ms, "
        f"export +{TARGET_EXPORT_MIB:g} MiB)"
    )
    failed = False
    for db, figures in results.items():
        for label, (_, p95) in figures["pages"].items():
            verdict = ("ok" if p95 <= TARGET_MS else "OVER") if label in GATED else "info"
            failed |= verdict == "OVER"
            print(
                f"{db:<11} {label:<43} p95 {p95:6.1f} ms  {p95 / TARGET_MS:4.2f}x target  {verdict}"
            )
        for fmt, (growth, _, _) in figures["export"].items():
            verdict = "ok" if growth <= TARGET_EXPORT_MIB else "OVER"
            failed |= verdict == "OVER"
            print(f"{db:<11} export {fmt:<36} +{growth:5.1f} MiB  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
