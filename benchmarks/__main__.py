"""`python -m benchmarks [--quick]`: build libraries in a temp folder, measure, print figures."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import baseline, environment


@dataclass(frozen=True)
class Sizes:
    clips: int
    sources: int
    files: int
    trials: int
    rescans: int
    repeats: int  # of each 1-worker and 2-worker cold scan
    hd_copies: int  # links of each camera-like file in the HD library
    hd_repeats: int  # of the thumbnail step and each decoder setting


FULL = Sizes(
    clips=1000, sources=300, files=100_000, trials=20, rescans=3, repeats=2, hd_copies=4,
    hd_repeats=15,
)  # fmt: skip
QUICK = Sizes(
    clips=200, sources=50, files=10_000, trials=5, rescans=2, repeats=1, hd_copies=1,
    hd_repeats=5,
)  # fmt: skip


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--clips", type=int, help="clips in the cold-scan library")
    parser.add_argument("--files", type=int, help="files in the unchanged-rescan library")
    parser.add_argument("--trials", type=int, help="cancel trials")
    parser.add_argument("--hd-copies", type=int, help="links of each file in the HD library")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument(
        "--only",
        choices=["cold", "rescan", "cancel", "workers", "hd"],
        action="append",
        help="sections",
    )
    return parser.parse_args(argv)


def say(text: str = "") -> None:
    print(text, flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str]) -> int:
    args = parse(argv)
    preset = QUICK if args.quick else FULL
    sizes = Sizes(
        clips=args.clips or preset.clips,
        sources=min(preset.sources, args.clips or preset.clips),
        files=args.files or preset.files,
        trials=args.trials or preset.trials,
        rescans=preset.rescans,
        repeats=preset.repeats,
        hd_copies=args.hd_copies or preset.hd_copies,
        hd_repeats=preset.hd_repeats,
    )
    sections = set(args.only or ["cold", "rescan", "cancel", "workers", "hd"])
    base = environment.prepare(args.keep)
    try:
        run(base, sizes, sections)
        if sizes != FULL:
            say("  (reduced sizes: fixed costs weigh more; the targets are for the full run)")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def run(base: Path, sizes: Sizes, sections: set[str]) -> None:
    from django.conf import settings

    from benchmarks import libraries, realmedia, scenarios

    spec = libraries.ClipSpec()
    thumbs = Path(settings.STOAT_THUMB_DIR)
    say(f"stoat benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    say(environment.describe())
    clock = time.perf_counter()
    sources = libraries.make_sources(base / "sources", sizes.sources, spec)
    cold = base / "cold"
    cold_paths = libraries.copy_library(cold, sources, sizes.clips)
    say(
        f"libraries: {sizes.clips:,} clips ({spec}, {sizes.sources} distinct, every 4th with audio,"
        f" every 5th Matroska) built in {time.perf_counter() - clock:.1f} s"
    )
    summary: list[str] = []

    if "cold" in sections:
        say()
        say(f"1. cold scan of {sizes.clips:,} clips (probe + thumbnail + database), 2 workers")
        versus = realmedia.cold_versus_baseline(say, base, cold, cold_paths, thumbs, target=30)
        if versus.ratio is not None:
            ok = versus.ratio >= 30
            ratio = f"{versus.ratio:8.1f}x"
            summary.append(f"cold scan vs baseline   {ratio}      >= 30x     {verdict(ok)}")

    if "rescan" in sections:
        say()
        say(f"2. rescan of an unchanged {sizes.files:,}-file library (hard links), 2 workers")
        clock = time.perf_counter()
        big = base / "big"
        pairs = libraries.link_library(big, sources, sizes.files)
        libraries.seed_library(pairs)
        del pairs
        say(f"   library linked and its rows stored in {time.perf_counter() - clock:.1f} s")
        rescan = scenarios.rescan(base, big, sizes.files, sizes.rescans, workers=2)
        for number, r in enumerate(rescan.runs, start=1):
            say(
                f"   run {number}     {r.unchanged:,} unchanged in {r.seconds:.2f} s"
                f" = {r.unchanged / r.seconds:,.0f} files/s (the job itself: {r.job_seconds:.2f} s)"
            )
        rate = sizes.files / rescan.median_seconds
        ok = rate >= 150_000
        say(f"   median    {rate:,.0f} files/s (target >= 150,000: {verdict(ok)})")
        summary.append(f"unchanged rescan        {rate:8,.0f} f/s  >= 150,000 {verdict(ok)}")
        say()
        say(f"4. peak RSS of the worker during (2): {rescan.peak_rss_mib:.1f} MiB")
        say(
            f"   (highest VmHWM of the cluster's {rescan.processes} processes;"
            f" target <= 300 MB: {verdict(rescan.peak_rss_mib <= 300)})"
        )
        summary.append(
            f"worker peak RSS         {rescan.peak_rss_mib:8.1f} MiB  <= 300 MB   "
            f"{verdict(rescan.peak_rss_mib <= 300)}"
        )

    if "cancel" in sections:
        say()
        say(
            f"3. cancel latency, {sizes.trials} trials on the {sizes.clips:,}-clip library,"
            " 2 workers"
        )
        latency = scenarios.cancel_latency(base, cold, thumbs, sizes.trials, workers=2)
        values = " ".join(f"{value:.3f}" for value in latency.seconds)
        say(f"   each (s)  {values}")
        say(f"   files read before the stop: {' '.join(map(str, latency.at_processed))}")
        ok = latency.median <= 0.2 and latency.worst <= 1.0
        say(
            f"   median {latency.median:.3f} s, max {latency.worst:.3f} s"
            f" (target median <= 0.2 s, max <= 1 s: {verdict(ok)})"
        )
        if set(latency.statuses) != {"cancelled"}:
            say(f"   note: jobs ended as {sorted(set(latency.statuses))}")
        summary.append(
            f"cancel median / max     {latency.median:5.3f} / {latency.worst:5.3f} s"
            f"  <= 0.2 / 1 s  {verdict(ok)}"
        )

    if "workers" in sections:
        say()
        say(
            f"5. one cold scan of {sizes.clips:,} clips on 1 worker vs 2 workers,"
            f" {sizes.repeats} of each, alternated"
        )
        speed = scenarios.speed_up(base, cold, sizes.clips, thumbs, sizes.repeats)
        for label, runs in (("1 worker ", speed.one), ("2 workers", speed.two)):
            each = ", ".join(f"{r.seconds:.2f} s" for r in runs)
            best = speed.best(runs)
            say(
                f"   {label} {each}: best {best.processed / best.seconds:,.1f} files/s,"
                f" the cluster using {best.cores:.2f} cores meanwhile"
            )
        ok = speed.ratio >= 1.6
        say(f"   speed-up  {speed.ratio:.2f}x (target >= 1.6x: {verdict(ok)})")
        summary.append(f"2 workers vs 1          {speed.ratio:8.2f}x      >= 1.6x    {verdict(ok)}")

    if "hd" in sections:
        say()
        say("6. camera-like media (made with PyAV, cached), beside the small clips")
        summary += realmedia.run(say, base, cold_paths, thumbs, sizes.hd_copies, sizes.hd_repeats)

    say()
    say("summary                 measured       target     ")
    for line in summary:
        say(f"  {line}")
    if not baseline.available():
        say("  (baseline skipped: ffmpeg is not installed)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
