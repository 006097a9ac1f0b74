"""Benchmark of the plan engine's ray and min-labour objectives: ``solver="fast"`` against HiGHS (simplex, IPM)
and OR-Tools PDLP.

Run alone: ``python bench/bench_plan.py [--quick] [--limit SECONDS] [--repeats K] [--families F,...]
[--sizes N,...] [--objective ray|min-labour]``; prints a Markdown table.
Instances are what users get: :func:`needplan.data.generate.generate_economy` (the issue's *uniform* and
*structured* families, seed 1, as ``needplan generate --family ...`` writes them), turned into the engine's LP by
:func:`needplan.plan.model.build_plan` (``"ray"`` or ``"min-labour"``). Ours is
:func:`needplan.plan.solve.solve_model` with ``solver="fast"`` (what ``needplan plan --solver fast`` runs, read-back
and verification included); the peers get the same LP (``model.lp``). Peers run once per instance with a time limit
(reported as "> limit"); ours runs ``repeats`` times and the median is reported. Without ``--quick``, 10^6 goods are
run for ours only, in a subprocess, for wall time and peak RSS against the size of the LP's matrix in bytes.
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
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from needplan.data.generate import generate_economy
from needplan.data.names import FAMILIES
from needplan.plan.lp import LinearProgram, new_highs
from needplan.plan.model import PlanModel, build_plan
from needplan.plan.solve import solve_model

SIZES = {"quick": [3000, 10_000, 100_000], "full": [3000, 10_000, 100_000]}


def make(family: str, n: int, seed: int = 1, objective: str = "ray") -> PlanModel:
    return build_plan(generate_economy(n, family=family, seed=seed), objective)


def value(lp: LinearProgram, x: Any) -> float:
    """The objective in the user's sense (lam for ray, labour for min-labour) of the LP's point ``x``."""
    return lp.objective(np.asarray(x, dtype=np.float64))


def matrix_bytes(lp: LinearProgram) -> int:
    A = sp.csr_matrix(lp.A)
    return int(A.data.nbytes + A.indices.nbytes + A.indptr.nbytes)


def run_highs(lp: LinearProgram, solver: str, limit: float) -> dict[str, Any]:
    import highspy

    A = sp.csc_matrix(lp.A)
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", solver)
    h.setOptionValue("time_limit", float(limit))
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = A.shape[1], A.shape[0]
    model.col_cost_ = lp.cost
    model.col_lower_ = np.where(np.isinf(lp.col_lower), -inf, lp.col_lower)
    model.col_upper_ = np.where(np.isinf(lp.col_upper), inf, lp.col_upper)
    model.row_lower_ = np.where(np.isinf(lp.row_lower), -inf, lp.row_lower)
    model.row_upper_ = np.where(np.isinf(lp.row_upper), inf, lp.row_upper)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = A.indptr, A.indices, A.data
    h.passModel(model)
    t0 = time.perf_counter()
    h.run()
    secs = time.perf_counter() - t0
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    info = h.getInfo()
    its = info.simplex_iteration_count if solver == "simplex" else info.ipm_iteration_count
    lam = -info.objective_function_value if lp.maximize else info.objective_function_value
    return {"seconds": secs, "ok": ok, "lam": lam if ok else None, "iterations": its}


def run_pdlp(lp: LinearProgram, limit: float) -> dict[str, Any]:
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    qp = pdlp.QuadraticProgram()
    qp.objective_vector = lp.cost
    qp.constraint_matrix = sp.csr_matrix(lp.A)
    qp.constraint_lower_bounds, qp.constraint_upper_bounds = lp.row_lower, lp.row_upper
    qp.variable_lower_bounds, qp.variable_upper_bounds = lp.col_lower, lp.col_upper
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
    lam = value(lp, res.primal_solution) if ok else None
    return {"seconds": secs, "ok": ok, "lam": lam, "iterations": res.solve_log.iteration_count}


def run_ours(model: PlanModel, repeats: int, limit: float) -> dict[str, Any]:
    times, solver_times = [], []
    r = None
    for _ in range(repeats):
        model.session = None
        t0 = time.perf_counter()
        r = solve_model(model, solver="fast", tolerance=1e-6, time_limit=limit)
        times.append(time.perf_counter() - t0)
        solver_times.append(float(r.solver["seconds"]))
        if times[-1] > 5.0:
            break  # a slow case (the HiGHS fallback): one run says enough
    assert r is not None
    method = str(r.solver.get("method", "?"))  # fast's method: leontief-cg, or highs when it handed the LP over
    return {"seconds": statistics.median(solver_times), "engine_seconds": statistics.median(times),
            "ok": r.status == "optimal",
            "lam": r.fulfilment if model.objective == "ray" else r.objective, "iterations": r.solver["iterations"],
            "method": method.split(" (")[0].split(":")[0], "status": r.status,
            "cert": max(float(r.solver.get("gap", 0.0)), float(r.solver.get("dual_residual", 0.0)),
                        float(r.solver.get("duality_gap", 0.0))), "repeats": len(times)}


def _child(family: str, n: int, limit: float, objective: str) -> None:
    """Runs in a subprocess: generate, build, one solve; prints JSON with the peak RSS."""
    t0 = time.perf_counter()
    model = make(family, n, objective=objective)
    build = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = run_ours(model, 1, limit)
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["peak_rss_before_solve"] = rss_before
    out["input_bytes"] = matrix_bytes(model.lp)
    out["build_seconds"] = build
    print(json.dumps(out))


def fmt(res: dict[str, Any] | None, limit: float) -> str:
    if res is None:
        return "not run"
    if not res["ok"]:
        secs = float(res["seconds"])
        return f"> {limit:.0f} s" if secs >= 0.9 * limit else f"{res.get('status', 'failed')} ({secs:.2f} s)"
    return f"{float(res['seconds']):.3f} s ({res['iterations']} it)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="one run of ours, no 10^6 run; time limit 10 s per solver unless --limit is given")
    ap.add_argument("--limit", type=float, default=None, help="seconds per solver (default 60, 10 with --quick)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--huge", type=int, default=1_000_000)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--sizes", default="")
    ap.add_argument("--objective", default="ray", choices=("ray", "min-labour"))
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]), args.limit, args.objective)
        return
    sizes = [int(v) for v in args.sizes.split(",")] if args.sizes else SIZES["quick" if args.quick else "full"]
    limit = args.limit if args.limit is not None else (10.0 if args.quick else 60.0)
    repeats = 1 if args.quick else args.repeats
    new_highs()  # (HiGHS prints a banner on stdout at a process's first instance: this one swallows it, not the table)
    print(f"`python bench/bench_plan.py {' '.join(sys.argv[1:])}`".replace(" `", "`") + f" on {dt.date.today()}, "
          f"{platform.machine()}, Python {platform.python_version()}; limit {limit:g} s per solver, ours the median "
          f"of {repeats}.\n")
    print("| family | goods | techniques | ours (solver) | ours (engine) | ours method | HiGHS simplex | HiGHS IPM "
          "| PDLP | best peer / ours | max rel. diff of objective |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for family in args.families.split(","):
        for n in sizes:
            model = make(family, n, objective=args.objective)
            ours = run_ours(model, repeats, limit)
            peers = [run_highs(model.lp, "simplex", limit), run_highs(model.lp, "ipm", limit),
                     run_pdlp(model.lp, limit)]
            done = [float(p["seconds"]) for p in peers if p["ok"]]
            lower = min(float(p["seconds"]) for p in peers)
            if not ours["ok"]:
                ratio = "ours not optimal"
            elif done:
                ratio = f"{min(done) / float(ours['seconds']):.1f}x"
            else:
                ratio = f"> {lower / float(ours['seconds']):.0f}x (no peer finished)"
            diffs = [abs(float(p["lam"]) - float(ours["lam"])) / max(abs(float(p["lam"])), 1e-12)
                     for p in peers if p["ok"] and ours["ok"]]
            diff = f"{max(diffs):.1e}" if diffs else "-"
            print(f"| {family} | {n:,} | {model.n_techniques:,} | {fmt(ours, limit)} | "
                  f"{float(ours['engine_seconds']):.2f} s | {ours['method']} (cert {float(ours['cert']):.0e}) | "
                  f"{fmt(peers[0], limit)} | {fmt(peers[1], limit)} | {fmt(peers[2], limit)} | {ratio} | {diff} |",
                  flush=True)
    if not args.quick:
        for family in args.families.split(","):
            out = subprocess.run([sys.executable, __file__, "--child", family, str(args.huge), "--limit",
                                  str(limit), "--objective", args.objective],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"\n{family} {args.huge:,} goods, ours only: solver {r['seconds']:.2f} s, engine "
                  f"{r['engine_seconds']:.2f} s (generate + build {r['build_seconds']:.1f} s), status {r['status']}, "
                  f"method {r['method']}; peak RSS {r['peak_rss'] / 2**20:.0f} MiB (peak before the solve "
                  f"{r['peak_rss_before_solve'] / 2**20:.0f} MiB), LP matrix {r['input_bytes'] / 2**20:.0f} MiB",
                  flush=True)


if __name__ == "__main__":
    main()
