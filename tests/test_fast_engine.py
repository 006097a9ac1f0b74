"""The fast ray solver on the engine's own LP (``build_plan``) of generated economies, against HiGHS."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from needplan.data.generate import generate_economy
from needplan.plan.fast import primal_residual
from needplan.plan.model import build_plan
from needplan.plan.solve import solve_model


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_uniform_economy_takes_the_fast_path(seed: int) -> None:
    # Quality-weighted needs give the LP a need row beside each needed product's balance; the fast path must
    # treat those as coupling rows rather than decline the whole problem.
    model = build_plan(generate_economy(400, family="uniform", seed=seed), "ray")
    fast = solve_model(model, solver="fast", tolerance=1e-7)
    assert fast.status == "optimal"
    assert "leontief-cg" in fast.solver["message"]
    ref = solve_model(build_plan(generate_economy(400, family="uniform", seed=seed), "ray"), solver="highs",
                      tolerance=1e-7)
    assert fast.fulfilment == pytest.approx(ref.fulfilment, rel=1e-6)


@pytest.mark.parametrize("family", ["uniform", "structured"])
def test_fast_answer_is_verified_optimal(family: str) -> None:
    # Whatever path fast takes (its own or the HiGHS fallback), the answer agrees with HiGHS to the tolerance.
    eco = generate_economy(300, family=family, seed=5)
    fast = solve_model(build_plan(eco, "ray"), solver="fast", tolerance=1e-7)
    ref = solve_model(build_plan(eco, "ray"), solver="highs", tolerance=1e-7)
    assert fast.status == ref.status == "optimal"
    assert fast.fulfilment == pytest.approx(ref.fulfilment, rel=1e-6)
    assert fast.solver["duality_gap"] <= 1e-6


def test_a_row_of_tiny_flows_is_judged_against_one_unit_of_it() -> None:
    """HiGHS's crossover leaves a technique at an activity of 1e-15 that uses a product nothing makes: 1e-15 short
    of 0, all of that row's flows. Judged against its own flows that is a 100% violation, and fast's certificate
    refused HiGHS's optimal answer (structured economy of 6,000 goods, interior point method). Against a thousandth
    of one unit of the row (``ROW_UNIT_SHARE``), as lp.check_solution does, it is rounding (1e-12, below any
    tolerance the engine takes); a real shortfall still counts in full."""
    net = sp.csr_matrix(np.array([[1.0, -0.5], [0.0, 1.0]]))  # goods a, b x techniques ta, tb: tb uses 0.5 a
    primary = sp.csr_matrix((0, 2))
    none, cap = np.zeros(0), np.full(2, np.inf)
    tiny = np.array([0.0, 2e-15])  # a: -1e-15, all of its flows
    assert primal_residual(net, primary, none, cap, np.zeros(2), tiny) <= 1e-11
    # a target of 1 on a, met by half: 0.5 short against flows of 1.5 (1 made, 0.5 used)
    assert primal_residual(net, primary, none, cap, np.array([1.0, 1.0]), np.ones(2)) == pytest.approx(0.5 / 1.5)


def test_a_resource_of_none_used_by_rounding_is_not_an_infinite_violation() -> None:
    """A resource available in amount 0, used 1.9e-10 by a technique HiGHS leaves at its capacity of 1e-9: judged
    against its availability alone that was a violation of 1.9e290, and fast called HiGHS's optimal answer to a
    6-good economy "stopped" (found by fuzzing). Against a thousandth of one unit of the row it is rounding; a
    real overuse still counts against the availability."""
    net = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    primary = sp.csr_matrix(np.array([[0.0, 0.19]]))  # the resource: tb uses 0.19 a unit
    cap, target = np.array([np.inf, 1e-9]), np.zeros(2)
    x = np.array([1.0, 1e-9])
    assert primal_residual(net, primary, np.zeros(1), cap, target, x) <= 1e-6
    assert primal_residual(net, primary, np.array([0.1]), np.full(2, np.inf), target, np.ones(2)) == pytest.approx(0.9)


def test_products_with_abs_net_by_blocks_of_rows_equal_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """``|net| @ v`` and ``|net|.T @ w`` without a copy of ``|net|``: blocks of 7 entries (rows never split, an
    empty row and a row longer than a block included) give the products of the explicit matrix, and the same
    equilibrating scales, bit for bit."""
    from needplan import leontief

    rng = np.random.default_rng(3)
    net = sp.random(40, 25, density=0.2, random_state=4, format="lil") - sp.random(40, 25, density=0.1,
                                                                                  random_state=5, format="lil")
    net = sp.lil_matrix(net)
    net[3, :] = 0.0
    net[7, :] = rng.uniform(-1, 1, 25)
    net = sp.csr_matrix(net)
    v, w = rng.uniform(-1, 1, 25), rng.uniform(-1, 1, 40)
    monkeypatch.setattr(leontief, "ABS_BLOCK", 7)
    assert len(leontief.row_ranges(net.indptr)) > 5
    np.testing.assert_allclose(leontief.abs_matvec(net, v), abs(net) @ v, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(leontief.abs_rmatvec(net, w), abs(net).T @ w, rtol=1e-14, atol=1e-14)
    wide = sp.csr_matrix(net.multiply(np.exp2(rng.integers(-40, 40, size=(40, 1)))))  # rows in units far apart
    for beyond in (None, 2.0):
        by_blocks = leontief.equilibrate(wide, 8, beyond=beyond)
        monkeypatch.setattr(leontief, "ABS_BLOCK", 1 << 20)
        whole = leontief.equilibrate(wide, 8, beyond=beyond)
        monkeypatch.setattr(leontief, "ABS_BLOCK", 7)
        assert not np.all(whole[0] == 1.0)
        for a, b in zip(by_blocks, whole, strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_model_fast_declines_is_re_solved_by_its_warm_highs_session() -> None:
    """Outside fast's structure (a structured economy: quality rows) the model's own HiGHS session answers, so that
    a re-solve after an edit is warm; before, fast's own LP went to a fresh HiGHS each time (2.2 s against 0.01 s
    after halving a capacity, found by fuzzing). The second solve does not try fast's path again, and says so."""
    eco = generate_economy(300, family="structured", seed=5)
    model = build_plan(eco, "ray")
    first = model.solve("fast")
    assert first.status == "optimal" and first.solver["name"] == "highs", first.solver
    assert str(first.solver["method"]).startswith("highs (fast path declined: ")
    session = model.session
    assert session is not None
    capped = first.activity.query("utilisation > 0.999").index[0]
    model.set_capacity(capped, float(first.activity.at[capped, "capacity"]) / 2)
    again = model.solve("fast")
    assert model.session is session and "declined this LP before" in again.solver["note"]
    cold = build_plan(eco, "ray")
    cold.set_capacity(capped, float(first.activity.at[capped, "capacity"]) / 2)
    reference = cold.solve("highs")
    assert again.status == reference.status == "optimal"
    assert again.fulfilment == pytest.approx(reference.fulfilment, rel=1e-9) and again.fulfilment < first.fulfilment


@pytest.mark.parametrize("objective", ["ray", "min-labour"])
def test_fast_works_on_the_lp_s_own_rows_without_copying_them(objective: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """fast gets the LP's balance and need rows as a view of its arrays (a copy is 138 MiB at 10^6 goods); ray's
    lambda column comes along as a technique of capacity 0 that makes nothing, and the plan is the same as
    HiGHS's."""
    from needplan.plan import fast

    seen = {}
    original = fast.solve_ray if objective == "ray" else None

    def spy(net, primary, available, capacity, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.update(net=net, capacity=capacity, main=kwargs["main"])
        assert original is not None
        return original(net, primary, available, capacity, *args, **kwargs)

    eco = generate_economy(400, seed=2)
    model = build_plan(eco, objective)
    if objective == "ray":
        monkeypatch.setattr(fast, "solve_ray", spy)
        result = solve_model(model, solver="fast")
        net = seen["net"]
        assert net.shape[1] == model.lp.n_cols == model.n_techniques + 1
        assert seen["capacity"][-1] == 0.0 and seen["main"][-1] == -1
    else:
        from needplan.plan import fast_min_labour

        def spy_ml(net, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen["net"] = net
            return original_ml(net, *args, **kwargs)

        original_ml = fast_min_labour.solve_min_labour
        monkeypatch.setattr(fast_min_labour, "solve_min_labour", spy_ml)
        result = solve_model(model, solver="fast")
        net = seen["net"]
    assert np.shares_memory(net.data, model.lp.A.data) and np.shares_memory(net.indices, model.lp.A.indices)
    assert result.status == "optimal" and result.solver["name"] == "fast"
    reference = solve_model(build_plan(eco, objective), solver="highs")
    assert result.objective == pytest.approx(reference.objective, rel=1e-6)


def test_a_solve_runs_blas_on_one_thread_and_gives_the_threads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """BLAS's threads cost more than the engine's vector products gain from them, and far more beside a busy
    process (docs/benchmarks.md): a solve limits numpy's and scipy's BLAS to one thread and restores the count."""
    from threadpoolctl import threadpool_info

    import needplan.plan.solve as solve_module

    def blas_threads() -> dict[str, int]:
        return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    seen: list[dict[str, int]] = []
    inner = solve_module._solve_model

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(blas_threads())
        return inner(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(solve_module, "_solve_model", spy)
    before = blas_threads()
    r = solve_model(build_plan(generate_economy(50, seed=1), "ray"), solver="fast")
    assert r.status == "optimal" and seen and set(seen[0].values()) == {1}
    assert blas_threads() == before
