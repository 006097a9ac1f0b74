"""Benchmark of the simulator: household agents x years, wall time per run. Prints Markdown.

Run alone: ``python bench/bench_simulate.py [--quick]``. The target: 10^5 household agents over 40 years in at most
10 s. The 40-year case runs the historical scenario 1913-1940 and continues under its last regime to 1952.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from dataclasses import replace
from datetime import date

from needplan.simulate import get_scenario, run_scenario

SIZES = {"quick": [(10_000, 28), (100_000, 40)], "full": [(10_000, 28), (100_000, 28), (100_000, 40),
                                                           (300_000, 40)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sizes, one repeat")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    history = get_scenario("ussr-1913-1940")
    print(f"Simulator benchmark, {date.today().isoformat()}, Python {platform.python_version()}, "
          f"`python bench/bench_simulate.py{' --quick' if args.quick else ''}`\n")
    print("| households | years | median s | s per year | target |")
    print("|---:|---:|---:|---:|---|")
    for households, years in SIZES["quick" if args.quick else "full"]:
        scenario = replace(history, name=f"bench-{years}", end_year=history.start_year + years - 1)
        times = []
        for r in range(repeats):
            start = time.perf_counter()
            run_scenario(scenario, seed=r, n_households=households)
            times.append(time.perf_counter() - start)
        med = statistics.median(times)
        target = ("<= 10 s: " + ("met" if med <= 10 else "MISSED")) if (households, years) == (100_000, 40) else ""
        print(f"| {households:,} | {years} | {med:.2f} | {med / years:.3f} | {target} |")


if __name__ == "__main__":
    main()
