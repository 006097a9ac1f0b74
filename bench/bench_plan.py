"""Benchmark of the plan engine's fast ray solver against HiGHS (simplex, interior point) and OR-Tools PDLP.

Run alone: ``python bench/bench_plan.py [--quick] [--limit SECONDS] [--repeats K]``; prints a Markdown table.
Instances come from :func:`needplan.plan.fast_instances.random_ray_lp` (the issue's *uniform* and *structured*
families; *structured-nojoint* is the structured family without joint products, the case the fast path covers
in full). Peers run once per instance with a time limit (reported as "> limit"); ours runs ``repeats`` times and
the median is reported. 10^6 goods are run for ours only, in a subprocess, to measure its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

from needplan.plan.fast import solve_ray
from needplan.plan.fast_instances import RayInstance, random_ray_lp

FAMILIES = {"uniform": {}, "structured": {}, "structured-nojoint": {"joint_share": 0.0}}
SIZES = {"quick": [1000, 3000], "full": [3000, 10_000, 100_000]}
HIGHS_MAX = 10_000  # HiGHS needs minutes beyond this (321 s at 10^4 uniform in the issue)


def make(family: str, n: int, seed: int = 1) -> RayInstance:
    base = "structured" if family.startswith("structured") else "uniform"
    return random_ray_lp(n, base, seed=seed, **FAMILIES[family])  # type: ignore[arg-type]


def _lp_arrays(inst: RayInstance) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Variables [lam, x]; rows: lam t - net x <= 0, primary x <= available."""
    m, n = inst.net.shape
    k = inst.primary.shape[0]
    A = sp.vstack([sp.hstack([sp.csr_matrix(inst.target.reshape(-1, 1)), -inst.net]),
                   sp.hstack([sp.csr_matrix((k, 1)), inst.primary])], format="csc")
    row_up = np.concatenate([np.zeros(m), inst.available])
    col_lo = np.zeros(n + 1)
    col_up = np.concatenate([[np.inf], inst.capacity])
    return A, row_up, col_lo, col_up, np.r_[1.0, np.zeros(n)]


def run_highs(inst: RayInstance, solver: str, limit: float) -> dict[str, object]:
    import highspy

    A, row_up, col_lo, col_up, c = _lp_arrays(inst)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", solver)
    h.setOptionValue("time_limit", float(limit))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = c
    lp.col_lower_, lp.col_upper_ = col_lo, np.where(np.isinf(col_up), highspy.kHighsInf, col_up)
    lp.row_lower_ = np.full(A.shape[0], -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isinf(row_up), highspy.kHighsInf, row_up)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    h.passModel(lp)
    t0 = time.perf_counter()
    h.run()
    secs = time.perf_counter() - t0
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    info = h.getInfo()
    its = info.simplex_iteration_count if solver == "simplex" else info.ipm_iteration_count
    return {"seconds": secs, "ok": ok, "lam": info.objective_function_value if ok else None, "iterations": its}


def run_pdlp(inst: RayInstance, limit: float) -> dict[str, object]:
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    A, row_up, col_lo, col_up, c = _lp_arrays(inst)
    qp = pdlp.QuadraticProgram()
    qp.objective_vector = -c
    qp.constraint_matrix = A.tocsr()
    qp.constraint_lower_bounds = np.full(A.shape[0], -np.inf)
    qp.constraint_upper_bounds = row_up
    qp.variable_lower_bounds, qp.variable_upper_bounds = col_lo, col_up
    params = solvers_pb2.PrimalDualHybridGradientParams()
    opt = params.termination_criteria.simple_optimality_criteria
    opt.eps_optimal_relative = 1e-6
    opt.eps_optimal_absolute = 1e-6
    params.termination_criteria.time_sec_limit = float(limit)
    params.num_threads = 1
    t0 = time.perf_counter()
    res = pdlp.primal_dual_hybrid_gradient(qp, params)
    secs = time.perf_counter() - t0
    ok = res.solve_log.termination_reason == solve_log_pb2.TERMINATION_REASON_OPTIMAL
    lam = float(res.primal_solution[0]) if ok else None
    return {"seconds": secs, "ok": ok, "lam": lam, "iterations": res.solve_log.iteration_count}


def run_ours(inst: RayInstance, repeats: int, limit: float) -> dict[str, object]:
    times, r = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = solve_ray(inst.net, inst.primary, inst.available, inst.capacity, inst.target, main=inst.main,
                      time_limit=limit)
        times.append(time.perf_counter() - t0)
        if times[-1] > 5.0:
            break  # a slow case (the HiGHS fallback): one run says enough
    assert r is not None
    return {"seconds": statistics.median(times), "ok": r.status == "optimal", "lam": r.lam,
            "iterations": r.iterations, "method": r.method.split(" (")[0], "status": r.status,
            "cert": max(r.primal_residual, r.dual_residual, r.gap), "repeats": len(times)}


def _child(family: str, n: int, limit: float) -> None:
    """Runs in a subprocess: one solve, prints JSON with the peak RSS."""
    inst = make(family, n)
    with open("/proc/self/statm") as f:
        rss_before = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    out = run_ours(inst, 1, limit)
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["rss_before_solve"] = rss_before
    out["input_bytes"] = inst.nbytes
    print(json.dumps(out))


def fmt(res: dict[str, object] | None, limit: float) -> str:
    if res is None:
        return "not run"
    if not res["ok"]:
        secs = float(res["seconds"])
        return f"> {limit:.0f} s" if secs >= 0.95 * limit else f"failed ({secs:.2f} s)"
    return f"{float(res['seconds']):.3f} s ({res['iterations']} it)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--huge", type=int, default=1_000_000)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--sizes", default="")
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]), args.limit)
        return
    sizes = [int(v) for v in args.sizes.split(",")] if args.sizes else SIZES["quick" if args.quick else "full"]
    limit = 10.0 if args.quick else args.limit
    print("| family | goods | ours | ours method | HiGHS simplex | HiGHS IPM | PDLP | best peer / ours "
          "| max rel. diff of lam |")
    print("|---|---|---|---|---|---|---|---|---|")
    for family in args.families.split(","):
        for n in sizes:
            inst = make(family, n)
            ours = run_ours(inst, args.repeats, limit)
            hs = run_highs(inst, "simplex", limit) if n <= HIGHS_MAX else None
            hi = run_highs(inst, "ipm", limit) if n <= HIGHS_MAX else None
            pd = run_pdlp(inst, limit)
            peers = [p for p in (hs, hi, pd) if p is not None]
            done = [float(p["seconds"]) for p in peers if p["ok"]]
            best = min(done) if done else None
            lower = min(float(p["seconds"]) for p in peers)
            ratio = (f"{best / float(ours['seconds']):.1f}x" if best is not None
                     else f"> {lower / float(ours['seconds']):.0f}x (no peer finished)")
            if not ours["ok"]:
                ratio = "ours did not finish"
            diffs = [abs(float(p["lam"]) - float(ours["lam"])) / max(abs(float(p["lam"])), 1e-12)
                     for p in peers if p["ok"] and ours["ok"]]
            diff = f"{max(diffs):.1e}" if diffs else "-"
            print(f"| {family} | {n:,} | {fmt(ours, limit)} | {ours['method']} (cert {float(ours['cert']):.0e}) | "
                  f"{fmt(hs, limit)} | {fmt(hi, limit)} | {fmt(pd, limit)} | {ratio} | {diff} |", flush=True)
    if not args.quick:
        for family in [f for f in ("uniform", "structured-nojoint") if f in args.families.split(",")]:
            out = subprocess.run([sys.executable, __file__, "--child", family, str(args.huge), "--limit",
                                  str(limit)], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"\n{family} {args.huge:,} goods, ours only: {r['seconds']:.2f} s, status {r['status']}, "
                  f"{r['iterations']} rounds, certificate {r['cert']:.0e}; peak RSS {r['peak_rss'] / 2**20:.0f} MiB "
                  f"(RSS before the solve {r['rss_before_solve'] / 2**20:.0f} MiB), input matrices "
                  f"{r['input_bytes'] / 2**20:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
