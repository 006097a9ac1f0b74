"""Benchmark: the Leontief gross-output solve (Neumann) against scipy's sparse direct solver, in the same run.

Economies come from ``needplan.data.generate`` (uniform family, about 10 inputs per good, seed 0). For each size
it times one sparse matrix-vector product ``A @ x`` (the unit of work of the iteration), the Neumann solve
``needplan.leontief.gross_output(A, d, method="neumann")`` for the needs as final demand, and scipy's direct
solve (SuperLU: ``splu(I - A).solve(d)``) in a subprocess with a time and memory limit, since its fill-in on
random sparse structure can be enormous. Prints one Markdown table; ``--quick`` runs small sizes only.

    python bench/bench_leontief.py [--quick] [--sizes 10000,100000,1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from needplan import leontief
from needplan.data.generate import generate_tables, make_spec

SIZES = {"full": (10_000, 100_000, 1_000_000), "quick": (1_000, 10_000)}
"""Registry of problem sizes (goods)."""
DIRECT_SECONDS = {"full": 120.0, "quick": 20.0}
DIRECT_MEMORY_GB = 6.0
"""Address-space limit of the direct solve's subprocess: the machine is shared, SuperLU's fill-in must not eat it."""


def leontief_system(n_goods: int, *, inputs_per_good: int = 10, family: str = "uniform",
                    seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """The technology matrix ``A`` (n x n, first techniques, CSR float64) and the needs ``d`` (n,) of a
    generated economy, built straight from the generator's tables (their id columns are categorical codes)."""
    spec = make_spec(n_goods, inputs_per_good=inputs_per_good, family=family, seed=seed)
    tables = generate_tables(spec)
    inputs, techniques = tables["inputs"], tables["techniques"]
    good = np.asarray(inputs["good"].cat.codes, dtype=np.int64)
    tech = np.asarray(inputs["technique"].cat.codes, dtype=np.int64)
    # Products are the first n goods and technique t < n makes product t with output 1 (generator layout).
    keep = (good < n_goods) & (tech < n_goods)
    A = sp.csr_matrix((inputs["amount"].to_numpy()[keep], (good[keep], tech[keep])), shape=(n_goods, n_goods))
    if "outputs" in tables:
        out = tables["outputs"]
        jt = np.asarray(out["technique"].cat.codes, dtype=np.int64)
        jg = np.asarray(out["good"].cat.codes, dtype=np.int64)
        first = jt < n_goods
        A = sp.csr_matrix(A - sp.csr_matrix((out["amount"].to_numpy()[first], (jg[first], jt[first])),
                                            shape=A.shape))
    assert np.all(techniques["output"].to_numpy()[:n_goods] == 1.0)
    A.sum_duplicates()
    A.sort_indices()
    d = np.zeros(n_goods)
    needs = tables["needs"]
    d[np.asarray(needs["good"].cat.codes, dtype=np.int64)] = needs["target"].to_numpy()
    return A, d


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _direct_worker(npz: str, rhs: str) -> None:
    """Runs in the subprocess: factorise I - A with SuperLU, solve, print seconds and residual as JSON."""
    A = sp.load_npz(npz).tocsr()
    d = np.load(rhs)
    start = time.perf_counter()
    M = (sp.identity(A.shape[0], format="csc") - A.tocsc()).tocsc()
    x = sp.linalg.splu(M).solve(d)
    seconds = time.perf_counter() - start
    r = d - M @ x
    print(json.dumps({"seconds": seconds, "residual": float(np.abs(r).max() / np.abs(d).max())}))


def _limit_memory() -> None:
    limit = int(DIRECT_MEMORY_GB * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def time_direct(A: sp.csr_matrix, d: np.ndarray, limit_s: float) -> tuple[float | None, str]:
    """Seconds of scipy's direct solve, or None with the reason (time or memory limit) when it did not finish."""
    with tempfile.TemporaryDirectory() as tmp:
        npz, rhs = str(Path(tmp) / "A.npz"), str(Path(tmp) / "d.npy")
        sp.save_npz(npz, A)
        np.save(rhs, d)
        try:
            done = subprocess.run([sys.executable, __file__, "--direct-worker", npz, rhs], capture_output=True,
                                  text=True, timeout=limit_s, preexec_fn=_limit_memory, check=False)
        except subprocess.TimeoutExpired:
            return None, f"> {limit_s:.0f} s"
    if done.returncode != 0:
        return None, f"failed (> {DIRECT_MEMORY_GB:.0f} GB?)" if "MemoryError" in done.stderr or \
            "memory" in done.stderr.lower() else f"failed: {done.stderr.strip().splitlines()[-1:]}"
    result = json.loads(done.stdout)
    return float(result["seconds"]), f"{result['seconds']:.3g} s"


def _bench_size(n: int, repeats: int, direct_limit_s: float | None) -> tuple[str, bool]:
    """One table row for ``n`` goods, and whether the direct solve finished (None: not run)."""
    A, d = leontief_system(n)
    x = np.ones(n)
    spmv = _median_seconds(lambda: A @ x, max(repeats * 4, 10))
    reports = []

    def neumann() -> None:
        reports.append(leontief.gross_output(A, d, method="neumann")[1])

    solve = _median_seconds(neumann, repeats)
    report = reports[-1]
    if direct_limit_s is None:
        direct, direct_text, ratio = None, "not run (a smaller size ran out of time)", "-"
    else:
        direct, direct_text = time_direct(A, d, direct_limit_s)
        ratio = f"{direct / solve:.0f}x" if direct is not None else f"> {direct_limit_s / solve:.0f}x"
    row = (f"| {n:,} | {A.nnz:,} | {spmv * 1e3:.3g} | {solve * 1e3:.4g} | {report.iterations} | "
           f"{solve / spmv:.0f} | {report.residual:.1e} | {direct_text} | {ratio} |")
    return row, direct is not None


def run(sizes: tuple[int, ...], repeats: int, direct_limit_s: float) -> str:
    """Benchmark every size (ascending); returns the Markdown table. Once the direct solve runs out of time or
    memory, larger sizes skip it (its cost only grows with the fill-in)."""
    rows = []
    direct_ok = True
    for n in sorted(sizes):
        row, finished = _bench_size(n, repeats, direct_limit_s if direct_ok else None)
        direct_ok = direct_ok and finished
        rows.append(row)
        print(f"  {n:,} goods done", file=sys.stderr, flush=True)
    header = ("| goods | nonzeros of A | SpMV `A @ x` (ms) | Neumann solve (ms) | iterations | "
              "solve in SpMV equivalents | relative residual | scipy direct (`splu`) | direct / Neumann |\n"
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    return header + "\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--sizes", help="comma-separated numbers of goods (overrides the registry)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per size (median reported)")
    parser.add_argument("--direct-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.direct_worker:
        _direct_worker(*args.direct_worker)
        return
    mode = "quick" if args.quick else "full"
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else SIZES[mode]
    repeats = args.repeats or (3 if args.quick else 5)
    table = run(sizes, repeats, DIRECT_SECONDS[mode])
    print(f"### Leontief gross output: Neumann vs scipy direct ({mode})\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"`python bench/bench_leontief.py {given}`".replace(" `", "`") + f" on {dt.date.today()}, "
          f"{platform.processor() or platform.machine()}, numpy {np.__version__}, scipy {_scipy()}; "
          f"uniform family, 10 inputs per good, seed 0; medians of {repeats} solves "
          f"(SpMV: of {max(repeats * 4, 10)}); tolerance 1e-12; direct solve limited to "
          f"{DIRECT_SECONDS[mode]:.0f} s and {DIRECT_MEMORY_GB:.0f} GB.\n")
    print(table)


def _scipy() -> str:
    import scipy

    return scipy.__version__


if __name__ == "__main__":
    main()
