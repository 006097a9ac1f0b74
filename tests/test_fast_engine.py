"""The fast ray solver on the engine's own LP (``build_plan``) of generated economies, against HiGHS."""

from __future__ import annotations

import pytest

from needplan.data.generate import generate_economy
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
