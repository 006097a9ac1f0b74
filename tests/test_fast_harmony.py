"""The harmony objective through its smooth dual (``needplan.plan.fast_harmony``) on Leontief economies.

Checked against an independent nonlinear solver (SLSQP on the activities: test_plan_known.py), against Kelley's
cutting planes on HiGHS (the ``highs`` path) on generated economies and on Spain's table, by the engine's own
verification of every answer, and for the cases it must hand to Kelley.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from needplan.analysis import analyze
from needplan.data.generate import generate_economy
from needplan.data.sut import shipped_economy
from needplan.economy.validate import build_economy
from needplan.plan import build_plan
from needplan.plan.fast_harmony import _response_slope, best_deviation


def test_best_deviation_inverts_the_slope_of_harmony() -> None:
    """``H'(s) = r`` solved in closed form on both branches, and ``s = -1`` once a need is worth less than that."""
    s = np.array([-0.9, -0.5, -1e-9, 0.0, 1e-9, 0.5, 3.0])
    slope = np.where(s < 0, 1.0 - s, 1.0 / (1.0 + s))
    assert best_deviation(slope) == pytest.approx(s, abs=1e-12)
    assert best_deviation(np.array([2.5, 100.0])).tolist() == [-1.0, -1.0]


def test_response_slope_of_a_negligible_price_raises_no_floating_point_warning() -> None:
    """A need priced at 1e-200 of its worth (an economy in units 10^8 apart) sits at its most: slope 0, and no
    division by zero in the lanes the mask drops (it printed a RuntimeWarning from the CLI)."""
    with np.errstate(all="raise"):
        slope = _response_slope(np.array([3.0, 0.5, -1.0]), np.array([1e-200, 0.5, 3.0]), np.array([3.0, 9.0, 9.0]))
    assert slope.tolist() == [0.0, -4.0, 0.0]


@pytest.mark.parametrize(("goods", "seeds"), [(8, 50), (30, 40), (90, 20)])
def test_fast_harmony_agrees_with_kelleys_cutting_planes(goods: int, seeds: int) -> None:
    """110 generated uniform economies (one technique per good, capacities on a third of the goods, one or two
    labour kinds): both answers verified by the engine, the harmony equal within the tolerance."""
    tol = 1e-7
    for seed in range(seeds):
        eco = generate_economy(goods, seed=seed, capacity_share=0.35, labour_kinds=1 + seed % 2)
        fast = build_plan(eco, "harmony").solve("fast", tolerance=tol)
        kelley = build_plan(eco, "harmony").solve("highs", tolerance=tol)
        assert fast.status == kelley.status == "optimal", (seed, fast.solver["message"])
        assert fast.solver["method"] == "leontief-dual"
        assert fast.objective == pytest.approx(kelley.objective, rel=2 * tol, abs=2 * tol), seed
        assert max(fast.residuals.values()) <= tol
        assert fast.solver["dual_residual"] <= tol and fast.solver["duality_gap"] <= tol


@pytest.mark.parametrize("seed", [6, 7])
def test_kelley_at_a_tight_tolerance_is_verified_like_fast(seed: int) -> None:
    """Found by fuzzing: at a tolerance of 1e-9, Kelley's last LP (near-parallel cuts) left a product used 3.4e-6
    beyond what was made, 5.4e-8 of its flows, even after HiGHS's re-solves at its tightest tolerances: 'stopped',
    where fast's plan was optimal. The plan of HiGHS's basis, refined from its factors, is verified."""
    tol = 1e-9
    eco = generate_economy(300, seed=seed)
    kelley = build_plan(eco, "harmony").solve("highs", tolerance=tol)
    fast = build_plan(eco, "harmony").solve("fast", tolerance=tol)
    assert kelley.status == fast.status == "optimal", kelley.solver["message"]
    assert max(kelley.residuals.values()) <= tol
    assert kelley.objective == pytest.approx(fast.objective, rel=2 * tol)


def test_fast_harmony_on_spains_supply_use_table() -> None:
    """The shipped Spain 2019 economy (INE's table, industry technology: one technique per product): ``auto`` takes
    the dual path and agrees with Kelley's cutting planes within the tolerance, with a far smaller gap."""
    tol = 1e-6
    fast = build_plan(shipped_economy("spain_2019"), "harmony").solve("auto", tolerance=tol)
    kelley = build_plan(shipped_economy("spain_2019"), "harmony").solve("highs", tolerance=tol)
    assert fast.status == kelley.status == "optimal" and fast.solver["method"] == "leontief-dual"
    assert fast.objective == pytest.approx(kelley.objective, rel=2 * tol)
    assert fast.objective >= kelley.objective - 1e-9 * abs(kelley.objective)  # kelley's gap is its own
    assert fast.solver["gap"] <= kelley.solver["gap"]


def test_value_weights_keep_spains_harmony_plan_near_its_targets() -> None:
    """The importer's need weights (in proportion to the targets, as shipped) against equal weights on the same
    table. Equal weights let a 0.13 million EUR need count as much as a 94,000 million one: the harmony then makes
    up to 10^5 times the target of small needs and leaves eleven needs at 0. Value weights keep three needs in four
    within 50% of their targets, and only the three most labour-intensive products at 0."""
    spain = shipped_economy("spain_2019")
    listed = spain.need_listed
    assert spain.weight[listed] == pytest.approx(spain.target[listed] / spain.target[listed].mean(), rel=1e-12)
    equal = dataclasses.replace(spain, weight=np.where(listed, 1.0, 0.0))
    by_value = build_plan(spain, "harmony").solve("auto", tolerance=1e-6)
    by_count = build_plan(equal, "harmony").solve("auto", tolerance=1e-6)
    assert by_value.status == by_count.status == "optimal"
    f_value, f_count = by_value.needs["fulfilment"], by_count.needs["fulfilment"]
    assert ((f_value - 1).abs() <= 0.5).mean() >= 0.7 and ((f_count - 1).abs() <= 0.5).mean() < 0.2
    assert f_value.max() < 20 < 1000 < f_count.max()
    assert (f_value < 1e-9).sum() == 3 and (f_count < 1e-9).sum() == 11
    assert by_value.indices["quantity"] < 3 < 100 < by_count.indices["quantity"]
    fte = analyze(spain).embodied["labour_fte"]
    assert set(f_value.index[f_value < 1e-9]) == set(fte.nlargest(3).index)


def test_fast_harmony_hands_other_economies_to_kelley() -> None:
    """Alternatives and joint products (the structured family), a user constraint or a capacity of 0: Kelley
    answers, and with ``--solver fast`` the note says why."""
    structured = generate_economy(60, family="structured", seed=2)
    r = build_plan(structured, "harmony").solve("fast")
    assert r.status == "optimal" and "declined" in r.solver["note"] and "Kelley" in r.solver["message"]
    model = build_plan(generate_economy(40, seed=1), "harmony")
    model.add_constraint({model.economy.techniques[0]: 1.0}, upper=1e9, name="loose")
    r = model.solve("fast")
    assert r.status == "optimal" and "user constraints" in r.solver["note"]
    tables = generate_economy(40, seed=1).tables()
    tech = tables["techniques"]
    unneeded = tech["capacity"].notna() & ~tech["good"].isin(tables["needs"]["good"])
    tech.loc[unneeded.idxmax(), "capacity"] = 0.0
    shut = build_plan(build_economy(tables, name="shut"), "harmony").solve("fast")
    assert shut.status == "optimal" and "capacity 0" in shut.solver["note"]
    auto = build_plan(generate_economy(40, seed=1), "harmony").solve("auto")
    assert auto.solver["method"] == "leontief-dual" and not auto.solver.get("note")


@pytest.mark.parametrize(("goods", "seeds"), [(30, 40), (300, 8)])
def test_matrix_free_newton_agrees_with_the_dense_one(goods: int, seeds: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix-free Newton phase (the first, forced alone here by ``MAX_DENSE = 0``, so that the dense phase
    cannot answer for it) certifies the same harmony as the dense phase alone, within the tolerance."""
    import needplan.plan.fast_harmony as fast_harmony

    tol = 1e-7
    for seed in range(seeds):
        eco = generate_economy(goods, seed=seed, capacity_share=0.35, labour_kinds=1 + seed % 2)
        with monkeypatch.context() as patch:
            patch.setattr(fast_harmony, "MATRIX_FREE_FIRST", False)
            dense = build_plan(eco, "harmony").solve("fast", tolerance=tol)
        with monkeypatch.context() as patch:
            patch.setattr(fast_harmony, "MAX_DENSE", 0)
            free = build_plan(eco, "harmony").solve("fast", tolerance=tol)
        assert dense.status == free.status == "optimal", (seed, free.solver["message"], dense.solver["message"])
        assert free.solver["method"] == "leontief-dual" and "matrix-free" in free.solver["message"], seed
        assert "matrix-free" not in dense.solver["message"]
        assert free.objective == pytest.approx(dense.objective, rel=2 * tol, abs=2 * tol), seed
        assert max(free.residuals.values()) <= tol
        assert free.solver["dual_residual"] <= tol and free.solver["duality_gap"] <= tol


def test_the_matrix_free_preconditioner_solves_its_own_approximation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preconditioner solves ``R diag(w) R'`` exactly where nothing is dropped, stays positive where ``R`` has
    an empty row, and falls back to its diagonal where the sparse LU fails."""
    import scipy.sparse as sp

    import needplan.plan.fast_harmony as fast_harmony

    rng = np.random.default_rng(3)
    rows = sp.csr_matrix(sp.random(6, 15, density=0.5, random_state=rng))
    weight = rng.uniform(0.5, 2.0, 15)
    hess = (rows @ sp.diags(weight) @ rows.T).toarray()
    b = rng.standard_normal(6)
    monkeypatch.setattr(fast_harmony, "DROP_BELOW", 0.0)
    solve = fast_harmony._approximate_inverse(rows, weight)
    assert hess @ solve(b) == pytest.approx(b, rel=1e-6, abs=1e-8)
    empty = sp.csr_matrix(sp.vstack([rows, sp.csr_matrix((1, 15))]))
    z = fast_harmony._approximate_inverse(empty, weight)(np.ones(7))
    assert np.all(np.isfinite(z)) and z[-1] > 0

    def singular(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Factor is exactly singular")

    monkeypatch.setattr(fast_harmony, "splu", singular)
    diagonal = fast_harmony._approximate_inverse(rows, weight)(b)
    assert diagonal == pytest.approx(b / (np.diag(hess) * (1 + 1e-10)), rel=1e-9)


def test_matrix_free_newton_from_a_cold_start_certifies_by_damped_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """One L-BFGS-B iteration only, so that Newton's phase starts far from the optimum: its damped steps
    (``DAMPING``) still certify all 40 economies, with the harmony of the usual path. Undamped (``DAMPING = (0,)``)
    it stalled on 5 of these 40 (measured)."""
    import needplan.plan.fast_harmony as fast_harmony

    tol = 1e-7
    for seed in range(40):
        eco = generate_economy(30, seed=seed, capacity_share=0.35, labour_kinds=1 + seed % 2)
        usual = build_plan(eco, "harmony").solve("fast", tolerance=tol)
        with monkeypatch.context() as patch:
            patch.setattr(fast_harmony, "MAX_DENSE", 0)
            patch.setattr(fast_harmony, "LBFGS_ITERATIONS", 1)
            cold = build_plan(eco, "harmony").solve("fast", tolerance=tol)
        assert cold.status == "optimal" and "matrix-free" in cold.solver["message"], (seed, cold.solver.get("note"))
        assert cold.objective == pytest.approx(usual.objective, rel=2 * tol, abs=2 * tol), seed
        assert max(cold.residuals.values()) <= tol


def test_a_stalled_matrix_free_newton_gives_up_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 goods whose input matrix has its Perron root at 0.999 (found by fuzzing): the matrix-free phase's gap
    stops shrinking, and it used to go on to its 200th step (33 s of line searches) before the dense phase
    declined and Kelley answered in a tenth of a second. It now gives up once its gap has not halved in
    ``STALL_ROUNDS`` steps, and the plan is Kelley's, optimal. (With numpy 2.4 and scipy 1.17 the phase converges
    in 5 steps instead of stalling; either way it ends within twice ``STALL_ROUNDS``.)"""
    from pathlib import Path

    import needplan.plan.fast_harmony as fast_harmony
    from needplan.economy import read_economy

    seen: list[tuple[int, str]] = []
    newton_cg = fast_harmony._newton_cg

    def spy(*args: object, **kwargs: object) -> object:
        answer, rounds, why = newton_cg(*args, **kwargs)  # type: ignore[arg-type]
        seen.append((rounds, why))
        return answer, rounds, why

    monkeypatch.setattr(fast_harmony, "_newton_cg", spy)
    eco = read_economy(Path(__file__).parent / "data" / "near_singular_harmony")
    r = build_plan(eco, "harmony").solve("fast", tolerance=1e-5)
    assert r.status == "optimal", r.solver["message"]
    assert len(seen) == 1 and seen[0][0] <= 2 * fast_harmony.STALL_ROUNDS, seen
    assert seen[0][1] == "" or "stalled" in seen[0][1], seen


def test_the_stall_rule_gives_up_when_the_gap_does_not_halve(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stall rule itself, independent of numpy's and scipy's rounding (with numpy 2.4 and scipy 1.17 the
    near-singular economy above converges instead): Newton's steps cut to a thousandth can not halve the gap in
    ``STALL_ROUNDS`` steps, and the matrix-free phase gives up at once, saying so; the plan still ends optimal."""
    import needplan.plan.fast_harmony as fast_harmony

    seen: list[tuple[int, str]] = []
    newton_cg, cg = fast_harmony._newton_cg, fast_harmony._conjugate_gradients

    def spy(*args: object, **kwargs: object) -> object:
        answer, rounds, why = newton_cg(*args, **kwargs)  # type: ignore[arg-type]
        seen.append((rounds, why))
        return answer, rounds, why

    monkeypatch.setattr(fast_harmony, "_newton_cg", spy)
    monkeypatch.setattr(fast_harmony, "_conjugate_gradients", lambda *a, **k: 1e-3 * cg(*a, **k))
    r = build_plan(generate_economy(300, family="uniform", seed=2), "harmony").solve("fast")
    assert r.status == "optimal"
    assert len(seen) == 1 and "has not halved in" in seen[0][1] and seen[0][0] == fast_harmony.STALL_ROUNDS + 1, seen


def test_kelley_after_the_smooth_dual_takes_the_rounds_of_a_fresh_model() -> None:
    """The smooth dual leaves a tangent cut at its plan for each need in the model's LP. A model solved by it and then
    by HiGHS (Kelley) took 22 rounds and 20 s against 13 rounds and 0.5 s fresh: Kelley's cuts near the optimum lay
    so close to those that HiGHS's simplex failed (fuzzing the API's re-solves). Kelley frees them now."""
    eco = generate_economy(300, family="uniform", seed=31)
    model = build_plan(eco, "harmony")
    first = model.solve("auto", tolerance=1e-9)
    assert first.status == "optimal" and "leontief-dual" in first.solver["message"]
    again = model.solve("highs", tolerance=1e-8)
    fresh = build_plan(eco, "harmony").solve("highs", tolerance=1e-8)
    assert again.status == fresh.status == "optimal"
    rounds = [int(r.solver["message"].split(" LP rounds")[0].rsplit(" ", 1)[1]) for r in (again, fresh)]
    assert rounds[0] <= rounds[1] + 1, rounds  # ("Kelley cutting planes, 13 LP rounds, certified gap ...")
    assert again.objective == pytest.approx(fresh.objective, rel=1e-8)
