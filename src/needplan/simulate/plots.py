"""Figures of simulated series (matplotlib, Agg backend): one PNG per theme, optionally with a 10–90% band and the
calibration data. Must not run simulations."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from needplan.data.names import FIGURE_THEMES

THEMES: dict[str, tuple[str, ...]] = {
    "quantity_vs_quality": ("industrial_output_index", "industrial_quality_index", "heavy_industry_index",
                            "consumer_goods_index"),
    "herds": ("cattle_m", "pigs_m", "sheep_goats_m", "horses_m"),
    "grain_vs_procurement": ("grain_harvest_mt", "grain_procurement_mt", "grain_exports_mt"),
    "wages_and_famine": ("real_wage_index", "famine_excess_deaths_m", "population_m"),
    "bureaucracy_and_conflict": ("bureaucracy_share", "conflict_index", "shortage_index", "skilled_share"),
}

TITLES: dict[str, str] = {
    "industrial_output_index": "industrial output, quantity (first year = 100)",
    "industrial_quality_index": "industrial output, quality-adjusted (first year = 100)",
    "heavy_industry_index": "heavy industry (first year = 100)",
    "consumer_goods_index": "consumer goods (first year = 100)",
    "cattle_m": "cattle, million head (mid-year)",
    "pigs_m": "pigs, million head (mid-year)",
    "sheep_goats_m": "sheep and goats, million head (mid-year)",
    "horses_m": "horses, million head (mid-year)",
    "grain_harvest_mt": "grain harvest, million tonnes",
    "grain_procurement_mt": "grain procurement, million tonnes",
    "grain_exports_mt": "grain exports, million tonnes",
    "real_wage_index": "urban real wage (first year = 100)",
    "famine_excess_deaths_m": "famine excess deaths, million a year",
    "population_m": "population, million (mid-year)",
    "bureaucracy_share": "administration, share of the labour force",
    "conflict_index": "conflict (0 = none)",
    "shortage_index": "shortage (0 = none)",
    "skilled_share": "skilled share of industrial workers",
}
"""Each panel's title: what the metric is and its unit (the series' column names, ``cattle_m``, meant nothing to a
class: fuzzing)."""
assert {m for ms in THEMES.values() for m in ms} <= set(TITLES)
assert tuple(THEMES) == FIGURE_THEMES  # (the names --overwrite may replace: needplan.economy.io.output_names)


def plot_theme(series: dict[str, pd.DataFrame], theme: str, path: Path, band: pd.DataFrame | None = None,
               observed: pd.DataFrame | None = None) -> Path:
    """One figure for ``theme``: a panel per metric, a line per scenario (``series`` maps a label to a frame in
    the series layout). ``band`` (long form: year, metric, p10, p90) shades the 10–90% band of the first
    scenario; ``observed`` (year, metric, value) marks calibration points. Returns ``path``."""
    with plt.rc_context({"text.parse_math": False}):  # names as written: "cost in $, % and $^" was mathtext
        return _draw_theme(series, theme, path, band, observed)


LEGEND_CHARS = 40
"""The longest scenario name a legend shows whole; a longer one keeps its start and end (a helper's audit: a name of
400 characters left no room for the panels, and matplotlib warned five times on standard error)."""


def _legend_label(label: str) -> str:
    if len(label) <= LEGEND_CHARS:
        return label
    return label[:LEGEND_CHARS - 15] + "…" + label[-14:]


def _draw_theme(series: dict[str, pd.DataFrame], theme: str, path: Path, band: pd.DataFrame | None,
                observed: pd.DataFrame | None) -> Path:
    metrics = THEMES[theme]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for label, frame in series.items():
            ax.plot(frame["year"], frame[metric], label=_legend_label(label), linewidth=1.6)
        if band is not None:
            b = band[band["metric"] == metric]
            ax.fill_between(b["year"], b["p10"], b["p90"], alpha=0.25, label="10–90%")
        if observed is not None:
            o = observed[observed["metric"] == metric]
            if len(o):
                ax.scatter(o["year"], o["value"], color="black", marker="x", zorder=5, label="data")
        ax.set_title(TITLES[metric], fontsize=9)
        ax.set_xlabel("year", fontsize=8)
        ax.grid(alpha=0.3)
        for year in (1918, 1921, 1929, 1933):
            ax.axvline(year, color="grey", linewidth=0.5, linestyle=":")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
