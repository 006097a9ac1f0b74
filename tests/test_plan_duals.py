"""Shadow prices mean what they say: each one lies between the objective's secant slopes around its bound.

The best objective of a maximisation (ray, harmony; min-labour counted as labour saved) is concave in the
right-hand side of every constraint, so any valid shadow price ``p`` of a bound ``b`` satisfies

    (g(b + d) - g(b)) / d  <=  p  <=  (g(b) - g(b - d)) / d      for every step d > 0,

and where ``g`` is differentiable both slopes tend to ``p``. The slopes come from re-solving the plan with the bound
moved, so the test checks the dual the engine reports against the primal problem alone: a price with the wrong
sign, the wrong unit or from the wrong row fails it. A gift of a product is not in the economy (the engine's
read-back would rightly call the plan unbalanced), so those slopes come from scipy's HiGHS on the engine's LP;
for harmony that LP is the one over the engine's final cuts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from needplan import read_economy
from needplan.plan import build_plan
from needplan.plan.model import IntArray, PlanModel
from needplan.quality import level_one_binds
from test_plan_helpers import random_economy, reference_linprog

STEP = 1e-3  # relative step of the bound
TOL = 1e-9  # solver tolerance


def _gain(model: PlanModel) -> float:
    """The best objective as a gain (min-labour: labour saved) by the engine, or -inf where infeasible."""
    r = model.solve("highs", tolerance=TOL)
    if r.status == "infeasible":
        return -np.inf
    assert r.status == "optimal", r.solver
    assert r.objective is not None
    return -r.objective if model.objective == "min-labour" else r.objective


def _check_slopes(model: PlanModel, g0: float, price: float, bound: float, move: Callable[[float], None],
                  what: str, *, scale: float | None = None, floor: float = 0.0,
                  gain: Callable[[PlanModel], float] = _gain) -> int:
    """Assert the price lies between the secant slopes of the gain around ``bound`` (steps of ``STEP`` times
    ``scale``, default the bound; never below ``floor``); restores the bound."""
    d = STEP * max(abs(bound if scale is None else scale), 1e-2)
    slack = 1e-6 * max(1.0, abs(g0)) / d + 1e-6 * abs(price)  # the solver's tolerance seen through the step
    move(bound + d)
    right = (gain(model) - g0) / d
    left = np.inf
    if bound - d >= floor:
        move(bound - d)
        left = (g0 - gain(model)) / d
    move(bound)
    assert right <= price + slack, (what, right, price, left)
    assert price <= left + slack, (what, right, price, left)
    return 1


def _gift_gain(model: PlanModel) -> float:
    """The same gain where the LP has a gift the economy does not know of (the engine's read-back would rightly
    call the plan unbalanced): the LP solved by scipy's HiGHS."""
    ref = reference_linprog(model.lp)
    if ref.status == 2:
        return -np.inf
    assert ref.status == 0, ref.message
    return float(-ref.fun)


def _gift(model: PlanModel, rows: IntArray) -> Callable[[float], None]:
    """A gift of ``amount`` units of standard quality of a product: a physical row (balance, unweighted need) needs
    that much less; a row counting a weighted need's delivery at level ``q``, ``max(1, q)`` standard units less
    (in the row's units). Not where the delivery row of level 1 ties, which the LP lacks (test_quality.py checks
    those prices against an import in the economy itself)."""
    lo, hi = model.lp.row_lower[rows].copy(), model.lp.row_upper[rows].copy()
    level = model.rows["level"].to_numpy(dtype=np.float64)[rows]
    per = model.rows["per_delivered"].to_numpy(dtype=np.float64)[rows]
    unit = np.where(np.isnan(level), 1.0, per * np.maximum(level, 1.0))

    def move(amount: float) -> None:
        model.lp.row_lower[rows] = lo - amount * unit
        model.lp.row_upper[rows] = hi - amount * unit
    return move


@pytest.mark.parametrize("objective", ["ray", "min-labour", "harmony"])
def test_shadow_prices_lie_between_the_secant_slopes(objective: str) -> None:
    checked = 0
    for s in range(25):
        model = build_plan(random_economy(s), objective)
        r = model.solve("highs", tolerance=TOL)
        if r.status != "optimal":
            continue
        assert r.objective is not None
        g0 = -r.objective if objective == "min-labour" else r.objective
        for good, row in r.primaries.iterrows():
            if np.isfinite(row["available"]):
                checked += _check_slopes(model, g0, row["shadow_price"], row["available"],
                                         lambda v, m=model, g=str(good): m.set_available(g, v), f"{s} {good}")
        for tech, row in r.activity.iterrows():
            if np.isfinite(row["capacity"]):
                checked += _check_slopes(model, g0, row["capacity_price"], row["capacity"],
                                         lambda v, m=model, t=str(tech): m.set_capacity(t, v), f"{s} {tech}")
        goods = model.economy.goods
        row_good = model.rows["good"].to_numpy()
        product_rows = model.kind_is("balance", "need")
        eco = model.economy
        x = r.activity["activity"].to_numpy()
        tied = level_one_binds(eco.make, eco.technique_quality, x, eco.use @ x)
        for good, price in r.products["shadow_price"].items():
            if tied[goods.get_loc(good)]:
                continue
            rows = np.flatnonzero(product_rows & (row_good == goods.get_loc(good)))
            checked += _check_slopes(model, _gift_gain(model), price, 0.0, _gift(model, rows), f"{s} {good}",
                                     scale=r.products.at[good, "made"], floor=-np.inf, gain=_gift_gain)
    assert checked >= 60


@pytest.mark.parametrize("objective", ["ray", "harmony"])
def test_a_user_constraint_price_lies_between_the_secant_slopes(demo_dir: Path, objective: str) -> None:
    """The demo with the shoe factory limited by a user constraint: its price, per unit the bound moves outwards."""
    model = build_plan(read_economy(demo_dir), objective)
    row = model.add_constraint({"shoe_factory": 1.0}, upper=20_000, name="factory_limit")
    r = model.solve("highs", tolerance=TOL)
    assert r.status == "optimal" and r.objective is not None
    price = float(r.constraints.set_index("name").at["factory_limit", "shadow_price"])
    assert price > 0

    def move(v: float) -> None:
        model.lp.row_upper[row] = v

    assert _check_slopes(model, r.objective, price, 20_000.0, move, objective) == 1
