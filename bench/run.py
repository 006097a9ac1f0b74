"""Run every benchmark (``bench/bench_*.py``, in name order) and print their Markdown, one after another.

    python bench/run.py [--quick]

``--quick`` is passed on to each benchmark (the one argument they all take); each also runs alone, with its own
options (``python bench/bench_leontief.py --quick --sizes 10000``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if any(arg != "--quick" for arg in argv):
        print("bench/run.py takes only --quick; give other options to one benchmark (python bench/bench_plan.py "
              "--help)", file=sys.stderr)
        return 2
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
