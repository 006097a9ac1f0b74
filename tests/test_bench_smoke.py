"""The benchmarks keep running: each stage of ``bench/bench_memory.py`` on a small economy, in this process.

``bench/run.py --quick`` takes minutes, so the suite does not run it; this catches the engine's internal API moving
under a benchmark (``_solve_fast`` came to return ``(solution, why)`` in session 18, and the memory benchmark
failed from then until session 22)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_memory_benchmark_runs_each_stage(tmp_path: Path) -> None:
    bench = _load("bench_memory")
    folder = str(tmp_path / "economy")
    generated = bench.stage_generate(300, folder)
    planned = bench.stage_plan(folder)
    in_memory = bench.stage_memory(300)
    assert planned["status"] == "optimal" and planned["nnz"] > 0
    stages = [r["stage"] for part in (generated, planned, in_memory) for r in part["rows"]]
    assert "solve (fast)" in stages and "read_back" in stages and len(stages) == 8


def test_the_fill_benchmark_reads_what_filling_did() -> None:
    """The benchmark reads the note's numbers: a change in its wording must not leave its columns empty."""
    row = _load("bench_fill").run("structured", 120, 1)
    assert row["status"] == "optimal / optimal" and row["rounds"] >= 1
    assert row["saved"] == row["saved"]  # not NaN: the labour sentence was found


def test_the_startup_benchmark_times_a_process_and_refuses_a_failing_one() -> None:
    bench = _load("bench_startup")
    assert bench.time_once(bench.COMMANDS["needplan --help"], None) > 0
    with pytest.raises(RuntimeError, match="exit code 3"):
        bench.time_once("raise SystemExit(3)", None)
