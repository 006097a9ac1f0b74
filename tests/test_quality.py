"""Quality delivered to final use: the best units to the needs, the shoddiest to intermediate use.

Known answers by hand, the closed form against an independent LP of the allocation itself, and the invariant the
earlier count (``quality * made - used``) broke on generated economies: a need never counts more standard units
than its physical delivery times the best quality of its makers, nor fewer than times the worst.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from needplan.data.generate import generate_economy
from needplan.economy.validate import build_economy
from needplan.plan import build_plan
from needplan.quality import delivered, delivery_rows
from test_plan_helpers import economy, random_economy


def steel_economy(mills: list[tuple[str, float, float]], tool_steel: float) -> object:
    """Steel from ``mills`` (name, capacity, quality), each using one hour of labour per tonne; tools use
    ``tool_steel`` tonnes each. Needs: steel 4 (quality-weighted), tools 10 (unweighted). Labour is plentiful: the
    mills' capacities bind."""
    techniques = [(name, "steel", 1.0, cap, q) for name, cap, q in mills] + [("tool_shop", "tools", 1.0, None, 1.0)]
    inputs = [(name, "labour", 1.0) for name, _, _ in mills] + [("tool_shop", "steel", tool_steel),
                                                              ("tool_shop", "labour", 1.0)]
    return economy([("steel", "product"), ("tools", "product"), ("labour", "labour")], techniques, inputs,
                   [("labour", 1e6)], [("steel", 4.0, 1.0, True), ("tools", 10.0, 1.0, False)])


GOOD_MILL, POOR_MILL = ("mill_hi", 10.0, 1.2), ("mill_lo", 10.0, 0.8)


def test_good_steel_used_by_industry_counts_only_what_reaches_final_use() -> None:
    """One mill at quality 1.2, capacity 10. By hand: tools take 5 lam of the 10 tonnes, final use gets 10 - 5 lam
    tonnes worth 1.2 (10 - 5 lam) standard tonnes >= 4 lam, so lam* = 12 / 10 = 1.2: 4 tonnes to final use, 4.8
    standard. (Counting 1.2 * made - used would give 12 - 5 lam >= 4 lam, lam = 4/3: 3.33 tonnes delivered counted
    as 5.33 standard, more than they are worth.)"""
    r = build_plan(steel_economy([GOOD_MILL], 0.5), "ray").solve("highs", tolerance=1e-9)
    assert r.status == "optimal"
    assert r.fulfilment == pytest.approx(1.2, rel=1e-9)
    steel = r.needs.loc["steel"]
    assert steel["counted"] == pytest.approx(4.8, rel=1e-9)
    assert steel["quantity_index"] == pytest.approx(1.0, rel=1e-9)  # 4 tonnes for a target of 4
    assert steel["quality_index"] == pytest.approx(1.2, rel=1e-9)


def test_poor_steel_goes_to_industry_first() -> None:
    """Both mills at capacity 10. By hand: tools use U = 5 lam, all 10 poor tonnes go to them first, then good ones;
    final use gets 20 - 5 lam tonnes. V = min(1.2*10 + 0.8*10 - 0.8 U, 1.2 (20 - U)) = min(20 - 4 lam, 24 - 6 lam)
    >= 4 lam gives lam* = 2.4 (the second row binds: U = 12 > 10, so 2 good tonnes go to industry too): 8 tonnes,
    all good, to final use = 9.6 standard. (The earlier count, 20 - 5 lam >= 4 lam, gave 2.22.)"""
    model = build_plan(steel_economy([GOOD_MILL, POOR_MILL], 0.5), "ray")
    # steel: one need row per quality level of its makers, beside its balance; tools: its balance carries the need
    assert (model.rows["kind"] == "need").sum() == 3
    r = model.solve("highs", tolerance=1e-9)
    assert r.status == "optimal"
    assert r.fulfilment == pytest.approx(2.4, rel=1e-9)
    assert r.needs.loc["steel", "counted"] == pytest.approx(9.6, rel=1e-9)
    assert r.products.loc["steel", "net_output"] == pytest.approx(8.0, rel=1e-9)
    # the harmony and min-labour objectives count the same way: the steel target of 4 is met at lam = 1
    m = build_plan(steel_economy([GOOD_MILL, POOR_MILL], 0.5), "min-labour").solve("highs", tolerance=1e-9)
    assert m.status == "optimal" and m.needs.loc["steel", "counted"] >= 4.0 * (1 - 1e-9)


def test_a_product_nobody_uses_counts_every_unit_at_its_quality() -> None:
    """Without intermediate use the delivery is sum_j q_j o_j (one row: the lowest level)."""
    make = sp.csr_matrix(np.array([[2.0, 3.0]]))
    use = sp.csr_matrix((1, 2))
    q = np.array([0.6, 1.0])
    owner, level, rows = delivery_rows(make, use, q)
    assert owner.tolist() == [0] and level.tolist() == [0.6]
    x = np.array([1.0, 2.0])
    assert float((rows @ x)[0]) == pytest.approx(0.6 * 2 + 1.0 * 6)
    assert delivered(make, q, x, np.zeros(1))[0] == pytest.approx(7.2)


def test_closed_form_equals_the_allocation_lp() -> None:
    """V from the rows' minimum and from the plan's flows both equal scipy's LP over the allocation itself:
    max sum_j q_j a_j, 0 <= a_j <= made by j, sum a_j <= made - used (300 random products and plans)."""
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(300):
        goods, techs = int(rng.integers(1, 5)), int(rng.integers(1, 7))
        make = sp.random(goods, techs, density=0.5, random_state=rng, format="csr")
        use = sp.random(goods, techs, density=0.4, random_state=rng, format="csr") * 0.3
        q = np.round(rng.choice([0.6, 0.8, 1.0, 1.2, float(rng.uniform(0.5, 1.5))], techs), 3)
        x = rng.uniform(0.0, 3.0, techs)
        made_by = make.multiply(x).toarray()
        used = use @ x
        owner, _, rows = delivery_rows(make, use, q)
        by_rows = np.full(goods, np.inf)
        np.minimum.at(by_rows, owner, rows @ x)
        by_flows = delivered(make, q, x, used)
        for g in range(goods):
            final = made_by[g].sum() - used[g]
            if made_by[g].sum() == 0 or final < 0:
                continue
            bounds = np.column_stack([np.zeros(techs), made_by[g]])
            ref = linprog(-q, A_ub=np.ones((1, techs)), b_ub=[final], bounds=bounds, method="highs")
            assert ref.status == 0
            assert by_rows[g] == pytest.approx(-ref.fun, rel=1e-12, abs=1e-12)
            assert by_flows[g] == pytest.approx(-ref.fun, rel=1e-12, abs=1e-12)
            checked += 1
    assert checked > 300


@pytest.mark.parametrize(("n", "seed"), [(300, 1), (300, 2)])
def test_quality_index_lies_between_worst_and_best_quality_times_quantity(n: int, seed: int) -> None:
    """Every need of a generated economy: counted standard units between the worst and the best quality of its
    makers times the physical units delivered. Both seeds broke the upper bound with the earlier count (3 needs
    each: up to 1.04 quality-adjusted for 0.93 delivered at quality at most 1)."""
    eco = generate_economy(n, family="structured", seed=seed)
    r = build_plan(eco, "ray").solve("highs")
    assert r.status == "optimal"
    coo = sp.coo_matrix(eco.make)
    q = eco.technique_quality[coo.col]
    q_max, q_min = np.zeros(eco.n_goods), np.full(eco.n_goods, np.inf)
    np.maximum.at(q_max, coo.row, q)
    np.minimum.at(q_min, coo.row, q)
    g = eco.goods.get_indexer(r.needs.index)
    quantity, quality = r.needs["quantity_index"].to_numpy(), r.needs["quality_index"].to_numpy()
    assert np.all(quantity >= 0)
    assert np.all(quality <= q_max[g] * quantity + 1e-9)
    assert np.all(quality >= q_min[g] * quantity - 1e-9)


def _two_good_mills(import_cap: float | None) -> object:
    """Mills at quality 1.5 and 1.2 (capacity 10 each); tools use 0.2 steel. With ``import_cap``, a technique
    delivers up to that many standard (quality 1) tonnes of steel."""
    mills = [("mill_best", 10.0, 1.5), ("mill_good", 10.0, 1.2)]
    return steel_economy(mills + ([("import", import_cap, 1.0)] if import_cap is not None else []), 0.2)


def test_a_products_shadow_price_counts_a_standard_unit_at_the_binding_level() -> None:
    """By hand: tools use U = 2 lam. The rows are V <= 1.5*10 + 1.2*10 - 1.2 U = 27 - 2.4 lam (level 1.2) and
    1.5 (20 - U) = 30 - 3 lam (level 1.5); V >= 4 lam. The level-1.2 row binds: lam* = 27 / 6.4 = 4.21875, and
    industry takes 8.44 of the 10 good tonnes. One more standard tonne from outside is the shoddiest, so industry
    takes it first: it frees 1.2 standard tonnes of good steel for final use, lam rises by 1.2 / 6.4 = 0.1875 (a
    price read off that row alone, without its level, was 0.15625). The engine's re-solve with a small import
    agrees."""
    r = build_plan(_two_good_mills(None), "ray").solve("highs", tolerance=1e-10)
    assert r.status == "optimal"
    assert r.fulfilment == pytest.approx(27 / 6.4, rel=1e-9)
    assert r.products.loc["steel", "shadow_price"] == pytest.approx(1.2 / 6.4, rel=1e-9)
    step = 0.01
    more = build_plan(_two_good_mills(step), "ray").solve("highs", tolerance=1e-10)
    assert more.status == "optimal"
    assert (more.fulfilment - r.fulfilment) / step == pytest.approx(r.products.loc["steel", "shadow_price"], rel=1e-7)


@pytest.mark.parametrize("objective", ["ray", "min-labour"])
def test_every_products_shadow_price_is_the_gain_from_a_standard_unit_delivered(objective: str) -> None:
    """On 60 random economies (makers of quality 0.7, 1 and 1.2; weighted and unweighted needs), each product's
    shadow price equals the objective's gain per unit from a re-solve in which an import technique delivers 1e-4
    units of it at quality 1. This covers goods whose only makers are below or above standard quality, a need row
    of level 1.2 or 0.7 binding, industry using none of the product, and industry taking exactly the units below
    standard quality (a tie, where the delivery row of level 1 limits the unit's worth)."""
    step = 1e-4
    sign = -1.0 if objective == "min-labour" else 1.0
    checked = off_standard = 0
    for seed in range(60):
        eco = random_economy(seed)
        base = build_plan(eco, objective).solve("highs", tolerance=1e-10)
        if base.status != "optimal":
            continue
        for good in base.products.index:
            tables = eco.tables()
            tables["techniques"].loc[len(tables["techniques"])] = ["import", good, 1.0, step, 1.0]
            tables["inputs"].loc[len(tables["inputs"])] = ["import", "lab_a", 1e-12]
            more = build_plan(build_economy(tables, name="import"), objective).solve("highs", tolerance=1e-10)
            assert more.status == "optimal"
            gain = sign * (more.objective - base.objective) / step
            price = base.products.loc[good, "shadow_price"]
            assert gain == pytest.approx(price, rel=1e-5, abs=1e-7), (seed, good)
            checked += 1
            makers = base.activity[(base.activity["good"] == good) & (base.activity["activity"] > 0)]
            off_standard += bool(price > 1e-7 and (makers["quality"] != 1.0).any()
                                 and good in base.needs.index and base.needs.loc[good, "quality_weighted"])
    assert checked > 150 and off_standard > 20
