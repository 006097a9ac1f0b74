"""The fast min-labour solver against closed forms and against HiGHS on generated economies."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.sparse as sp

from needplan.data.generate import generate_economy
from needplan.plan.fast import _prepare
from needplan.plan.fast_min_labour import _highs_min_labour, certify_min_labour, solve_min_labour
from needplan.plan.model import PlanModel, build_plan
from needplan.plan.solve import solve_model

A = np.array([[0.0, 0.2, 0.1, 0.0], [0.3, 0.0, 0.0, 0.2], [0.1, 0.1, 0.0, 0.3], [0.0, 0.2, 0.2, 0.0]])
LABOUR = np.array([1.0, 2.0, 0.5, 1.5])
TARGET = np.array([1.0, 0.0, 2.0, 1.0])


def test_closed_form_one_technique_per_good() -> None:
    # x = (I - A)^{-1} t, prices p = l (I - A)^{-1}, least labour l x = p t (the nonsubstitution theorem).
    net = sp.csr_matrix(np.eye(4) - A)
    x1 = np.linalg.solve(np.eye(4) - A, TARGET)
    p = np.linalg.solve((np.eye(4) - A).T, LABOUR)
    r = solve_min_labour(net, sp.csr_matrix(LABOUR[None, :]), np.array([100.0]), np.full(4, np.inf), TARGET,
                         labour_cost=LABOUR)
    assert r.status == "optimal" and r.method == "leontief-cg"
    np.testing.assert_allclose(r.x, x1, rtol=1e-12)
    np.testing.assert_allclose(r.row_duals, p, rtol=1e-12)
    assert r.lam == pytest.approx(LABOUR @ x1, rel=1e-12) == pytest.approx(p @ TARGET, rel=1e-12)
    assert r.primary_duals[0] == 0.0 and max(r.primal_residual, r.dual_residual, r.gap) <= 1e-12


def test_capacity_forces_the_dearer_alternative() -> None:
    # Product 0: technique 0 (labour 1) is capped at 0.5, technique 1 (labour 3) is not; product 1 by technique 2.
    # The cheapest pure plan breaks the cap, so phase 1 finds a feasible mixture and the master prices the cap.
    net = sp.csr_matrix(np.array([[1.0, 1.0, -0.2], [-0.1, -0.3, 1.0]]))
    labour = np.array([1.0, 3.0, 1.0])
    cap = np.array([0.5, np.inf, np.inf])
    t = np.array([1.0, 0.5])
    r = solve_min_labour(net, sp.csr_matrix(labour[None, :]), np.array([20.0]), cap, t, labour_cost=labour,
                         main=np.array([0, 0, 1]))
    # By hand: x0 = 0.5; x1 and x2 solve x0 + x1 - 0.2 x2 = 1, -0.1 x0 - 0.3 x1 + x2 = 0.5.
    x12 = np.linalg.solve(np.array([[1.0, -0.2], [-0.3, 1.0]]), np.array([0.5, 0.55]))
    assert r.status == "optimal" and r.method == "leontief-cg"
    np.testing.assert_allclose(r.x, [0.5, *x12], rtol=1e-9)
    assert r.lam == pytest.approx(0.5 + 3 * x12[0] + x12[1], rel=1e-12)
    assert r.capacity_duals[0] > 0 and r.details["phase1"] == 1.0


def test_infeasible_is_certified_and_says_which_limit() -> None:
    net = sp.csr_matrix(np.eye(4) - A)
    x1 = np.linalg.solve(np.eye(4) - A, TARGET)
    need = float(LABOUR @ x1)
    r = solve_min_labour(net, sp.csr_matrix(LABOUR[None, :]), np.array([0.8 * need]), np.full(4, np.inf), TARGET,
                         labour_cost=LABOUR)
    assert r.status == "infeasible" and math.isnan(r.lam)
    assert r.details["fulfilment_bound"] == pytest.approx(0.8, rel=1e-9)
    assert "primaries [0]" in r.message
    cap = np.full(4, np.inf)
    cap[2] = 0.5 * x1[2]
    r = solve_min_labour(net, sp.csr_matrix(LABOUR[None, :]), np.array([1e6]), cap, TARGET, labour_cost=LABOUR)
    assert r.status == "infeasible" and "techniques [2]" in r.message


def _pair(n: int, family: str, seed: int) -> tuple[PlanModel, PlanModel]:
    eco = generate_economy(n, family=family, seed=seed)
    return build_plan(eco, "min-labour"), build_plan(eco, "min-labour")


@pytest.mark.parametrize(("family", "count"), [("uniform", 100), ("structured", 12)])
def test_agrees_with_highs_on_generated_economies(family: str, count: int) -> None:
    statuses: dict[str, int] = {}
    fast_path = 0
    for seed in range(count):
        fast_model, ref_model = _pair(8 + seed % 30, family, seed)
        if seed % 4 == 3:  # labour cut to a fraction of what is there: some of these cannot meet the needs
            for model in (fast_model, ref_model):
                av = model.available
                for g in np.flatnonzero(np.isfinite(av) & (av > 0)):
                    model.set_available(str(model.economy.goods[g]), 0.3 * av[g])
        fast = solve_model(fast_model, solver="fast", tolerance=1e-7)
        ref = solve_model(ref_model, solver="highs", tolerance=1e-7)
        assert fast.status == ref.status, (seed, fast.solver["message"], ref.solver["message"])
        statuses[fast.status] = statuses.get(fast.status, 0) + 1
        fast_path += "leontief-cg" in fast.solver["message"]
        if ref.status == "optimal":
            assert fast.objective == pytest.approx(ref.objective, rel=1e-6), seed
            assert fast.solver["duality_gap"] <= 1e-6 and fast.solver["dual_residual"] <= 1e-6
    assert statuses.get("optimal", 0) >= count // 2
    if family == "uniform":
        assert statuses.get("infeasible", 0) >= 1  # the infeasible branch is exercised, not just the optimal one
        assert fast_path >= 0.9 * count


def test_fallback_is_certified_like_the_fast_path() -> None:
    net = sp.csr_matrix(np.eye(4) - A)
    prob = _prepare(net, sp.csr_matrix(LABOUR[None, :]), np.array([100.0]), np.full(4, np.inf), TARGET)
    h = _highs_min_labour(prob, LABOUR, 1e-9, 10.0, time.perf_counter(), "highs")
    c = certify_min_labour(net, prob.primary, prob.available, prob.capacity, TARGET, LABOUR, h.x, h.row_duals,
                           h.primary_duals, h.capacity_duals)
    assert h.status == "optimal" and max(c.primal_residual, c.dual_residual, c.gap) <= 1e-9
    # A wrong plan (half the activity) is caught by the certificate, not reported as optimal.
    c = certify_min_labour(net, prob.primary, prob.available, prob.capacity, TARGET, LABOUR, 0.5 * h.x,
                           h.row_duals, h.primary_duals, h.capacity_duals)
    assert c.primal_residual > 0.1 and c.gap > 0.1


@pytest.mark.parametrize("family", ["uniform", "structured"])
def test_weighted_labour_agrees_with_highs_and_is_the_weighted_hours_of_the_plan(family: str) -> None:
    """``labour_weights`` (``--labour-weight``): both solvers reach the same least weighted labour, and it is each
    labour kind's hours in the plan (recomputed here from the economy's inputs) times its weight."""
    rng = np.random.default_rng(7)
    optimal = 0
    for seed in range(10):
        eco = generate_economy(20 + 7 * seed, family=family, seed=seed)
        weights = {str(eco.goods[g]): float(rng.uniform(0.2, 5.0)) for g in eco.labour}
        fast = solve_model(build_plan(eco, "min-labour", labour_weights=weights), solver="fast", tolerance=1e-7)
        ref = solve_model(build_plan(eco, "min-labour", labour_weights=weights), solver="highs", tolerance=1e-7)
        assert fast.status == ref.status, seed
        if ref.status != "optimal":
            continue
        optimal += 1
        hours = sp.csr_matrix(eco.use)[eco.labour] @ ref.activity["activity"].reindex(eco.techniques).to_numpy()
        weighted = sum(weights[str(eco.goods[g])] * h for g, h in zip(eco.labour, hours, strict=True))
        assert ref.objective == pytest.approx(weighted, rel=1e-9), seed
        assert fast.objective == pytest.approx(ref.objective, rel=1e-6), seed
    assert optimal >= 5
