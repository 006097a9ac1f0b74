"""Run scenarios and turn yearly records into the published series (one row per year, or per year and run).

Indices are relative to the scenario's first year (1913 = 100 in the built-in scenarios).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from needplan.simulate.model import BASE_OUTPUT_SHARE, Model, Params, YearRecord
from needplan.simulate.regimes import SimulateError, is_whole
from needplan.simulate.scenarios import Scenario

SERIES_COLUMNS = (
    "year", "regime", "industrial_output_index", "industrial_quality_index", "heavy_industry_index",
    "consumer_goods_index", "grain_harvest_mt", "grain_procurement_mt", "grain_exports_mt", "cattle_m", "pigs_m",
    "sheep_goats_m", "horses_m", "tractors_k", "population_m", "famine_excess_deaths_m", "real_wage_index",
    "shortage_index", "conflict_index", "bureaucracy_share", "skilled_share",
)
"""The columns of ``series.csv``, in order (the issue's contract)."""

NUMERIC_COLUMNS = SERIES_COLUMNS[2:]


def series_from_records(records: list[YearRecord]) -> pd.DataFrame:
    """The published series from a run's yearly records: exactly :data:`SERIES_COLUMNS`, one row per year.

    ``grain_procurement_mt`` is everything the state obtained from the farms: its compulsory claims (taxes in kind,
    quotas, requisition) plus the grain its agencies bought (NEP's purchases at market prices); private trade is
    not in it. ``population_m`` is the mid-year population, like the herds.
    """
    if not records:
        raise ValueError("no records: the scenario has no years")
    base = records[0].values
    _check_base(records[0])
    rows = []
    for rec in records:
        v = rec.values
        rows.append({
            "year": rec.year,
            "regime": rec.regime,
            "industrial_output_index": 100 * v["industrial_output_value"] / base["industrial_output_value"],
            "industrial_quality_index": 100 * v["industrial_quality_value"] / base["industrial_quality_value"],
            "heavy_industry_index": 100 * v["heavy_value"] / base["heavy_value"],
            "consumer_goods_index": 100 * v["consumer_value"] / base["consumer_value"],
            "grain_harvest_mt": v["grain_harvest_mt"],
            "grain_procurement_mt": v["grain_procurement_mt"],
            "grain_exports_mt": v["grain_exports_mt"],
            "cattle_m": v["cattle_m"],
            "pigs_m": v["pigs_m"],
            "sheep_goats_m": v["sheep_goats_m"],
            "horses_m": v["horses_m"],
            "tractors_k": v["tractors_k"],
            "population_m": v["population_m"],
            "famine_excess_deaths_m": v["famine_excess_deaths_m"],
            "real_wage_index": 100 * v["real_wage_index"] / base["real_wage_index"],
            "shortage_index": v["shortage_index"],
            "conflict_index": v["conflict_index"],
            "bureaucracy_share": v["bureaucracy_share"],
            "skilled_share": v["skilled_share"],
        })
    frame = pd.DataFrame(rows, columns=list(SERIES_COLUMNS))
    frame["year"] = frame["year"].astype("int64")
    return frame


def _check_base(first: YearRecord) -> None:
    """Refuse a first year that is no base for the indices: industry (nearly) at a standstill, or towns with no
    food or no goods, so that every later year's index is divided by about 0 (a helper's fuzzing: an export quota
    of 10 Mt in 1913 left the towns no grain, industry ran at 1e-12 of its capacity, and the industrial index read
    1.6e14 in 1914, exit 0; all consumer goods to the villages in 1913 made the real wage 265,000 by 1940)."""
    v = first.values
    share = v["industrial_output_value"] / max(v["industrial_capacity_value"], 1e-300)
    why = ""
    if not share >= BASE_OUTPUT_SHARE:
        why = (f"industry runs at {share:.2g} of its capacity (the towns get "
               f"{v['grain_urban_consumption_mt']:.3g} Mt of grain)")
    elif v["real_wage_floored"]:
        why = "the towns get no food or no consumer goods, and the real wage has no base"
    if why:
        raise SimulateError(f"the first year, {first.year}, is no base for the indices (first year = 100): {why}; "
                            "start the scenario with a regime that feeds the towns and sends them goods")


GDP_WEIGHTS = {"grain": 0.35, "livestock": 0.2, "industry": 0.45}
"""Weights of the 1913 net product in the GDP-per-head proxy: agriculture about 55% (grain and livestock),
industry with the transport, trade and services that move its goods the rest (Gregory's 1913 national income)."""


def gdp_per_head_index(records: list[YearRecord]) -> pd.Series:
    """A GDP-per-head proxy by year, first year = 100: the grain harvest, the herds (head weighted by meat per
    head) and industrial output, each relative to the first year, weighted by :data:`GDP_WEIGHTS`, over the
    mid-year population. Compared with Maddison's GDP per head (1913 = 100) in the calibration test."""
    if not records:
        raise ValueError("no records: the scenario has no years")
    meat = np.array(Params().calibration.meat_t_per_head)

    def parts(v: dict[str, float]) -> tuple[float, float, float]:
        herd = float(np.dot(meat, [v["cattle_m"], v["pigs_m"], v["sheep_goats_m"], v["horses_m"]]))
        return v["grain_harvest_mt"], herd, v["industrial_output_value"]

    base = parts(records[0].values)
    w = (GDP_WEIGHTS["grain"], GDP_WEIGHTS["livestock"], GDP_WEIGHTS["industry"])
    out = {}
    for rec in records:
        now = parts(rec.values)
        product = sum(wi * n / b for wi, n, b in zip(w, now, base, strict=True))
        out[rec.year] = 100 * product * records[0].values["population_m"] / rec.values["population_m"]
    return pd.Series(out, name="gdp_per_head_index")


def run_scenario(scenario: Scenario, *, seed: int = 0, n_households: int = 100_000, params: Params | None = None,
                 check: bool = True) -> tuple[pd.DataFrame, list[YearRecord]]:
    """Run one scenario: returns (series with :data:`SERIES_COLUMNS`, the full yearly records)."""
    model = Model(scenario, seed=seed, n_households=n_households, params=params, check=check)
    records = model.run()
    try:
        return series_from_records(records), records
    except SimulateError as err:
        raise SimulateError(f"scenario {scenario.name}: {err}") from None


def run_ensemble(scenario: Scenario, *, seed: int = 0, runs: int = 10, n_households: int = 100_000,
                 params: Params | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``runs`` seeds (``seed``, ``seed + 1``, ...). Returns (all runs stacked with a ``run`` column, and a
    band table: per year and column the median, 10% and 90% quantiles, in long form)."""
    if not is_whole(runs) or runs < 1:
        raise SimulateError(f"runs must be a whole number of 1 or more, got {runs!r}")
    frames = []
    for r in range(runs):
        series, _ = run_scenario(scenario, seed=seed + r, n_households=n_households, params=params)
        series.insert(0, "run", r)
        frames.append(series)
    stacked = pd.concat(frames, ignore_index=True)
    return stacked, bands(stacked)


def bands(stacked: pd.DataFrame) -> pd.DataFrame:
    """Median and the 10–90% band per year for every numeric column: columns year, regime, metric, p10, median,
    p90 (regime is the one of the first run)."""
    out = []
    regimes = stacked[stacked["run"] == stacked["run"].min()].set_index("year")["regime"]
    for year, group in stacked.groupby("year", sort=True):
        for col in NUMERIC_COLUMNS:
            values = group[col].to_numpy(dtype=float)
            p10, med, p90 = np.quantile(values, [0.1, 0.5, 0.9])
            out.append({"year": int(year), "regime": regimes.loc[year], "metric": col, "p10": p10, "median": med,
                        "p90": p90})
    return pd.DataFrame(out)


def median_series(stacked: pd.DataFrame) -> pd.DataFrame:
    """The per-year median of every numeric column, in the :data:`SERIES_COLUMNS` layout."""
    regimes = stacked[stacked["run"] == stacked["run"].min()].set_index("year")["regime"]
    med = stacked.groupby("year", sort=True)[list(NUMERIC_COLUMNS)].median().reset_index()
    med.insert(1, "regime", med["year"].map(regimes))
    return med[list(SERIES_COLUMNS)]
