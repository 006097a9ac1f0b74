"""Properties on random small economies (fixed seeds): feasible plans, strong duality, monotone capacities,
scaling, and the fast solver against HiGHS."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from needplan.data.generate import generate_economy
from needplan.economy.validate import build_economy
from needplan.plan import build_plan
from needplan.plan.explain import share
from needplan.plan.lp import LinearProgram
from needplan.plan.model import PlanModel
from test_plan_helpers import random_economy, reference_linprog

SEEDS = st.integers(min_value=0, max_value=10_000)


@seed(20240601)
@settings(max_examples=30, deadline=None)
@given(SEEDS, st.sampled_from(["ray", "harmony"]))
def test_plans_are_feasible_and_strongly_dual(s: int, objective: str) -> None:
    r = build_plan(random_economy(s), objective).solve("highs", tolerance=1e-7)
    assert r.status == "optimal"
    assert max(r.residuals.values()) <= 1e-7
    assert r.solver["dual_residual"] <= 1e-7
    if objective == "ray":
        assert r.solver["duality_gap"] <= 1e-7
        # the resolving multipliers price the whole plan: sum over constraints of price x bound = lambda
        prices = r.primaries["shadow_price"] * r.primaries["available"].where(np.isfinite(r.primaries["available"]), 0)
        caps = r.activity["capacity_price"] * r.activity["capacity"].where(np.isfinite(r.activity["capacity"]), 0)
        assert float(prices.sum() + caps.sum()) == pytest.approx(r.objective, rel=1e-6, abs=1e-9)


@seed(7)
@settings(max_examples=30, deadline=None)
@given(SEEDS)
def test_raising_a_binding_capacity_never_lowers_the_objective(s: int) -> None:
    model = build_plan(random_economy(s), "ray")
    r = model.solve("highs")
    binding = r.activity[r.activity["capacity_price"] > 1e-9]
    if binding.empty:
        binding = r.activity[np.isfinite(r.activity["capacity"])]
    for tech, row in binding.head(2).iterrows():
        model.set_capacity(str(tech), row["capacity"] * 1.5)
        r2 = model.solve("highs")
        assert r2.objective >= r.objective - 1e-9
        if row["capacity_price"] > 1e-6:
            assert r2.objective > r.objective + 1e-9
        r = r2


@seed(11)
@settings(max_examples=15, deadline=None)
@given(SEEDS, st.sampled_from([0.5, 3.0, 40.0]))
def test_scaling_targets_and_resources_scales_the_plan(s: int, k: float) -> None:
    base, scaled = random_economy(s), random_economy(s, scale=k)
    r1 = build_plan(base, "ray").solve("highs", tolerance=1e-9)
    r2 = build_plan(scaled, "ray").solve("highs", tolerance=1e-9)
    assert r2.fulfilment == pytest.approx(r1.fulfilment, rel=1e-7)
    # k times the first plan is optimal for the scaled economy; its net output scales with it
    assert np.all(r2.needs["counted"].to_numpy() >= k * r1.fulfilment * r1.needs["target"].to_numpy() * (1 - 1e-7))
    m1 = build_plan(base, "min-labour").solve("highs", tolerance=1e-9)
    m2 = build_plan(scaled, "min-labour").solve("highs", tolerance=1e-9)
    assert m2.status == m1.status
    if m1.status == "optimal":
        assert m2.objective == pytest.approx(k * m1.objective, rel=1e-7)


def test_fast_agrees_with_highs_on_random_economies() -> None:
    """300 random economies: fast's own path answers about half (158 when written); where it declines (quality
    rows, joint products), the model's HiGHS session answers and the method says so."""
    worst = 0.0
    own = 0
    for s in range(300):
        eco = random_economy(s)
        h = build_plan(eco, "ray").solve("highs", tolerance=1e-8)
        f = build_plan(eco, "ray").solve("fast", tolerance=1e-8)
        if f.solver["name"] == "fast":
            own += 1
        else:
            assert str(f.solver["method"]).startswith("highs (fast path declined: "), s
            assert "fast's path declined" in f.solver["note"], s
        assert f.status == h.status == "optimal", s
        assert max(f.residuals.values()) <= 1e-6, s
        worst = max(worst, abs(f.objective - h.objective) / max(1.0, abs(h.objective)))
    assert worst <= 1e-6 and own >= 120



def _limits(model: PlanModel) -> dict[str, tuple[str, list[int]]]:
    """The constraints a conflict may name: targets and primaries (LP rows: a target's rows are all the rows of its
    good that carry it) and capacities (LP columns)."""
    eco, lp, kinds, row_good = model.economy, model.lp, model.rows["kind"].to_numpy(), model.rows["good"].to_numpy()
    limits: dict[str, tuple[str, list[int]]] = {}
    for i in np.flatnonzero(np.isin(kinds, ["need", "primary"])):
        limits.setdefault(str(eco.goods[row_good[i]]), ("row", []))[1].append(int(i))
    cols = np.flatnonzero(np.isfinite(lp.col_upper[:eco.n_techniques]))
    return limits | {str(eco.techniques[j]): ("col", [int(j)]) for j in cols}


def _feasible_without(model: PlanModel, lifted: set[str]) -> bool:
    """Whether the plan's LP is feasible for scipy's HiGHS with the named constraints lifted (a target that
    tightens its product's balance row back to that balance)."""
    lp, kinds, row_good = model.lp, model.rows["kind"].to_numpy(), model.rows["good"].to_numpy()
    lo, hi, cap = lp.row_lower.copy(), lp.row_upper.copy(), lp.col_upper.copy()
    limits = _limits(model)
    for name in lifted:
        kind, where = limits[name]
        for i in where:
            if kind == "col":
                cap[i] = np.inf
                continue
            holds_balance = kinds[i] == "need" and not np.any((kinds == "balance") & (row_good == row_good[i]))
            lo[i], hi[i] = (0.0 if holds_balance else -np.inf), np.inf
    ref = reference_linprog(LinearProgram(lp.A, lo, hi, np.zeros(lp.n_cols), lp.col_lower, cap))
    assert ref.status in (0, 2), ref.message
    return bool(ref.status == 0)


def test_conflicts_are_irreducible_checked_by_an_independent_solver() -> None:
    """Each infeasible min-labour plan's conflict, with every other target, limit and capacity lifted, is infeasible
    for scipy's HiGHS; lifting any one member as well makes it feasible."""
    checked = 0
    for s in range(120):
        model = build_plan(random_economy(s), "min-labour")
        r = model.solve("highs")
        if r.status != "infeasible":
            continue
        limits = set(_limits(model))
        members = set(r.conflict["constraint"])
        assert members and members <= limits, s
        assert not _feasible_without(model, limits - members), s
        for m in members:
            assert _feasible_without(model, limits - members | {m}), (s, m)
        checked += 1
    assert checked >= 10


def delivery_rows_by_hand(eco: object, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense rows whose minimum is each need's counted output, written out from the formula (one per quality
    level q_k of the makers: max(q_j, q_k) make - q_k use; the physical net output for an unweighted need)."""
    make, use, q = eco.make.toarray(), eco.use.toarray(), eco.technique_quality  # type: ignore[attr-defined]
    rows, owner = [], []
    for i, g in enumerate(need):
        levels = sorted({float(q[j]) for j in np.flatnonzero(make[g])}) if eco.quality_weighted[g] else [1.0]  # type: ignore[attr-defined]
        for level in levels:
            weight = np.maximum(q, level) if eco.quality_weighted[g] else np.ones_like(q)  # type: ignore[attr-defined]
            rows.append(weight * make[g] - level * use[g])
            owner.append(i)
    return np.array(rows), np.array(owner)


def test_harmony_bound_holds_against_an_independent_nonlinear_solver() -> None:
    """scipy's trust-constr maximises the harmony objective directly (the economy's own balances, the needs' counted
    outputs written out by hand, limits and capacities, H exactly, no cutting planes), started from the engine's
    plan. It may improve the plan only by less than the gap the engine reports between its plan and its bound."""
    from scipy.optimize import Bounds, LinearConstraint, minimize

    from needplan.plan import harmony

    checked = 0
    for s in range(30):
        eco = random_economy(s)
        r = build_plan(eco, "harmony").solve("highs", tolerance=1e-8)
        assert r.status == "optimal" and r.objective is not None, s
        make, use = eco.make.toarray(), eco.use.toarray()
        need = np.flatnonzero(eco.need_listed & (eco.target > 0))
        counted, owner = delivery_rows_by_hand(eco, need)
        t, w = eco.target[need], eco.weight[need]
        n_t, k = eco.n_techniques, len(need)

        # variables (x, s): counted_row(x) - t s >= t for every row of a need, H(s) summed with the weights
        def neg(v: np.ndarray, t: np.ndarray = t, w: np.ndarray = w, n_t: int = n_t) -> float:
            return -float(w @ harmony(v[n_t:]))

        def grad(v: np.ndarray, w: np.ndarray = w, n_t: int = n_t) -> np.ndarray:
            s_ = v[n_t:]
            return np.concatenate([np.zeros(n_t), -w * np.where(s_ < 0, 1 - s_, 1 / (1 + np.maximum(s_, 0.0)))])

        limited = eco.primaries[np.isfinite(eco.available[eco.primaries])]
        s_part = np.zeros((len(owner), k))
        s_part[np.arange(len(owner)), owner] = -t[owner]
        rows = np.block([[make[eco.products] - use[eco.products], np.zeros((len(eco.products), k))],
                         [counted, s_part], [use[limited], np.zeros((len(limited), k))]])
        lower = np.concatenate([np.zeros(len(eco.products)), t[owner], np.full(len(limited), -np.inf)])
        upper = np.concatenate([np.full(len(eco.products) + len(owner), np.inf), eco.available[limited]])
        cap = np.concatenate([eco.technique_capacity, np.full(k, np.inf)])
        x0 = r.activity["activity"].to_numpy()
        s0 = np.full(k, np.inf)
        np.minimum.at(s0, owner, (counted @ x0 - t[owner]) / t[owner])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # trust-constr's quasi-Newton notes where H is linear
            ref = minimize(neg, np.concatenate([x0, s0]), jac=grad, method="trust-constr",
                           constraints=[LinearConstraint(rows, lower, upper)],
                           bounds=Bounds(np.concatenate([np.zeros(n_t), np.full(k, -1.0)]), cap),
                           options={"gtol": 1e-12, "xtol": 1e-14, "maxiter": 3000})
        v = ref.x
        violation = max(np.max(lower - rows @ v), np.max(rows @ v - upper), np.max(v[:n_t] - cap[:n_t]),
                        np.max(-v[:n_t]), np.max(-1 - v[n_t:]))
        if violation > 1e-9:
            continue
        gain = -ref.fun - r.objective
        assert gain <= r.solver["gap"] + 1e-9 * max(1.0, abs(r.objective)), (s, gain, r.solver["gap"])
        checked += 1
    assert checked >= 25


def test_a_generated_conflict_after_an_edit_is_irreducible_and_its_fulfilment_is_the_edited_ray() -> None:
    """A generated economy with its labour cut on the model (not in the economy): the conflict is irreducible for
    scipy's HiGHS, and the best common fulfilment the message gives is that of the ray objective with the same
    edit (it used to be computed from the unedited economy, which meets every target)."""
    eco = generate_economy(200, family="structured", seed=3)
    labour = str(eco.goods[eco.labour[0]])
    cut = 0.6 * float(eco.available[eco.labour[0]])
    model = build_plan(eco, "min-labour")
    model.set_available(labour, cut)
    r = model.solve("highs")
    assert r.status == "infeasible" and "may not be the smallest" not in r.explanation
    limits = set(_limits(model))
    members = set(r.conflict["constraint"])
    assert labour in members and members <= limits
    assert not _feasible_without(model, limits - members)
    for m in members:
        assert _feasible_without(model, limits - members | {m}), m
    ray = build_plan(eco, "ray")
    ray.set_available(labour, cut)
    best = ray.solve("highs").fulfilment
    assert best is not None and best < 1
    assert f"at most {share(best)} of every target can be met together" in r.explanation


@pytest.mark.parametrize(("n", "seed", "cut"), [(100, 1, 0.5), (150, 2, 0.7), (120, 3, 0.9)])
def test_conflicts_checked_by_fast_are_irreducible(monkeypatch: pytest.MonkeyPatch, n: int, seed: int,
                                                   cut: float) -> None:
    """The conflict search's checks by fast's ray solver (from 3,000 techniques on; here from 0): on uniform
    economies with labour cut, the set is irreducible for scipy's HiGHS, no check is left open, and the message's
    labour needed is the least labour of the same economy with labour unlimited."""
    from needplan.plan import explain

    monkeypatch.setattr(explain, "CONFLICT_FAST_FROM", 0)
    eco = generate_economy(n, family="uniform", seed=seed)
    labour = str(eco.goods[eco.labour[0]])
    model = build_plan(eco, "min-labour")
    model.set_available(labour, cut * float(eco.available[eco.labour[0]]))
    runs = []
    monkeypatch.setattr(explain.HighsSession, "run", lambda self, **kw: runs.append(1) or pytest.fail("HiGHS ran"))
    table, message, _ = explain.find_conflict(model)
    monkeypatch.undo()
    assert not runs and "may not be the smallest" not in message, message
    limits = set(_limits(model))
    members = set(table["constraint"])
    assert labour in members and members <= limits
    assert not _feasible_without(model, limits - members)
    for m in members:
        assert _feasible_without(model, limits - members | {m}), m
    free = build_plan(eco, "min-labour")
    free.set_available(labour, np.inf)
    least = free.solve("highs").objective
    needed = float(message.split("needs at least ")[1].split(" hours of")[0].replace(",", ""))
    assert needed == pytest.approx(least, rel=1e-5)


def _relaxed_states(model: PlanModel, rng: np.random.Generator, n: int):  # type: ignore[no-untyped-def]
    """``n`` random relaxations of a min-labour model's feasibility LP (targets dropped, labour and capacities
    lifted or kept), each as the LP :func:`explain._find_conflict` would check."""
    from needplan.plan import explain

    feas, relaxed_rows, relax_to = explain._feasibility_lp(model)
    lower, upper, cap = feas.row_lower.copy(), feas.row_upper.copy(), feas.col_upper.copy()
    prim = np.flatnonzero(model.kind_is("primary"))
    capped = np.flatnonzero(np.isfinite(cap[:model.n_techniques]))
    for _ in range(n):
        feas.row_lower[:], feas.row_upper[:], feas.col_upper[:] = lower, upper, cap
        drop = relaxed_rows[rng.random(relaxed_rows.size) < rng.uniform(0, 1)]
        feas.row_lower[drop], feas.row_upper[drop] = relax_to[drop], np.inf
        lift = prim[rng.random(prim.size) < 0.2]
        feas.row_upper[lift] = np.inf
        feas.col_upper[capped[rng.random(capped.size) < 0.5]] = np.inf
        yield feas


@pytest.mark.parametrize(("n", "options", "seed", "cut"),
                         [(150, {}, 1, 0.5), (200, {}, 2, 0.8), (120, {}, 3, 0.3),
                          (200, {"techniques_per_good": 2, "alternative_share": 0.3, "labour_kinds": 2}, 1, 0.5),
                          (300, {"techniques_per_good": 2, "alternative_share": 0.2, "joint_share": 0.05}, 4, 0.7)])
def test_the_conflict_search_s_screen_agrees_with_fast_s_solves(n: int, options: dict[str, float], seed: int,
                                                                 cut: float) -> None:
    """The conflict search answers most checks without a solve (``_FastChecks._screen``): "infeasible" by the
    prices of the last proof, "feasible" by a plan of one technique per product. On random relaxations of an
    infeasible model (uniform economies, some with alternatives and two labour kinds, one with joint products),
    every verdict it gives is the verdict of fast's ray solve of the same LP (where that solve decides), and it
    gives both verdicts, except "feasible" where a joint product leaves it no plan of that form."""
    from needplan.plan import explain

    eco = generate_economy(n, family="uniform", seed=seed, **options)
    if options:  # alternatives of one quality: a need row beside its balance takes the search to HiGHS
        tables = eco.tables()
        tables["techniques"]["quality"] = 1.0
        eco = build_economy(tables, name="one quality")
    model = build_plan(eco, "min-labour")
    for g in eco.labour:
        model.set_available(str(eco.goods[g]), cut * float(eco.available[g]))
    feas = explain._feasibility_lp(model)[0]
    checks = explain._FastChecks.make(model, feas)
    assert checks is not None
    assert checks.infeasible(feas) is True and checks.proof is not None
    verdicts: dict[bool, int] = {True: 0, False: 0}
    for state in _relaxed_states(model, np.random.default_rng(seed), 60):
        kept = checks._kept(state)
        screened = checks._screen(state, kept) if kept.any() else None
        if screened is None:
            continue
        solved = explain._FastChecks(model, checks.fast).infeasible(state)  # no proof, no witness: a solve
        assert solved in (screened, None)
        verdicts[screened] += 1
    assert verdicts[True] >= 5
    assert checks.witness is not None
    if "joint_share" in options:
        assert checks.witness.chosen is None and not verdicts[False]
    else:
        assert checks.witness.chosen is not None and verdicts[False] >= 5


def test_a_screened_conflict_search_is_the_search_by_solves_with_few_of_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Labour halved in a uniform economy of 300 goods: the conflict (labour and about 80 targets) and its message
    are the same with the screen as with a solve for every check, and the screen leaves only a few checks to fast's
    ray solver (a solve per check before it: at 10^4 goods 3,144 of them, 54 s)."""
    from needplan.plan import explain, fast

    monkeypatch.setattr(explain, "CONFLICT_FAST_FROM", 0)
    eco = generate_economy(300, family="uniform", seed=1)
    labour = str(eco.goods[eco.labour[0]])
    solves: list[int] = []
    solve_ray = fast.solve_ray
    monkeypatch.setattr(fast, "solve_ray", lambda *a, **kw: solves.append(1) or solve_ray(*a, **kw))

    def search() -> tuple[pd.DataFrame, str]:
        model = build_plan(eco, "min-labour")
        model.set_available(labour, 0.5 * float(eco.available[eco.labour[0]]))
        table, message, _ = explain.find_conflict(model)
        return table, message

    screened = search()
    n_screened = len(solves)
    solves.clear()
    monkeypatch.setattr(explain._FastChecks, "_screen", lambda self, feas, kept: None)
    solved = search()
    assert len(screened[0]) >= 50 and screened[0].equals(solved[0]) and screened[1] == solved[1]
    assert n_screened <= 5 and len(solves) >= len(screened[0])
