"""Benchmark of filling a ray plan by leximin (``solve(..., fill="leximin")``, ``needplan plan --fill leximin``):
what it costs beside the ray alone, and what it changes, in the same run.

    python bench/bench_fill.py [--quick] [--sizes N,...] [--repeats K] [--families F,...]

Instances: :func:`needplan.data.generate.generate_economy` (seed 1), built by
:func:`needplan.plan.model.build_plan` with ``"ray"``, solved by ``auto`` (HiGHS below 3,000 techniques, ``fast``
from there on, HiGHS again where fast declines: the structured family), tolerance 1e-6, each ``repeats`` times
(median), with read-back and verification. Filling has no peer to compare with: the ray alone is its baseline.
Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import re
import statistics
import sys
import time
from typing import Any

from needplan.data.generate import generate_economy
from needplan.plan import build_plan

SIZES = {"full": {"uniform": [1_000, 3_000, 10_000, 100_000], "structured": [1_000, 3_000]},
         "quick": {"uniform": [300, 3_000], "structured": [300]}}
"""Registry of problem sizes (goods) per family; structured economies go to HiGHS, whose ray alone takes about
100 s at 10^4 goods (docs/benchmarks.md)."""
TOLERANCE = 1e-6


def run(family: str, n: int, repeats: int) -> dict[str, Any]:
    eco = generate_economy(n, family=family, seed=1)
    times: dict[bool, list[float]] = {False: [], True: []}
    results = {}
    for _ in range(repeats):
        for fill in (False, True):
            start = time.perf_counter()
            results[fill] = build_plan(eco, "ray").solve("auto", tolerance=TOLERANCE,
                                                         fill="leximin" if fill else None)
            times[fill].append(time.perf_counter() - start)
    plain, filled = results[False], results[True]
    note = str(filled.solver.get("note", ""))
    raised = re.search(r"([\d,]+) of [\d,]+ needs above", note)
    labour = re.search(r"labour ([\d,.e+-]+) against ([\d,.e+-]+)", note)
    first = float(labour[2].replace(",", "")) if labour else float("nan")
    saved = 1 - float(labour[1].replace(",", "")) / first if labour and first > 0 else float("nan")
    return {"family": family, "goods": n, "needs": len(filled.needs), "solver": filled.solver["name"],
            "plain": statistics.median(times[False]), "filled": statistics.median(times[True]),
            "status": f"{plain.status} / {filled.status}", "rounds": filled.solver.get("fill_rounds", 0),
            "raised": raised[1] if raised else "0", "saved": saved, "part": "only in part" in note,
            "fulfilment": abs(filled.fulfilment - plain.fulfilment) / plain.fulfilment
            if plain.fulfilment and filled.fulfilment is not None else float("nan")}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--families", default="uniform,structured")
    args, _ = parser.parse_known_args(argv)  # bench/run.py passes every benchmark the same arguments
    print(f"### Filling ray plans (seed 1), tolerance {TOLERANCE:g}\n")
    print(f"`python bench/bench_fill.py {' '.join(argv)}`".replace(" `", "`") + f" on {dt.date.today()}, "
          f"{platform.machine()}, Python {platform.python_version()}; medians of {args.repeats}, engine time "
          "(solve, read-back and verification).\n")
    print("| family | goods | needs | solver | ray alone | ray + fill | fill / ray | status | rounds | needs raised | "
          "labour saved | lambda rel. diff |")
    print("|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for family in args.families.split(","):
        for n in args.sizes or SIZES["quick" if args.quick else "full"][family]:
            row = run(family, n, args.repeats)
            print(f"| {family} | {n:,} | {row['needs']:,} | {row['solver']} | {row['plain']:.3f} s | "
                  f"{row['filled']:.3f} s | {row['filled'] / row['plain']:.1f}x | {row['status']}"
                  f"{' (in part)' if row['part'] else ''} | {row['rounds']} | {row['raised']} | "
                  f"{row['saved']:.2%} | {row['fulfilment']:.1e} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
