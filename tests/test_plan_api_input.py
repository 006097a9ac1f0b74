"""The plan engine's Python API: bad arguments are refused by name, and the explanations found wanting by fuzzing
(session 20) say what binds and what conflicts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from needplan.data.generate import generate_economy
from needplan.economy import read_economy
from needplan.plan import PlanInputError, build_plan
from test_plan_helpers import economy, random_economy

DEMO = Path(__file__).resolve().parents[1] / "src" / "needplan" / "data" / "demo"


@pytest.fixture(scope="module")
def demo() -> Any:
    return read_economy(DEMO)


BAD: list[tuple[str, Callable[[Any], object], str]] = [
    ("nan lower bound", lambda m: m.add_constraint({"shoe_factory": 1.0}, lower=np.nan), "lower bound must be a"),
    ("nan upper bound", lambda m: m.add_constraint({"shoe_factory": 1.0}, upper=np.nan), "upper bound must be a"),
    ("string bound", lambda m: m.add_constraint({"shoe_factory": 1.0}, lower="5"), "lower bound must be a"),
    ("None bound", lambda m: m.add_constraint({"shoe_factory": 1.0}, upper=None), "upper bound must be a"),
    ("text coefficient", lambda m: m.add_constraint({"shoe_factory": "abc"}, upper=1.0),
     "coefficient of 'shoe_factory' must be a number"),
    # (fuzzing: "1e3" was read as 1000 and True as 1.0, where the same values as bounds were refused)
    ("number as text", lambda m: m.add_constraint({"shoe_factory": "1e3"}, upper=1.0), "must be a number, got '1e3'"),
    ("bool coefficient", lambda m: m.add_constraint({"shoe_factory": True}, upper=1.0), "must be a number, got True"),
    ("coefficients as a list", lambda m: m.add_constraint([1.0], upper=1.0), "must be a mapping of technique ids"),
    # (fuzzing: "constraint bounds are empty: lower -inf > upper -inf")
    ("upper bound -inf", lambda m: m.add_constraint({"shoe_factory": 1.0}, lower=-np.inf, upper=-np.inf),
     "admit no value: an upper bound of -inf"),
    ("lower bound inf", lambda m: m.add_constraint({"shoe_factory": 1.0}, lower=np.inf, upper=np.inf),
     "admit no value: a lower bound of inf"),
    ("name not text", lambda m: m.add_constraint({"shoe_factory": 1.0}, upper=1.0, name=7), "name must be a string"),
    ("capacity as text", lambda m: m.set_capacity("power_station", "5"), "capacity of .power_station. must be"),
    ("capacity None", lambda m: m.set_capacity("power_station", None), "must be a number"),
    ("capacity array", lambda m: m.set_capacity("power_station", np.ones(2)), "must be a number"),
    ("availability text", lambda m: m.set_available("land", "5"), "availability of 'land' must be a number"),
    ("tolerance text", lambda m: m.solve("highs", tolerance="1e-6"), "tolerance must be a number"),
    ("time limit negative", lambda m: m.solve("highs", time_limit=-1), "time_limit must be a number of seconds"),
    ("time limit nan", lambda m: m.solve("highs", time_limit=float("nan")), "time_limit must be a number"),
    ("time limit text", lambda m: m.solve("fast", time_limit="10"), "time_limit must be a number"),
]


@pytest.mark.parametrize(("case", "call", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_are_refused_by_name(demo: Any, case: str, call: Callable[[Any], object],
                                           message: str) -> None:
    """Found by fuzzing: a NaN bound passed and later read as a coefficient range HiGHS refused; a negative time
    limit was ignored; text and None escaped as raw TypeErrors from numpy."""
    model = build_plan(demo, "ray")
    with pytest.raises(PlanInputError, match=message):
        call(model)
    assert model.solve("highs").status == "optimal"  # the refused edit left the model as it was


def test_build_plan_refuses_what_it_cannot_use(demo: Any) -> None:
    with pytest.raises(PlanInputError, match="takes an Economy"):
        build_plan(str(DEMO), "ray")  # type: ignore[arg-type]
    with pytest.raises(PlanInputError, match="must map labour kinds"):
        build_plan(demo, "min-labour", labour_weights=["labour_skilled"])  # type: ignore[arg-type]
    with pytest.raises(PlanInputError, match="labour weight of 'labour_skilled' must be a number"):
        build_plan(demo, "min-labour", labour_weights={"labour_skilled": "2"})  # type: ignore[dict-item]
    # Silently ignored before: weights change nothing in ray or harmony.
    with pytest.raises(PlanInputError, match="min-labour objective only"):
        build_plan(demo, "ray", labour_weights={"labour_skilled": 1000.0})


def test_constraint_names_are_unique(demo: Any) -> None:
    model = build_plan(demo, "ray")
    model.add_constraint({"coal_mine": 1.0}, upper=1e4, name="user_2")
    model.add_constraint({"coal_mine": 1.0}, upper=2e4)  # was named user_2 as well
    with pytest.raises(PlanInputError, match="named 'user_2' exists already"):
        model.add_constraint({"coal_mine": 1.0}, upper=3e4, name="user_2")
    names = model.rows["name"].iloc[model.user_rows].tolist()
    assert len(names) == len(set(names)) == 2
    assert model.lp.n_rows == len(model.rows)  # the refused row left the LP as it was
    assert model.solve("highs").status == "optimal"
    other = build_plan(demo, "ray")
    other.add_constraint({"coal_mine": 1.0}, upper=1e4, name="mine_quota")
    other.add_constraint({"coal_mine": 1.0}, upper=2e4)  # the first free user_k, as docs/plan.md says
    assert other.rows["name"].iloc[other.user_rows].tolist() == ["mine_quota", "user_1"]


def test_a_ratio_constraint_is_verified_against_its_flows() -> None:
    """``x_ta - c x_tb <= 0`` (a bound of 0) over activities of 1.5e6: HiGHS's plan breaks it by 1.2e-9, one unit
    in the last place of its flows, which read-back measured against a thousandth of one unit of the row: 1.2e-6,
    "stopped" (a helper's fuzzing; 3 of 119 random ratio rows)."""
    eco = economy([("p", "product"), ("lab", "labour")], [("ta", "p", 1.0, None, 1.0), ("tb", "p", 1.0, None, 1.0)],
                  [("ta", "lab", 1.0), ("tb", "lab", 2.0)], [("lab", 1e12)], [("p", 1e7, 1.0)])
    c = 0.18212704632184262
    model = build_plan(eco, "min-labour")
    model.add_constraint({"ta": 1.0, "tb": -c}, upper=0.0, name="ratio")
    r = model.solve("highs")
    assert r.status == "optimal", r.solver["message"]
    x = r.activity["activity"]
    assert x["ta"] - c * x["tb"] <= 1e-12 * x["ta"]  # (it does break the row, by rounding only)
    assert r.objective == pytest.approx(1e7 * (c + 2) / (1 + c), rel=1e-9)  # all labour at the ratio's limit
    assert r.solver["user_constraint_residual"] < 1e-12


def test_edits_that_change_the_activities_unit_are_solved_as_by_a_fresh_model() -> None:
    """Every availability and capacity 10^6 times smaller after a first solve: the kept HiGHS session passed the
    new bounds in the units it chose for the old ones, and harmony came back "stopped" without a plan, where the
    same edits on a fresh model are optimal (a helper's fuzzing: 8 of 30 economies)."""
    eco = random_economy(8)

    def shrunk(model: Any) -> Any:
        for g in eco.primaries:
            if np.isfinite(eco.available[g]):
                model.set_available(str(eco.goods[g]), float(eco.available[g] * 1e-6))
        for j in np.flatnonzero(np.isfinite(eco.technique_capacity)):
            model.set_capacity(str(eco.techniques[j]), float(eco.technique_capacity[j] * 1e-6))
        return model

    warm = build_plan(eco, "harmony")
    assert warm.solve("highs").status == "optimal"
    again = shrunk(warm).solve("highs")
    fresh = shrunk(build_plan(eco, "harmony")).solve("highs")
    assert again.status == fresh.status == "optimal", again.explanation
    assert again.objective == pytest.approx(fresh.objective, rel=1e-6)


@pytest.mark.parametrize("edit", [("capacity", "power_station"), ("available", "land")])
def test_a_limit_of_zero_that_holds_the_plan_at_zero_is_named(demo: Any, edit: tuple[str, str]) -> None:
    """A capacity or availability set to 0 held the plan at 0 and the result said nothing binds: its elasticity,
    price x bound / objective, is 0 / 0. One unit more of it does raise fulfilment (by at most its price)."""
    kind, name = edit

    def model_at(bound: float) -> Any:
        m = build_plan(demo, "ray")
        (m.set_capacity if kind == "capacity" else m.set_available)(name, bound)
        return m

    r = model_at(0.0).solve("highs")
    assert r.status == "optimal" and r.fulfilment == 0.0
    row = r.bottlenecks.set_index("constraint").loc[name]
    assert row["shadow_price"] > 0 and np.isnan(row["elasticity"]) and "its limit is 0" in row["explanation"]
    assert r.explanation.startswith(row["explanation"])
    gained = model_at(1.0).solve("highs").fulfilment
    assert 0 < gained <= row["shadow_price"] * (1 + 1e-9)


def test_a_conflicting_lower_bound_is_shown_as_such(demo: Any) -> None:
    model = build_plan(demo, "min-labour")
    model.set_capacity("power_station", 400)
    model.add_constraint({"power_station": 1.0}, lower=500, name="at_least_500")
    r = model.solve("highs")
    assert r.status == "infeasible"
    user = r.conflict.set_index("constraint").loc["at_least_500"]
    assert user["bound"] == 500 and user["text"] == "user constraint at_least_500 >= 500"


def test_a_conflict_check_that_proves_nothing_twice_is_tried_at_the_tightest_tolerances() -> None:
    """Fuzzing: the feasibility LP's answer, warm and from nothing, had a dual residual of 6.7e-5 (beyond the 1e-5
    a verdict needs), so the search gave up with no set; at HiGHS's tightest tolerances the answer proves it."""
    eco = generate_economy(200, family="structured", seed=2)
    model = build_plan(eco, "min-labour")
    for t, c in {"t0000077": 24.14797753606587, "t0000120": 4.558761185216433, "t0000039": 127.7958423001251}.items():
        model.set_capacity(t, c)
    r = model.solve("highs")
    assert r.status == "infeasible" and len(r.conflict) > 0
    assert "at most 95.8% of every target can be met together" in r.explanation


def test_result_tables_do_not_share_columns(demo: Any) -> None:
    """The tables take views of read-back's arrays (memory at 10^6 goods); an edit of one table in place must not
    show in another."""
    r = build_plan(demo, "ray").solve("highs")
    good = r.needs.index[0]
    before = float(r.products.loc[good, "shadow_price"])
    r.needs.loc[good, "shadow_price"] = before + 1.0
    r.needs.loc[good, "counted"] = -1.0
    assert float(r.products.loc[good, "shadow_price"]) == before
    assert float(r.products.loc[good, "net_output"]) != -1.0


@pytest.mark.parametrize("objective", ["ray", "min-labour", "harmony"])
def test_every_result_column_can_be_edited_without_touching_the_economy(demo: Any, objective: str) -> None:
    """A user edits a result table in place (a what-if on the activity table): the quality column was the
    economy's own read-only array, and the edit raised "assignment destination is read-only"."""
    quality = demo.technique_quality.copy()
    r = build_plan(demo, objective).solve("highs")
    for name in ("activity", "products", "primaries", "needs", "bottlenecks", "conflict"):
        table = getattr(r, name)
        for column in table.columns if len(table) else []:
            table.loc[table.index[0], column] = table[column].iloc[-1]
    np.testing.assert_array_equal(demo.technique_quality, quality)


@pytest.mark.parametrize("objective", ["ray", "harmony"])
def test_each_solve_keeps_its_own_time_limit(objective: str) -> None:
    """Found by fuzzing the Python API: the model's HiGHS session kept the first solve's time limit, so after a
    solve stopped by its limit the model could never be solved to the end again."""
    model = build_plan(read_economy(DEMO), objective)
    assert model.solve("highs", time_limit=1e-9).status == "stopped"
    again = model.solve("highs")
    assert again.status == "optimal"
    assert again.objective == pytest.approx(build_plan(read_economy(DEMO), objective).solve("highs").objective,
                                            rel=1e-6)


def test_a_time_limit_counts_from_its_own_solve() -> None:
    """HiGHS compares its time limit with the run time of all runs of one instance together: a model whose first
    solve took a second, re-solved after a small edit with a limit of half that, ended "stopped" after 0 pivots.
    The limit now counts from the solve it is given to."""
    from needplan.data.generate import generate_economy

    eco = generate_economy(1500, family="structured", seed=1)
    model = build_plan(eco, "ray")
    assert model.solve("highs").status == "optimal"
    assert model.session is not None
    spent = model.session.highs.getRunTime()
    labour = str(eco.goods[eco.labour[0]])
    for k in range(1, 4):
        model.set_available(labour, (1 - 0.01 * k) * float(eco.available[eco.labour[0]]))
        again = model.solve("highs", time_limit=spent / 2)
        assert again.status == "optimal", (k, spent, again.solver)
        assert again.solver["iterations"] > 0


def test_each_solve_keeps_its_own_tolerance() -> None:
    """Found by fuzzing: the session kept the first solve's tolerance (0.5), so re-solving at 1e-9 never tightened
    HiGHS and read-back called the plan, 3.4e-7 short, "stopped". Structured, 200 goods in units 10^-4 to 10^4."""
    import needplan
    from needplan.data.generate import generate_economy

    tables = generate_economy(200, family="structured", seed=8).tables()
    rng = np.random.default_rng(8)
    unit = {g: 10.0 ** rng.uniform(-4, 4) for g in tables["goods"].good}
    for name, col in (("inputs", "amount"), ("outputs", "amount"), ("techniques", "output"),
                      ("resources", "available"), ("needs", "target")):
        tables[name][col] = tables[name][col] * tables[name]["good"].map(unit)
    eco = needplan.build_economy(tables, name="units")
    model = build_plan(eco, "ray")
    assert model.solve("highs", tolerance=0.5).status == "optimal"
    tight = model.solve("highs", tolerance=1e-9)
    fresh = build_plan(eco, "ray").solve("highs", tolerance=1e-9)
    assert tight.status == fresh.status == "optimal"
    assert tight.objective == pytest.approx(fresh.objective, rel=1e-9)


def test_fast_s_declined_attempt_counts_in_the_solver_s_seconds(monkeypatch) -> None:
    """A profile: on structured economies fast spends 0.15 s of 0.31 s before declining, and the seconds reported
    were HiGHS's alone."""
    import time as time_module

    from needplan.plan import solve as plan_solve

    def slow_decline(*args: Any, **kwargs: Any) -> tuple[None, str]:
        time_module.sleep(0.3)
        return None, "a test's decline"

    monkeypatch.setattr(plan_solve, "_solve_fast", slow_decline)
    r = build_plan(read_economy(DEMO), "ray").solve("fast")
    assert r.status == "optimal" and "a test's decline" in r.solver["method"]
    assert r.solver["seconds"] >= 0.3


def test_a_warm_re_solve_that_highs_then_finds_infeasible_is_infeasible() -> None:
    """Fuzzing: after a user row was added, HiGHS's warm "optimal" broke a row by 0.017 and its re-solve from
    nothing without presolve said infeasible; the first answer stood, read back as "stopped" with a plan of
    fulfilment -3e-9 and bottlenecks, where the same model built fresh (and scipy's HiGHS) said infeasible."""
    economy = generate_economy(50, family="structured", seed=2)
    row = {"t0000016": 1.3716648672915885, "t0000009": 0.9032908792132428}

    def model() -> Any:
        m = build_plan(economy, "ray")
        m.set_capacity("t0000017", 0.0)
        return m

    warm = model()
    assert warm.solve("highs").status == "optimal"
    warm.add_constraint(row, lower=1e-4, upper=1e-3)
    fresh = model()
    fresh.add_constraint(row, lower=1e-4, upper=1e-3)
    again, first = warm.solve("highs"), fresh.solve("highs")
    assert again.status == first.status == "infeasible", again.solver["message"]
    assert again.fulfilment is None and again.activity.empty
    assert again.explanation == first.explanation
    assert again.explanation.startswith("no feasible plan: the constraints cannot hold together")


def test_a_plan_held_back_by_a_user_constraint_says_so(demo: Any) -> None:
    """Fuzzing: with no labour or resource limits and the capacities lifted, a user quota on the power station
    alone held the plan back, and the explanation said only "no labour, resource or capacity binds"."""

    def solve(quota: float) -> Any:
        model = build_plan(demo)
        for good in demo.goods[demo.primaries]:
            model.set_available(str(good), np.inf)
        for tech in ("power_station", "shoe_workshop"):
            model.set_capacity(tech, np.inf)
        model.add_constraint({"power_station": 1.0}, upper=quota, name="power_quota")
        model.add_constraint({"shoe_factory": 1.0}, upper=1e12, name="loose")  # does not bind: not named
        return model.solve("highs")

    result = solve(400.0)
    assert result.status == "optimal" and result.bottlenecks.empty
    price = float(result.constraints.set_index("name").loc["power_quota", "shadow_price"])
    assert result.explanation == ("no labour, resource or capacity binds; user constraint power_quota (at 400; "
                                  f"shadow price {price:.4g}) binds")
    assert solve(401.0).fulfilment - result.fulfilment == pytest.approx(price, rel=1e-6)  # what the price says


def test_capacity_is_edited_through_set_capacity_only(demo: Any) -> None:
    """Fuzzing: ``model.capacity`` was a writable view of the LP, so NaN or -5 written into it bypassed
    set_capacity's checks (NaN then read as HiGHS refusing the LP's "coefficients")."""
    model = build_plan(demo)
    shoe = list(demo.techniques).index("shoe_workshop")
    with pytest.raises(ValueError, match="read-only"):
        model.capacity[shoe] = np.nan
    with pytest.raises(PlanInputError, match="capacity of 'shoe_workshop' must be"):
        model.set_capacity("shoe_workshop", np.nan)
    model.set_capacity("shoe_workshop", 150.0)
    assert model.capacity[shoe] == 150.0 and model.solve("highs").status == "optimal"


def test_need_weighted_indices_of_a_weight_near_the_largest_float_are_its_mean() -> None:
    """A helper's fuzzing: grain's weight at 1.7e308 made the weighted sums overflow, and an optimal plan read
    "gross quantity inf%" (null in --json), where the weighted mean of the needs' own indices is finite."""
    from needplan import build_economy
    from needplan.data import demo_folder

    tables = read_economy(demo_folder()).tables()
    tables["needs"].loc[tables["needs"]["good"] == "grain", "weight"] = 1.7e308
    result = build_plan(build_economy(tables, name="heavy grain"), "ray").solve("highs")
    assert result.status == "optimal"
    needs = result.needs
    share = needs["weight"] / 1.7e308  # every other weight is nothing beside it: the mean is grain's own index
    for index, column in (("quantity", "quantity_index"), ("quality_adjusted", "quality_index")):
        assert result.indices[index] == pytest.approx(float((share * needs[column]).sum() / share.sum()), rel=1e-12)
        assert result.indices[index] == pytest.approx(float(needs.at["grain", column]), rel=1e-12)
