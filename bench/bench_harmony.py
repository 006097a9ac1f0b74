"""Benchmark of the harmony objective: ``solver="fast"`` (the smooth dual on Leontief economies) against Kelley's
cutting planes on HiGHS (``solver="highs"``, the exact reference and the only other path), in the same run.

    python bench/bench_harmony.py [--quick] [--sizes N,...] [--limit SECONDS] [--repeats K] [--family F]

Instances: :func:`needplan.data.generate.generate_economy` (seed 1; *uniform* family by default: one technique per
good, so fast's own path applies; on the *structured* family, ``--family structured``, fast hands harmony to
Kelley, so both columns time Kelley), built by
:func:`needplan.plan.model.build_plan` with ``"harmony"``, tolerance 1e-6. Ours runs ``repeats`` times (median);
Kelley once, with ``limit`` seconds (it reports "stopped" with its certified gap when the limit ends it). Both
include read-back and the engine's verification. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import time
from typing import Any

import numpy as np

from needplan.data.generate import generate_economy
from needplan.plan import build_plan

SIZES = {"full": [1_000, 3_000, 10_000], "quick": [300, 1_000]}
"""Registry of problem sizes (goods)."""
TOLERANCE = 1e-6


def run(n: int, limit: float, repeats: int, family: str = "uniform") -> dict[str, Any]:
    eco = generate_economy(n, family=family, seed=1)
    ours = []
    for _ in range(repeats):
        start = time.perf_counter()
        r = build_plan(eco, "harmony").solve("fast", tolerance=TOLERANCE)
        ours.append(time.perf_counter() - start)
    start = time.perf_counter()
    k = build_plan(eco, "harmony").solve("highs", tolerance=TOLERANCE, time_limit=limit)
    kelley = time.perf_counter() - start
    diff = (abs(r.objective - k.objective) / max(1.0, abs(r.objective))
            if r.objective is not None and k.objective is not None else float("nan"))
    return {"goods": n, "needs": len(r.needs), "capped": int(np.isfinite(eco.technique_capacity).sum()),
            "ours": statistics.median(ours), "ours_status": r.status, "method": r.solver.get("method", ""),
            "ours_gap": r.solver.get("gap", float("nan")), "evaluations": r.solver["iterations"],
            "newton": r.solver.get("rounds", float("nan")), "kelley": kelley, "kelley_status": k.status,
            "kelley_rounds": k.solver.get("rounds", float("nan")), "kelley_gap": k.solver.get("gap", float("nan")),
            "diff": diff}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")])
    parser.add_argument("--limit", type=float, default=120.0, help="Kelley's time limit, seconds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--family", choices=["uniform", "structured"], default="uniform")
    args = parser.parse_args(argv)
    sizes = args.sizes or SIZES["quick" if args.quick else "full"]
    print(f"### Harmony, {args.family} family (seed 1), tolerance {TOLERANCE:g}\n")
    print(f"`python bench/bench_harmony.py {' '.join(argv)}`".replace(" `", "`") + f" on {dt.date.today()}, "
          f"{platform.machine()}, Python {platform.python_version()}; Kelley limited to {args.limit:g} s.\n")
    print("| goods | needs | capped | ours (median) | ours status, method | ours gap | dual evaluations | Newton "
          "rounds | Kelley (HiGHS) | Kelley status | Kelley rounds | Kelley gap | Kelley / ours | rel. diff |")
    print("|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for n in sizes:
        row = run(n, args.limit, args.repeats, args.family)
        kelley = f"{row['kelley']:.2f} s" if row["kelley_status"] == "optimal" else f"> {row['kelley']:.0f} s"
        ratio = row["kelley"] / row["ours"]
        print(f"| {n:,} | {row['needs']:,} | {row['capped']:,} | {row['ours']:.3f} s | {row['ours_status']}, "
              f"{row['method']} | {row['ours_gap']:.1e} | {row['evaluations']} | {row['newton']:.0f} | {kelley} | "
              f"{row['kelley_status']} | {row['kelley_rounds']:.0f} | {row['kelley_gap']:.1e} | "
              f"{'> ' if row['kelley_status'] != 'optimal' else ''}{ratio:.0f}x | {row['diff']:.1e} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
