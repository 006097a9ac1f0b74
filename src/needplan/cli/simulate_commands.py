"""CLI commands of needplan.simulate: ``simulate``, ``compare``, ``scenarios``. Thin: parse, call, write."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from needplan.cli import Command, check_out, fail, flag, glyph_note, writing

if TYPE_CHECKING:
    import pandas as pd

    from needplan.simulate.model import YearRecord
    from needplan.simulate.scenarios import Scenario

Households = Annotated[int, typer.Option("--households", help="household agents (each stands for many real ones)")]
Overwrite = Annotated[bool, flag("--overwrite", "replace DIR if it exists (not an economy)")]


def run_scenario(scenario: Scenario, *, seed: int, n_households: int) -> tuple[pd.DataFrame, list[YearRecord]]:
    """:func:`needplan.simulate.run_scenario`, imported on the first call (``needplan --help`` loads no numpy); a
    name of this module, so that a test can replace it to see that a command refuses its ``--out`` first."""
    from needplan.simulate.run import run_scenario as run

    return run(scenario, seed=seed, n_households=n_households)


def run_ensemble(scenario: Scenario, *, seed: int, runs: int, n_households: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`needplan.simulate.run_ensemble`, imported on the first call, as :func:`run_scenario`."""
    from needplan.simulate.run import run_ensemble as run

    return run(scenario, seed=seed, runs=runs, n_households=n_households)


def _scenario(name: str) -> Scenario:
    from needplan.simulate.scenarios import get_scenario, load_scenario_file

    return load_scenario_file(name) if name.endswith(".toml") else get_scenario(name)


def _check_households(households: int) -> None:
    """Refuse ``--households`` out of range before simulating."""
    from needplan.simulate.model import MAX_HOUSEHOLDS, MIN_HOUSEHOLDS

    if not MIN_HOUSEHOLDS <= households <= MAX_HOUSEHOLDS:
        fail(f"--households must be {MIN_HOUSEHOLDS} to {MAX_HOUSEHOLDS:,}, got {households}")


SUMMARY_YEARS = (1913, 1920, 1921, 1926, 1928, 1930, 1932, 1933, 1937, 1940)
"""The years summary.md shows where a scenario runs through them (the turning points of the historical record)."""


def _summary(scenario: Scenario, series: pd.DataFrame, seed: int, runs: int, households: int,
             stacked: pd.DataFrame | None = None) -> str:
    """summary.md: the schedule, a table of key years and the famine's toll; with ``stacked`` (every run), the toll
    is the median of the runs' totals with its 10-90% band (the sum of the yearly medians is no run's total)."""
    import numpy as np

    simulated = list(series["year"])
    years = [y for y in SUMMARY_YEARS if y in set(simulated)]
    if len(years) < 2:  # a span away from the historical years: its first year, every tenth, and its last
        years = sorted({*simulated[::10], simulated[-1]})
    elif simulated[-1] > years[-1]:  # a span beyond 1940: every tenth year after it, and the last
        years += sorted({*simulated[simulated.index(years[-1]) + 10::10], simulated[-1]})
    table = series[series["year"].isin(years)].set_index("year")
    cols = ["industrial_output_index", "industrial_quality_index", "grain_harvest_mt", "grain_procurement_mt",
            "cattle_m", "horses_m", "famine_excess_deaths_m", "real_wage_index", "conflict_index"]
    lines = [f"# {scenario.name}", "", scenario.description, "",
             f"seed {seed}, runs {runs}, {households} household agents" + (" (medians)" if runs > 1 else ""), "",
             "Schedule: " + ", ".join(f"{y} {r}" for y, r in scenario.schedule), "",
             "| year | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for year, row in table.iterrows():
        lines.append(f"| {year} | " + " | ".join(f"{row[c]:.3g}" for c in cols) + " |")
    if stacked is None:
        toll = f"{float(series['famine_excess_deaths_m'].sum()):.1f} million"
    else:
        totals = stacked.groupby("run")["famine_excess_deaths_m"].sum().to_numpy(dtype=float)
        p10, med, p90 = np.quantile(totals, [0.1, 0.5, 0.9])
        toll = f"{med:.1f} million (median of the {runs} runs' totals; 10-90% band {p10:.1f} to {p90:.1f})"
    lines += ["", f"Famine excess deaths over the whole span: {toll}.", "",
              "Full series: `series.csv` (and `series.parquet`); figures: `*.png`."]
    return "\n".join(lines) + "\n"


def simulate_cmd(
    scenario: Annotated[str, typer.Option("--scenario", help="a built-in scenario or a scenario .toml file")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="random seed (0 or more)")] = 0,
    runs: Annotated[int, typer.Option("--runs", min=1, max=10_000, help="runs with seeds seed, seed+1, ...")] = 1,
    households: Households = 100_000,
    overwrite: Overwrite = False,
) -> None:
    """Simulate a scenario: DIR/series.csv and .parquet, summary.md and one PNG per theme; with --runs N,
    series.csv holds the per-year median, runs.csv every run and bands.csv the median and 10-90% band."""
    from needplan.economy.io import atomic_folder
    from needplan.simulate import plots
    from needplan.simulate.calibration import observed
    from needplan.simulate.run import SERIES_COLUMNS, median_series
    from needplan.simulate.scenarios import SCENARIOS

    _check_households(households)
    check_out(out, *([scenario] if scenario.endswith(".toml") else []), overwrite=overwrite)
    sc = _scenario(scenario)
    band = None
    if runs > 1:
        stacked, band = run_ensemble(sc, seed=seed, runs=runs, n_households=households)
        series = median_series(stacked)
    else:
        series, _ = run_scenario(sc, seed=seed, n_households=households)
    with writing(out), atomic_folder(out, overwrite=overwrite) as tmp:
        if runs > 1:
            # series.csv keeps exactly the published columns (the per-year median); every run and the
            # 10-90% band go beside it.
            stacked[["run", *SERIES_COLUMNS]].to_csv(tmp / "runs.csv", index=False)
            stacked[["run", *SERIES_COLUMNS]].to_parquet(tmp / "runs.parquet", index=False)
            assert band is not None
            band.to_csv(tmp / "bands.csv", index=False)
        series.to_csv(tmp / "series.csv", index=False)
        series.to_parquet(tmp / "series.parquet", index=False)
        (tmp / "summary.md").write_text(_summary(sc, series, seed, runs, households, stacked if runs > 1 else None),
                                        encoding="utf-8")
        obs = observed() if sc.name in SCENARIOS else None
        with glyph_note():
            for theme in plots.THEMES:
                plots.plot_theme({sc.name: series}, theme, tmp / f"{theme}.png", band=band, observed=obs)
    typer.echo(f"wrote {out}")


LAST_YEARS = 5
"""compare.md's ``*_last5`` columns average each scenario's last this many simulated years: one year's harvest
moves the towns' grain and with it industry and the real wage (fuzzing: a scenario's 1940 alone fell from 254 to
187, reversing the ranking of the last year)."""


def _compare_md(table: pd.DataFrame, famine: dict[str, float] | None = None, runs: int = 1) -> str:
    """The table of compare.md, one row per scenario from compare.csv's rows, in the order given: its span
    (``first_year``, ``last_year``), the mean of its last :data:`LAST_YEARS` simulated years' indices
    (``*_last5``; of all its years where it runs fewer), and the sum, minimum or maximum over its span;
    scenarios of different spans are compared at different years, which the span columns show."""
    tail = table.groupby("scenario", sort=False).tail(LAST_YEARS)
    last = table.groupby("scenario", sort=False).agg(
        first_year=("year", "first"),
        last_year=("year", "last"),
        famine_deaths_m=("famine_excess_deaths_m", "sum"),
        cattle_min_m=("cattle_m", "min"),
        conflict_max=("conflict_index", "max"),
    ).join(tail.groupby("scenario", sort=False).agg(
        industrial_output_last5=("industrial_output_index", "mean"),
        quality_last5=("industrial_quality_index", "mean"),
        real_wage_last5=("real_wage_index", "mean"),
    ))
    last = last[["first_year", "last_year", "industrial_output_last5", "quality_last5", "famine_deaths_m",
                 "cattle_min_m", "real_wage_last5", "conflict_max"]]
    if famine is not None:  # with runs: each scenario's median run total, not the sum of the yearly medians
        last["famine_deaths_m"] = [famine[str(name)] for name in last.index]
    years = ("first_year", "last_year")
    lines = ["| scenario | " + " | ".join(last.columns) + " |", "|---" * (len(last.columns) + 1) + "|"]
    for name, row in last.iterrows():
        cells = [f"{int(row[c])}" if c in years else f"{row[c]:.3g}" for c in last.columns]
        lines.append(f"| {str(name).replace('|', chr(92) + '|')} | " + " | ".join(cells) + " |")  # a | in a name
    of = f"the median of {runs} runs (seeds seed to seed + {runs - 1}) per year; " if runs > 1 else ""
    lines += ["", f"Columns: {of}`*_last5` the mean of the last {LAST_YEARS} simulated years (all, where fewer), 1913 "
              "= 100; `famine_deaths_m` the excess deaths over the whole span, million"
              + (" (the median of the runs' totals)" if runs > 1 else "")
              + "; `cattle_min_m` the lowest mid-year count, million; `conflict_max` the highest conflict index."]
    return "\n".join(lines) + "\n"


def compare_cmd(
    scenarios: Annotated[list[str], typer.Argument(help="scenario names or .toml files")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="random seed (0 or more)")] = 0,
    runs: Annotated[int, typer.Option("--runs", min=1, max=10_000, help=(
        "runs of each scenario with seeds seed, seed+1, ...: compare.csv holds the per-year medians"))] = 1,
    households: Households = 100_000,
    overwrite: Overwrite = False,
) -> None:
    """Scenarios side by side: one figure per theme and a table (compare.csv, compare.md). One seed's famine can be
    a third of another's: --runs compares medians."""
    import numpy as np
    import pandas as pd

    from needplan.economy.io import atomic_folder
    from needplan.simulate import plots
    from needplan.simulate.run import SERIES_COLUMNS, median_series

    _check_households(households)
    check_out(out, *[name for name in scenarios if name.endswith(".toml")], overwrite=overwrite)
    chosen = [_scenario(name) for name in scenarios]
    names = [sc.name for sc in chosen]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        fail(f"scenario {', '.join(twice)} given twice (or two .toml files give that name = ...): each scenario "
             "once")
    frames = {}
    famine: dict[str, float] | None = {} if runs > 1 else None
    for sc in chosen:
        if famine is not None:
            stacked, _ = run_ensemble(sc, seed=seed, runs=runs, n_households=households)
            frames[sc.name] = median_series(stacked)
            famine[sc.name] = float(np.median(stacked.groupby("run")["famine_excess_deaths_m"].sum()))
        else:
            frames[sc.name], _ = run_scenario(sc, seed=seed, n_households=households)
    table = pd.concat([f.assign(scenario=n) for n, f in frames.items()], ignore_index=True)
    table = table[["scenario", *SERIES_COLUMNS]]
    with writing(out), atomic_folder(out, overwrite=overwrite) as tmp:
        table.to_csv(tmp / "compare.csv", index=False)
        (tmp / "compare.md").write_text(_compare_md(table, famine, runs), encoding="utf-8")
        with glyph_note():
            for theme in plots.THEMES:
                plots.plot_theme(frames, theme, tmp / f"{theme}.png")
    typer.echo(f"wrote {out}")


def scenarios_cmd() -> None:
    """List the built-in scenarios and regimes, one line each."""
    from needplan.simulate.regimes import BUILTIN_REGIMES
    from needplan.simulate.scenarios import SCENARIOS

    for name, sc in SCENARIOS.items():
        typer.echo(f"scenario  {name:30s} {sc.description}")
    for name, regime in BUILTIN_REGIMES.items():
        typer.echo(f"regime    {name:30s} {regime.description}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("simulate", cls=Command)(simulate_cmd)
    app.command("compare", cls=Command)(compare_cmd)
    app.command("scenarios", cls=Command)(scenarios_cmd)
