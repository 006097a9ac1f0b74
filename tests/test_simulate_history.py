"""The historical scenario against the calibration data (bands: the sources disagree), and the post-1928
record the mechanisms must produce without being fitted to it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from needplan.simulate import get_scenario, run_scenario
from needplan.simulate.calibration import observed

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return run_scenario(get_scenario("ussr-1913-1940"), seed=0, n_households=3000)[0].set_index("year")


def test_shipped_data_matches_shared_copy() -> None:
    source = SHARED / "data" / "history" / "grain_harvest.csv"
    if not source.exists():
        pytest.skip("shared data not present")
    shipped = Path(__file__).resolve().parents[1] / "src" / "needplan" / "simulate" / "data" / "grain_harvest.csv"
    assert shipped.read_text() == source.read_text()


def test_calibration_points_within_bands(history) -> None:
    misses = []
    obs = observed()
    for _, row in obs.iterrows():
        if row["year"] not in history.index:
            continue
        value = history.loc[row["year"], row["metric"]]
        # Widen the data's band by half again: one seed of a stochastic model around uncertain data.
        half = (row["high"] - row["low"]) / 2
        if not (row["low"] - half <= value <= row["high"] + half):
            misses.append((int(row["year"]), row["metric"], round(float(value), 1), row["value"]))
    assert len(misses) <= 3, misses


def test_state_grain_stocks_stay_a_reserve() -> None:
    _, records = run_scenario(get_scenario("ussr-1913-1940"), seed=0, n_households=1000)
    # Procured grain feeds the towns, the army, exports and the villages; the granary holds months, not years.
    assert max(r.values["state_stock_end_mt"] for r in records) < 10.0
    assert sum(r.values["grain_state_release_mt"] for r in records if r.year >= 1929) > 5.0


def test_after_1928_the_mechanisms_reproduce_the_broad_record(history) -> None:
    h = history
    # Herds collapse under forced collectivization (1929-33: cattle -42%, horses -49% in the record).
    assert h.loc[1933, "cattle_m"] < 0.75 * h.loc[1928, "cattle_m"]
    assert h.loc[1933, "horses_m"] < 0.75 * h.loc[1928, "horses_m"]
    # Procurement jumps while the harvest falls; famine deaths appear in 1930-33 and not in 1923-28.
    # (1928: 10.8 Mt with NEP purchases; 1930: about 22 Mt in the record.)
    assert h.loc[1930, "grain_procurement_mt"] > 1.5 * h.loc[1928, "grain_procurement_mt"]
    assert h.loc[1932, "grain_harvest_mt"] < h.loc[1928, "grain_harvest_mt"]
    assert h.loc[1930:1933, "famine_excess_deaths_m"].sum() > 1.0
    # (The 1924 drought, imposed, costs some 0.4 M in this seed: local hunger, not a famine; see the docs.)
    assert h.loc[1923:1928, "famine_excess_deaths_m"].sum() < 0.5
    # Not fitted, only bounded: the usual estimates for 1930-33 are 5.5-8.7 M plus the Kazakh famine.
    assert h.loc[1929:1936, "famine_excess_deaths_m"].sum() < 12.0
    # Industry grows (Western recalculations 2.5-3.7x for 1928-37; the model is at the low end or below).
    ratio = h.loc[1937, "industrial_output_index"] / h.loc[1928, "industrial_output_index"]
    assert 1.3 < ratio < 4.5
    # Quality lags quantity under tonnage targets.
    assert h.loc[1932, "industrial_quality_index"] < 0.9 * h.loc[1932, "industrial_output_index"]
    # Tractors replace horses only slowly: hundreds of thousands by 1937, not millions.
    assert 150 < h.loc[1937, "tractors_k"] < 1500
