"""Plans over the years of a supply-use table: one flat record per year, where labour and resources go per
product, and the plot of the series. Shared by the CLI (``needplan sut-series``) and the Python API.

It reads plan results and draws; it solves nothing (the caller plans each year).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from needplan.economy.model import Economy
from needplan.plan import PlanResult


def series_row(year: int, economy: Economy, result: PlanResult) -> dict[str, Any]:
    """One year of a series as a flat record (monetary amounts in the table's currency, million, per year).

    ``objective_name`` and ``objective``; ``fulfilment`` (ray: the uniform expansion factor of the needs;
    otherwise the least fulfilled need's net output over target; empty when there is no plan, with the reason in
    ``explanation``), ``median_fulfilment`` (the median need's) and ``quantity_index`` (the need-weighted mean),
    ``binding`` (the binding constraints, ';'-joined, strongest first), ``products`` (how many the table lists: a
    change from one year to the next is a change of classification), ``needs_total`` (sum of need targets),
    ``gross_output_total`` (sum over products of the plan's output), and for every labour or resource good
    ``<good>_used``, ``<good>_available`` and ``<good>_shadow_price`` (objective per unit more).
    """
    row: dict[str, Any] = {"year": year, "economy": economy.name, "status": result.status,
                           "objective_name": result.objective_name, "objective": result.objective,
                           "fulfilment": result.fulfilment,
                           "median_fulfilment": result.median_fulfilment,
                           "quantity_index": result.indices.get("quantity") if result.has_plan else None,
                           "binding": ";".join(map(str, result.bottlenecks["constraint"])),
                           "products": int(economy.products.size), "needs_total": float(economy.target.sum())}
    if result.has_plan:
        row["gross_output_total"] = float(result.products["made"].sum())
        row["explanation"] = str(result.bottlenecks["explanation"].iloc[0]) if len(result.bottlenecks) else ""
        for good, r in result.primaries.iterrows():
            row.update({f"{good}_used": float(r["used"]), f"{good}_available": float(r["available"]),
                        f"{good}_shadow_price": float(r["shadow_price"])})
    else:
        row.update({"gross_output_total": None, "explanation": result.explanation})
    return row


def primary_breakdown(year: int, economy: Economy, result: PlanResult) -> pd.DataFrame:
    """Where each labour or resource good goes, per product: tidy rows (year, good, product, ...).

    ``direct`` = the use of the good in the plan by the techniques that make the product as their main product
    (its industry's own emissions or labour, in the good's unit per year; they add up to the plan's use) and
    ``direct_share`` its share of the plan's total; ``intensity`` = the good embodied per unit of the product by
    each product's first technique (direct and indirect, Leontief, good per million), ``in_needs`` =
    intensity x need target, and ``need_share`` its share of the total embodied in the needs. Under the ray
    objective with one technique per product, ``need_share`` is each need's weight in the binding constraint:
    the good's shadow price is 1 / (total embodied in the needs). A share is empty (NaN) where its total is 0: a
    good the plan does not use, or that the needs do not embody, has no shares. Empty when there is no plan.
    """
    columns = ["year", "good", "product", "name", "direct", "direct_share", "intensity", "in_needs", "need_share"]
    if not result.has_plan or not len(economy.primaries):
        return pd.DataFrame(columns=columns)
    from needplan.analysis import analyze

    tech = economy.technology()
    products = economy.goods[tech.products]
    # Every technique the plan runs counts toward its main product, not only the product's first: with alternatives
    # the column summed below the plan's own use (a helper's fuzzing: 6,775 of the demo's 6,878 unskilled hours).
    activity = result.activity["activity"].reindex(economy.techniques).to_numpy(dtype=np.float64)
    uses = economy.use[tech.primaries] @ sp.diags(activity)  # primaries x techniques, in the goods' units
    position = np.full(economy.n_goods, -1, dtype=np.int64)
    position[tech.products] = np.arange(tech.products.size)
    to_product = sp.csr_matrix((np.ones(economy.n_techniques), (np.arange(economy.n_techniques),
                                                                position[economy.technique_good])),
                               shape=(economy.n_techniques, tech.products.size))
    direct = np.asarray((uses @ to_product).toarray())
    embodied = analyze(economy, allow_negative=True).embodied  # the needs' gross output is not used
    target = economy.target[tech.products]
    frames = []
    for k, good in enumerate(economy.goods[tech.primaries]):
        intensity = embodied[good].to_numpy()
        in_needs = intensity * target
        with np.errstate(invalid="ignore", divide="ignore"):
            frames.append(pd.DataFrame({
                "year": year, "good": good, "product": products, "name": economy.good_name[tech.products],
                "direct": direct[k], "direct_share": direct[k] / direct[k].sum(), "intensity": intensity,
                "in_needs": in_needs, "need_share": in_needs / in_needs.sum()}))
    return pd.concat(frames, ignore_index=True)[columns]


def plot_series(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Fulfilment per year (top: ray's; under the other objectives the median need's and the need-weighted index)
    and the share of each labour or resource good used by the plan (bottom)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: the CLI must work without a display
    import matplotlib.pyplot as plt

    # Names as written: "$" pairs in a folder's name ("tab$_a_$") were read as mathtext, mangled or a traceback.
    with plt.rc_context({"text.parse_math": False}):
        _draw_series(plt, frame, path, title)


def _draw_series(plt: Any, frame: pd.DataFrame, path: Path, title: str) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True, constrained_layout=True)
    years = frame["year"].to_numpy()
    # Ray expands every need alike: its fulfilment says it all. Under harmony or min-labour the needs differ, and
    # the least fulfilled one (often 0 under harmony) says little: the median need and the weighted index instead.
    ray = "objective_name" not in frame or bool((frame["objective_name"] == "ray").all())
    lines = ({"fulfilment": "fulfilment"} if ray else
             {"median_fulfilment": "median need", "quantity_index": "need-weighted index"})
    values = [pd.to_numeric(frame[col], errors="coerce") for col in lines]
    for label, v in zip(lines.values(), values, strict=True):
        top.plot(years, v, marker="o", label=label)
    # Differences of 1e-5 (needs clipped at 0 in one year) must not look like a collapse: span at least +-5%.
    top.ticklabel_format(axis="y", useOffset=False)
    shown = pd.concat(values)
    if shown.notna().any():
        lo, hi, mid = shown.min(), shown.max(), shown.mean()
        if hi - lo < 0.1 * abs(mid):
            top.set_ylim(mid - 0.05 * abs(mid) - (hi - lo), mid + 0.05 * abs(mid) + (hi - lo))
    # A year without a plan (infeasible, or stopped without one) is a shaded gap that says so, not an empty one.
    for year in years[~np.logical_or.reduce([v.notna().to_numpy() for v in values])]:
        for ax in (top, bottom):
            ax.axvspan(year - 0.4, year + 0.4, color="0.9", zorder=0)
        top.text(year, 0.5, "no plan", transform=top.get_xaxis_transform(), ha="center", va="center",
                 rotation=90, color="0.4", fontsize=8)
    top.set_ylabel("fulfilment (x needs)" if ray else "net output / target")
    if not ray:
        top.legend()
    top.set_title(title)
    top.grid(alpha=0.3)
    for col in frame.columns:
        if col.endswith("_used"):
            good = col.removesuffix("_used")
            share = pd.to_numeric(frame[col], errors="coerce") / pd.to_numeric(frame[f"{good}_available"],
                                                                               errors="coerce")
            bottom.plot(years, share, marker="o", label=good)
    # A fixed scale: a binding good sits on 1 (rounding at 1e-13 would otherwise fill the axis).
    bottom.set_ylim(0.0, 1.1)
    bottom.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    bottom.set_ylabel("used / available (1 = binds)")
    bottom.set_xlabel("year")
    bottom.set_xticks(years)
    bottom.set_xlim(years.min() - 0.5, years.max() + 0.5)  # (a year without a plan narrowed the axis to the others)
    bottom.grid(alpha=0.3)
    if bottom.get_legend_handles_labels()[0]:
        bottom.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)
