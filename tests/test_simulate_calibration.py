"""The 1913-1928 facts of the calibration data (``shared/data/history/other_facts.csv`` and the series) that the
historical scenario must reproduce, each in an honest band. The simulated value is the mean over four seeds (the
weather of each year is random, and one seed's 1928 harvest moves procurement by several Mt). See
``docs/history.md``, "Calibration on 1913-1928", for the sources, bands and the parameters that calibrate each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needplan.simulate import get_scenario, run_scenario
from needplan.simulate.calibration import observed
from needplan.simulate.run import gdp_per_head_index

SEEDS = (0, 1, 2, 3)
N = 3000


@pytest.fixture(scope="module")
def runs() -> list[tuple[pd.DataFrame, list, pd.Series]]:
    out = []
    for seed in SEEDS:
        series, records = run_scenario(get_scenario("ussr-1913-1940"), seed=seed, n_households=N)
        out.append((series.set_index("year"), records, gdp_per_head_index(records)))
    return out


def _mean(runs, year: int, column: str) -> float:
    return float(np.mean([s.loc[year, column] for s, _, _ in runs]))


def _record_mean(runs, year: int, key: str) -> float:
    return float(np.mean([next(r.values[key] for r in recs if r.year == year) for _, recs, _ in runs]))


def test_state_procurement_1928_counts_nep_purchases(runs) -> None:
    # "about 10.8 Mt" (1927/28): taxes in kind plus the state agencies' purchases at fixed prices.
    assert 8.0 <= _mean(runs, 1928, "grain_procurement_mt") <= 14.0
    assert 6.0 <= _mean(runs, 1926, "grain_procurement_mt") <= 14.0
    # Private trade remains beside the state's purchases under NEP.
    assert _record_mean(runs, 1928, "grain_state_purchases_mt") > _record_mean(runs, 1928, "grain_market_sales_mt")


def test_grain_exports_before_the_war_and_in_1928(runs) -> None:
    # 1909-13 average about 10.9 Mt a year; the 1913 harvest is the baseline (normal weather).
    assert 8.5 <= _mean(runs, 1913, "grain_exports_mt") <= 13.0
    # 1928: under 1 Mt.
    assert _mean(runs, 1928, "grain_exports_mt") < 1.0


def test_real_wage_1928_between_national_estimates_and_the_big_cities(runs) -> None:
    # The model's index is urban consumption per town dweller: a national urban average. Official estimates for
    # industrial workers put 1927/28 a little above 1913; the big cities' "nearly doubled" is an upper bound.
    assert 102.0 <= _mean(runs, 1928, "real_wage_index") <= 150.0


def test_producer_goods_share_1928(runs) -> None:
    # 32.8% of gross industrial output in 1928.
    share = _record_mean(runs, 1928, "heavy_value") / _record_mean(runs, 1928, "industrial_output_value")
    assert 0.29 <= share <= 0.37


def test_famine_1921_22(runs) -> None:
    # About 5 million excess deaths (estimates up to 9 million).
    deaths = float(np.mean([s.loc[1921:1922, "famine_excess_deaths_m"].sum() for s, _, _ in runs]))
    assert 3.5 <= deaths <= 9.0
    assert _mean(runs, 1926, "famine_excess_deaths_m") == 0.0


def test_gdp_per_head_proxy(runs) -> None:
    # Maddison, 1913 = 100; a proxy from harvest, herds and industry over the mid-year population, +-20%.
    # 1918-20 and 1922-25 are outside (recovery too fast): see the known weaknesses.
    data = {1914: 95.5, 1916: 87.3, 1917: 76.7, 1921: 37.2, 1926: 88.5, 1927: 92.1, 1928: 96.9}
    for year, value in data.items():
        simulated = float(np.mean([g.loc[year] for _, _, g in runs]))
        assert 0.8 * value <= simulated <= 1.2 * value, (year, simulated, value)


def test_series_points_in_their_bands(runs) -> None:
    # Industry, harvest, herds, population 1913-1928: mean over seeds within the data's band (no widening);
    # the listed misses are the known weaknesses of docs/history.md.
    obs = observed()
    misses = []
    for _, row in obs.iterrows():
        value = _mean(runs, int(row["year"]), row["metric"])
        if not (row["low"] <= value <= row["high"]):
            misses.append((int(row["year"]), row["metric"]))
    known = {(1922, "cattle_m"), (1922, "pigs_m"), (1922, "sheep_goats_m")}
    # Four seeds leave one year's weather noisy (a harvest's sd is about 9%): at most one other point may miss.
    assert len(set(misses) - known) <= 1, misses
    assert len(misses) < len(obs) // 4, misses
