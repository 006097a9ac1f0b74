"""The structured-family ray solver (column generation with value-iteration pricing) against HiGHS."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.optimize import linprog

from needplan.data.generate import generate_economy
from needplan.plan.fast import _highs_full, _prepare, certify
from needplan.plan.fast_structured import StructuredPricer, solve_ray_structured
from needplan.plan.model import build_plan
from needplan.plan.solve import _block, _kind_is, main_rows


def _arrays(n: int, seed: int) -> dict[str, np.ndarray]:
    """What ``_solve_fast`` hands the fast solver for the structured ray LP."""
    model = build_plan(generate_economy(n, family="structured", seed=seed), "ray")
    lp, n_t = model.lp, model.n_techniques
    net_rows = np.flatnonzero(_kind_is(model, "balance", "need"))
    prim_rows = np.flatnonzero(_kind_is(model, "primary"))
    assert model.lambda_col is not None
    col = model.lambda_col
    return {"net": _block(lp.A, net_rows, n_t), "primary": _block(lp.A, prim_rows, n_t),
            "available": lp.row_upper[prim_rows], "capacity": np.asarray(lp.col_upper[:n_t]),
            "target": -np.asarray(lp.A[:, col:col + 1].toarray()).ravel()[net_rows],
            "main": main_rows(model, net_rows)}


def _reference(d: dict[str, np.ndarray]) -> float:
    prob = _prepare(d["net"], d["primary"], d["available"], d["capacity"], d["target"])
    ref = _highs_full(prob, 1e-9, None, time.perf_counter(), "highs")
    assert ref.status == "optimal"
    return ref.lam


@pytest.mark.parametrize(("n", "seed"), [(60, 1), (100, 1), (200, 1)])
def test_certified_optimum_matches_highs(n: int, seed: int) -> None:
    d = _arrays(n, seed)
    r = solve_ray_structured(d["net"], d["primary"], d["available"], d["capacity"], d["target"], tol=1e-6,
                             main=d["main"], time_limit=20)
    assert r.status == "optimal", r.message
    assert r.lam == pytest.approx(_reference(d), rel=1e-6)
    assert max(r.primal_residual, r.dual_residual, r.gap) <= 1e-6
    # the reported residuals are the certificate of the returned arrays
    cert = certify(d["net"], d["primary"], d["available"], d["capacity"], d["target"], r.lam, r.x, r.row_duals,
                   r.primary_duals, r.capacity_duals)
    assert cert.gap == pytest.approx(r.gap, abs=1e-12)
    assert cert.dual_residual <= 1e-6 and cert.primal_residual <= 1e-6


def test_pricing_at_labour_costs_is_exact() -> None:
    d = _arrays(200, 1)
    N, t = d["net"], d["target"]
    pr = StructuredPricer(N, t, d["main"])
    c = d["primary"].T @ (1.0 / d["available"])
    p, x, z, cx = pr.price(c, None)
    assert np.all(p >= 0) and np.all(x >= 0)
    assert float(np.max(N.T @ p - c)) <= 1e-12 * float(np.max(c))  # dual feasible: z is a lower bound
    assert float(np.min(N @ x - t)) >= -1e-9 * float(np.max(t))  # primal feasible: c x is an upper bound
    assert cx - z <= 1e-9 * cx  # the two meet: both optimal
    ref = linprog(c, A_ub=-N, b_ub=-t, bounds=(0, None), method="highs")
    assert z == pytest.approx(ref.fun, rel=1e-9)


def test_uncertified_is_stopped_with_valid_bounds() -> None:
    # On this instance the value-iteration pricing is not exact at the master's prices; the solver must say so
    # rather than claim optimality, and its plan and bound must still bracket the optimum.
    d = _arrays(500, 1)
    r = solve_ray_structured(d["net"], d["primary"], d["available"], d["capacity"], d["target"], tol=1e-6,
                             main=d["main"], time_limit=1.5)
    ref = _reference(d)
    if r.status == "optimal":
        assert r.lam == pytest.approx(ref, rel=1e-6)
    else:
        assert r.status == "stopped" and r.message
        assert r.primal_residual <= 1e-6  # the master's mixture is a feasible plan
        assert r.lam <= ref * (1 + 1e-9)
        assert r.details["upper_bound"] >= ref * (1 - 1e-9)
