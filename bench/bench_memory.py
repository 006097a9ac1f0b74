"""Benchmark: time and peak memory of each stage from generating an economy to reading a plan back.

The path of ``needplan generate OUT --goods N`` then ``needplan plan OUT --solver fast`` (uniform family, 10
inputs per good, seed 0), split into stages, each measured in the same fresh process as the stages before it:

* ``generate + write``: :func:`needplan.data.generate.write_generated` (Parquet), alone in its own process;
* ``read_economy``: reading and validating the folder (includes the productivity check);
* ``technology()``: the square Leontief system of the default choice;
* ``build_plan (ray)``: the planning LP;
* ``solve (fast)``: the solver alone (``solve_model`` without its read-back);
* ``read_back``: the verified result tables and the bottleneck explanations;
* ``generate_economy + build_plan``: the in-memory path (no folder), in a third process.

For each stage: wall seconds, the peak resident memory during the stage (Linux ``VmHWM``, reset before each stage
through ``/proc/self/clear_refs``) and the resident memory held after it. Issue 3's budget is a peak of at most
4x the LP matrix (CSR data + indices + indptr). Prints one Markdown table; ``--quick`` runs 10^4 goods.

    python bench/bench_memory.py [--quick] [--goods 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZES = {"full": 1_000_000, "quick": 10_000}
"""Registry of problem sizes (goods)."""
MIB = 1024.0 * 1024.0


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    try:  # writing 5 resets the peak resident set size (Linux >= 4.0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


class Stages:
    """Runs stages one after another, recording seconds, peak and held resident memory (MiB) of each."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        _reset_peak()
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
        self.rows.append({"stage": name, "seconds": seconds, "peak_mib": _status_kib("VmHWM") / 1024.0,
                          "held_mib": _status_kib("VmRSS") / 1024.0})
        return value


def stage_generate(goods: int, folder: str) -> dict[str, Any]:
    from needplan.data.generate import make_spec, write_generated

    run = Stages()
    base = _status_kib("VmRSS") / 1024.0
    run("generate + write Parquet", lambda: write_generated(folder, make_spec(goods), overwrite=True))
    return {"rows": run.rows, "base_mib": base}


def stage_plan(folder: str) -> dict[str, Any]:
    from needplan.economy import read_economy
    from needplan.plan import build_plan
    from needplan.plan.result import read_back
    from needplan.plan.solve import _solve_fast, fast_module

    run = Stages()
    base = _status_kib("VmRSS") / 1024.0
    economy = run("read_economy", lambda: read_economy(folder))
    run("Economy.technology()", economy.technology)
    model = run("build_plan (ray)", lambda: build_plan(economy, "ray"))
    fast = fast_module()
    assert fast is not None, "the fast solver is not installed"
    sol, declined = run("solve (fast)", lambda: _solve_fast(model, fast, 1e-6, None))
    assert sol is not None, f"fast declined the LP: {declined}"
    result = run("read_back", lambda: read_back(model, sol, tolerance=1e-6))
    A = model.lp.A
    return {"rows": run.rows, "base_mib": base, "status": result.status,
            "matrix_mib": (A.data.nbytes + A.indices.nbytes + A.indptr.nbytes) / MIB, "nnz": int(A.nnz),
            "shape": list(A.shape), "input_rows": int(economy.use.nnz)}


def stage_memory(goods: int) -> dict[str, Any]:
    from needplan.data.generate import generate_economy
    from needplan.plan import build_plan

    run = Stages()
    base = _status_kib("VmRSS") / 1024.0
    economy = run("generate_economy (in memory)", lambda: generate_economy(goods))
    run("build_plan (ray), after it", lambda: build_plan(economy, "ray"))
    return {"rows": run.rows, "base_mib": base}


def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10^4 goods instead of 10^6")
    parser.add_argument("--goods", type=int, default=None)
    parser.add_argument("--stage", choices=("generate", "plan", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    goods = args.goods or SIZES["quick" if args.quick else "full"]
    if args.stage == "generate":
        print(json.dumps(stage_generate(goods, args.folder)))
        return 0
    if args.stage == "plan":
        print(json.dumps(stage_plan(args.folder)))
        return 0
    if args.stage == "memory":
        print(json.dumps(stage_memory(goods)))
        return 0

    with tempfile.TemporaryDirectory(prefix="needplan-bench-memory-") as tmp:
        folder = str(Path(tmp) / "economy")
        gen = _child(["--stage", "generate", "--goods", str(goods), "--folder", folder])
        plan = _child(["--stage", "plan", "--folder", folder])
    mem = _child(["--stage", "memory", "--goods", str(goods)])
    budget = 4 * plan["matrix_mib"]
    print(f"### Memory and load time, {goods:,} goods (uniform, 10 inputs per good, seed 0)\n")
    print(f"`python bench/bench_memory.py {' '.join(argv)}`".replace(" `", "`") + f" on {dt.date.today()}, "
          f"{platform.machine()}, Python {platform.python_version()}. LP matrix {plan['shape'][0]:,} x "
          f"{plan['shape'][1]:,}, {plan['nnz']:,} entries, {plan['matrix_mib']:,.0f} MiB (CSR); budget 4x = "
          f"{budget:,.0f} MiB. Plan status: {plan['status']}.\n")
    print("| process | stage | seconds | peak RSS in stage (MiB) | RSS after (MiB) | peak / matrix |")
    print("|---|---|---:|---:|---:|---:|")
    for label, part in (("1", gen), ("2", plan), ("3", mem)):
        print(f"| {label} | (interpreter and imports) | | | {part['base_mib']:,.0f} | |")
        for r in part["rows"]:
            print(f"| {label} | {r['stage']} | {r['seconds']:.1f} | {r['peak_mib']:,.0f} | {r['held_mib']:,.0f} "
                  f"| {r['peak_mib'] / plan['matrix_mib']:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
