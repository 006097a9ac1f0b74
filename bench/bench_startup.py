"""Benchmark of the command line's start-up: wall time of whole fresh processes, from start to exit.

    python bench/bench_startup.py [--quick] [--repeats K] [--tree SRC ...]

Commands: ``import needplan``, ``needplan --help``, ``needplan plan --help`` and ``needplan plan`` on the shipped
demo economy (the README's first command solves it), each run as ``python -c`` on :func:`needplan.cli.main` in a
new process, ``repeats`` times (median, min, max). ``--tree`` (repeatable) times the package from other source
trees in the same run (``PYTHONPATH``), alternating between trees on every repeat, so that a change can be
compared with its base on a noisy machine (the first tree is the baseline of the ratio column). Prints one
Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "src" / "needplan" / "data" / "demo"
COMMANDS = {
    "import needplan": "import needplan",
    "needplan --help": "from needplan.cli import main; main(['--help'])",
    "needplan plan --help": "from needplan.cli import main; main(['plan', '--help'])",
    "needplan plan DEMO": f"from needplan.cli import main; main(['plan', {str(DEMO)!r}])",
}
"""What is timed: a label and the Python code a fresh process runs (``SystemExit`` from the CLI ends it)."""
REPEATS = {"full": 7, "quick": 2}


def time_once(code: str, tree: str | None) -> float:
    """Seconds of wall time for one fresh ``python -c code`` with ``tree`` first on ``PYTHONPATH``."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [tree, env.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{code!r} failed with exit code {done.returncode}: {done.stderr.strip()[-500:]}")
    return seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--tree", action="append", help="a source tree (its src folder) to time; repeatable")
    args = parser.parse_args(argv)
    repeats = args.repeats or REPEATS["quick" if args.quick else "full"]
    trees: list[str | None] = list(args.tree) if args.tree else [None]
    times: dict[tuple[str, int], list[float]] = {(label, i): [] for label in COMMANDS for i in range(len(trees))}
    for _ in range(repeats):
        for label, code in COMMANDS.items():
            for i, tree in enumerate(trees):
                times[label, i].append(time_once(code, tree))
    print(f"Start-up benchmark, {dt.date.today()}, Python {platform.python_version()}, "
          f"`python bench/bench_startup.py {' '.join(argv)}`".rstrip() + "\n")
    print("| command | tree | median | min | max | median / first tree's |")
    print("|---|---|---:|---:|---:|---:|")
    for label in COMMANDS:
        base = statistics.median(times[label, 0])
        for i, tree in enumerate(trees):
            run = times[label, i]
            print(f"| {label} | {tree or 'installed'} | {statistics.median(run):.3f} s | {min(run):.3f} s | "
                  f"{max(run):.3f} s | {statistics.median(run) / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
