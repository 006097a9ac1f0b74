"""The simulator's engine: determinism, accounting guards every step, shared history of counterfactuals."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from needplan.simulate import SERIES_COLUMNS, BalanceError, Model, check_balances, get_scenario, run_scenario
from needplan.simulate.scenarios import Scenario

N = 2000


@pytest.fixture(scope="module")
def history() -> tuple[pd.DataFrame, list]:
    return run_scenario(get_scenario("ussr-1913-1940"), seed=3, n_households=N)


def test_same_seed_bit_identical_and_different_seeds_differ(history) -> None:
    again, _ = run_scenario(get_scenario("ussr-1913-1940"), seed=3, n_households=N)
    pd.testing.assert_frame_equal(history[0], again, check_exact=True)
    other, _ = run_scenario(get_scenario("ussr-1913-1940"), seed=4, n_households=N)
    assert not np.allclose(history[0]["grain_harvest_mt"], other["grain_harvest_mt"])


def test_series_has_exactly_the_columns(history) -> None:
    series = history[0]
    assert tuple(series.columns) == SERIES_COLUMNS
    assert list(series["year"]) == list(range(1913, 1941))
    assert series[list(SERIES_COLUMNS[2:])].notna().all().all()


def test_balances_hold_every_year(history) -> None:
    for rec in history[1]:
        check_balances(rec)  # raises if broken
        v = rec.values
        uses = (v["grain_seed_mt"] + v["grain_feed_mt"] + v["grain_rural_consumption_mt"]
                + v["grain_procurement_mt"] + v["grain_market_sales_mt"] + v["grain_losses_mt"]
                + v["grain_stock_end_mt"] - v["grain_stock_start_mt"] - v["grain_transfers_net_mt"]
                - v["grain_state_release_mt"])
        assert v["grain_harvest_mt"] == pytest.approx(uses, rel=1e-9)
        for kind in ("cattle", "pigs", "sheep_goats", "horses"):
            assert v[f"{kind}_end_m"] >= 0


def test_guard_raises_when_grain_is_created(history) -> None:
    rec = history[1][20]
    broken = replace(rec, values={**rec.values, "grain_harvest_mt": rec.values["grain_harvest_mt"] + 1.0})
    with pytest.raises(BalanceError, match="grain balance"):
        check_balances(broken)
    broken = replace(rec, values={**rec.values, "pigs_births_m": rec.values["pigs_births_m"] + 0.5})
    with pytest.raises(BalanceError, match="pigs"):
        check_balances(broken)


def test_counterfactuals_share_history_until_1927(history) -> None:
    for name in ("ussr-left-opposition", "ussr-plan-market-democracy"):
        cf, _ = run_scenario(get_scenario(name), seed=3, n_households=N)
        before = cf["year"] <= 1927
        pd.testing.assert_frame_equal(cf[before], history[0][before], check_exact=True)
        assert not np.allclose(cf.loc[~before, "cattle_m"], history[0].loc[~before, "cattle_m"])


def test_model_owns_one_generator_and_steps_by_year() -> None:
    sc = get_scenario("ussr-1913-1940")
    short = Scenario("short", "", 1913, 1915, sc.schedule, shocks=sc.shocks)
    model = Model(short, seed=1, n_households=500)
    records = model.run()
    assert [r.year for r in records] == [1913, 1914, 1915]
    assert model.hh.herd.shape == (500, 4)
    assert isinstance(model.rng, np.random.Generator)
