"""Run every benchmark (``bench/bench_*.py``, in name order) and print their Markdown, one after another.

    python bench/run.py [--quick]

Arguments are passed on to each benchmark; each also runs alone (``python bench/bench_leontief.py --quick``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    failed = []
    for script in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        print(f"<!-- {script.name} {' '.join(argv)} -->", flush=True)
        # One process per benchmark: no state, warm caches or memory from one timing leaks into the next.
        done = subprocess.run([sys.executable, str(script), *argv], check=False)
        if done.returncode != 0:
            failed.append(script.name)
        print(flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
