"""The calibration data shipped with the package (copied from ``shared/data/history``, see ``data/SOURCES.md``)
in one tidy table: year, metric (a series column), value, low, high. Bands, not points: the sources disagree."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def _csv(name: str) -> pd.DataFrame:
    with resources.files("needplan.simulate").joinpath("data", name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)


def observed() -> pd.DataFrame:
    """Observed values with bands: columns year, metric, value, low, high.

    Herd counts of 1 January of year Y are compared with the simulated mid-year count of Y - 1 (the shift is
    applied here). Bands: industry +-30% (the 1920 trough is 14-20% of 1913 by coverage), harvest +-12%, herds
    +-15%, population +-4%.
    """
    rows: list[dict[str, float | str]] = []

    def add(year: int, metric: str, value: float, rel: float) -> None:
        rows.append({"year": year, "metric": metric, "value": value, "low": value * (1 - rel),
                     "high": value * (1 + rel)})

    for _, r in _csv("industry_index.csv").iterrows():
        add(int(r["year"]), "industrial_output_index", float(r["large_scale_industry_1913_100"]), 0.3)
    for _, r in _csv("grain_harvest.csv").iterrows():
        add(int(r["year"]), "grain_harvest_mt", float(r["grain_harvest_Mt"]), 0.12)
    for _, r in _csv("livestock_before_collectivization.csv").iterrows():
        for col, metric in (("cattle_M", "cattle_m"), ("pigs_M", "pigs_m"), ("sheep_and_goats_M", "sheep_goats_m"),
                            ("horses_M", "horses_m")):
            add(int(r["year"]) - 1, metric, float(r[col]), 0.15)
    for _, r in _csv("population.csv").iterrows():
        add(int(r["year"]), "population_m", float(r["population_thousand"]) / 1000, 0.04)
    return pd.DataFrame(rows)
