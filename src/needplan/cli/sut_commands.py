"""CLI commands ``import-sut`` (a national supply-use table to an economy folder, with its import report) and
``sut-series`` (plan every year of a table and write the series as a table and a plot, via
:mod:`needplan.report.series`)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from needplan.cli import Command, check_out, flag, glyph_note, one_of, writing
from needplan.data.names import ASSUMPTIONS, FORMATS, LABOUR_MEASURES, NEED_WEIGHTS, OBJECTIVES, SOLVERS
from needplan.errors import Problem

if TYPE_CHECKING:
    import pandas as pd

    from needplan.data.sut import ImportReport

SERIES_FORMATS = (*FORMATS, "economy")
WeightsOption = Annotated[str, typer.Option(metavar=one_of(NEED_WEIGHTS), help=(
    "need weights for the harmony objective: value (in proportion to each target, mean 1) or equal (1 each)"))]
HeadroomOption = Annotated[float | None, typer.Option(
    help="cap each product's technique at (1 + H) times the table's output, e.g. 0.1; default unlimited")]


def print_report(report: ImportReport, console: Console, *, rows: int = 10) -> None:
    """The import report as readable tables: totals, items set aside, balance, labour, the identity check."""
    from needplan.data.sut import WEIGHTS_DEFINITION

    # Names from the table (products, industries, categories, units) go in as Text: taken as written, never as
    # markup or emoji codes.
    u = report.unit
    console.print(Text.assemble((str(report.source), "bold"), f" ({report.fmt}"
                                f"{f', {report.year}' if report.year else ''}), {report.assumption}-technology "
                                "assumption"))
    console.print(Text(f"  {report.construction}"))
    for title, items in ((f"totals of the table ({u})", report.totals),
                         (f"set aside: not domestic output at basic prices ({u})", report.set_aside)):
        t = Table(title=Text(title, style="table.title"))
        t.add_column("item")
        t.add_column("amount", justify="right")
        for k, v in items.items():
            t.add_row(Text(str(k)), f"{v:,.1f}")
        console.print(t)
    bal = report.balance.assign(absrel=report.balance["relative"].abs()).sort_values("absrel", ascending=False)
    t = Table(title=f"balance per product (largest {rows} of {len(bal)} relative discrepancies; use rows are scaled "
                    "to supply)")
    for col in ("product", "supply", "intermediate", "final", "discrepancy", "relative"):
        t.add_column(col, justify="left" if col == "product" else "right")
    for product, r in bal.head(rows).iterrows():
        t.add_row(Text(str(product)), f"{r['supply']:,.1f}", f"{r['intermediate']:,.1f}", f"{r['final']:,.1f}",
                  f"{r['discrepancy']:+,.3g}", f"{r['relative']:+.1e}")
    console.print(t)
    console.print(Text("final use of domestic output by category: " + ", ".join(
        f"{k} {v:,.0f}" for k, v in report.final_use_by_category.items())))
    console.print(Text(f"needs = {' + '.join(report.needs_categories)}"
                       + (f"; set to 0 where negative: {', '.join(report.needs_clipped)}" if report.needs_clipped
                          else "")
                       + f"; weights: {WEIGHTS_DEFINITION[report.needs_weights]}"))
    console.print("capacity: none, every technique unlimited" if report.capacity_headroom is None else
                  f"capacity: each technique at most {1 + report.capacity_headroom:g} times the table's output")
    if report.labour_measure:
        console.print(Text(f"labour: {report.labour_measure}, total {report.labour_total:,.0f} {report.labour_unit}; "
                           + (f"industries with no figure: {', '.join(report.industries_without_labour)}"
                              if report.industries_without_labour else "every industry has a figure")))
    else:
        console.print("labour: the table has none")
    for k, v in report.emissions_total.items():
        console.print(Text(f"emissions: {k} {v:,.1f}"))
    if report.dropped_products:
        console.print(Text(f"products without domestic output, left out: {', '.join(report.dropped_products)}"))
    if report.dropped_industries:
        console.print(Text(f"industries without output, left out: {', '.join(report.dropped_industries)}"))
    console.print(Text(f"negative coefficients: {report.negative_coefficients} ({report.negative_handling})"))
    for note in report.notes:
        console.print(Text(f"note: {note}"))
    lab = "" if report.identity_labour is None else f", labour {report.identity_labour:.1e}"
    console.print(f"[green]identity check passed[/green]: largest relative error of gross output "
                  f"{report.identity_output:.1e}{lab} (limit 1e-06)")


def import_sut_cmd(
    src: Annotated[Path, typer.Argument(help="the table: an .xlsx workbook (ine, scb) or a folder (csv)")],
    out: Annotated[Path, typer.Argument(help="economy folder to write")],
    fmt: Annotated[str | None, typer.Option("--format", metavar=one_of(FORMATS), help="default: told from "
                                                             "the source (a folder: csv; a workbook: by its sheets)")
                   ] = None,
    year: Annotated[int | None, typer.Option(help="year: the sheet of an scb workbook; for ine, checked against "
                                                  "the year the workbook states; for csv, recorded")] = None,
    assumption: Annotated[str, typer.Option(metavar=one_of(ASSUMPTIONS),
                                            help="industry or product technology")] = "industry",
    labour: Annotated[str | None, typer.Option(metavar=one_of(LABOUR_MEASURES), help="default: the "
                                                     "first of fte, hours, persons, jobs, compensation the table "
                                                     "has")] = None,
    needs: Annotated[str | None, typer.Option(help="final-use categories for needs.csv, comma-separated "
                                                    "(e.g. household); default all")] = None,
    resource_scale: Annotated[list[str] | None, typer.Option(
        help="GOOD=FACTOR: multiply the availability of a labour or resource good, e.g. CO2=0.7 for a cap 30% "
             "below the table's emissions (repeatable; recorded in economy.toml)")] = None,
    weights: WeightsOption = "value",
    capacity_headroom: HeadroomOption = None,
    overwrite: Annotated[bool, flag("--overwrite", "replace OUT if it exists")] = False,
) -> None:
    """Import a national supply-use table as an economy folder and print what the import did."""
    from needplan.data.sut import detect_format, import_sut, parse_resource_scale, write_import

    fmt = fmt if fmt is not None else detect_format(src)
    _check_choice("--format", fmt, FORMATS)
    _check_choice("--assumption", assumption, ASSUMPTIONS)
    _check_choice("--weights", weights, NEED_WEIGHTS)
    _check_headroom(capacity_headroom)
    scales = parse_resource_scale(resource_scale or [])
    check_out(out, src, overwrite=overwrite, economy=True)
    with Console(stderr=True).status(Text(f"importing {src}"), spinner="dots"):  # the path as written
        economy, report = import_sut(src, fmt, year=year, assumption=assumption,  # type: ignore[arg-type]
                                     labour=labour, needs=needs, resource_scale=scales,
                                     weights=weights, capacity_headroom=capacity_headroom)  # type: ignore[arg-type]
        with writing(out):
            write_import(economy, out, overwrite=overwrite)
    console = Console()
    print_report(report, console)
    for line in economy.provenance.get("resource_scale", []):
        console.print(Text(f"resource scaled: {line}"))
    console.print(Text(f"wrote {out}: {economy!r}"))


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    from needplan.data.sut import SutError

    if value not in choices:
        raise SutError(Problem(option, f"must be one of {', '.join(choices)}, got {value!r}"))


def _check_headroom(headroom: float | None) -> None:
    from needplan.data.sut import SutError, headroom_problem

    if (why := headroom_problem(headroom)) is not None:
        raise SutError(Problem("--capacity-headroom", why))


def sut_series_cmd(
    src: Annotated[Path, typer.Argument(help="ine: folder of sut_YYYY.xlsx; scb: the workbook; csv and economy: "
                                             "a folder with one sub-folder per year (2019/ ...)")],
    years: Annotated[str, typer.Option(help="years, e.g. 2010-2019 or 2016,2019")],
    out: Annotated[Path, typer.Option(help="folder to write series.csv and series.png into")],
    fmt: Annotated[str | None, typer.Option("--format", metavar=one_of(SERIES_FORMATS), help="default: told "
                                                             "from the source")] = None,
    objective: Annotated[str, typer.Option(metavar=one_of(OBJECTIVES), help="the plan's objective")] = "ray",
    needs: Annotated[str | None, typer.Option(help="final-use categories for the needs, comma-separated "
                                                    "(e.g. household); default all")] = None,
    labour: Annotated[str | None, typer.Option(metavar=one_of(LABOUR_MEASURES),
                                               help="the table's measure of labour")] = None,
    assumption: Annotated[str, typer.Option(metavar=one_of(ASSUMPTIONS),
                                            help="industry or product technology")] = "industry",
    resource_scale: Annotated[list[str] | None, typer.Option(help="GOOD=FACTOR on availability, e.g. CO2=0.7 "
                                                                  "(repeatable)")] = None,
    weights: WeightsOption = "value",
    capacity_headroom: HeadroomOption = None,
    solver: Annotated[str, typer.Option(metavar=one_of(SOLVERS), help="the solver")] = "auto",
    tolerance: Annotated[float, typer.Option(help="relative tolerance of the plan")] = 1e-6,
    overwrite: Annotated[bool, flag("--overwrite", "replace the --out folder if it exists")] = False,
) -> None:
    """Import and plan every year of a supply-use table; write DIR/series.csv, DIR/series.png and
    DIR/primaries_by_product.csv (where labour and resources go, per product and year)."""
    import pandas as pd

    from needplan.data.sut import (
        SutError,
        detect_format,
        import_sut,
        parse_resource_scale,
        parse_years,
        scale_resources,
        year_source,
    )
    from needplan.economy import read_economy
    from needplan.economy.io import atomic_folder
    from needplan.plan import PlanInputError, build_plan
    from needplan.report.series import plot_series, primary_breakdown, series_row

    fmt = fmt if fmt is not None else detect_format(src, series=True)
    _check_choice("--format", fmt, SERIES_FORMATS)
    _check_choice("--objective", objective, OBJECTIVES)
    _check_choice("--solver", solver, SOLVERS)
    _check_choice("--assumption", assumption, ASSUMPTIONS)
    _check_choice("--weights", weights, NEED_WEIGHTS)
    _check_headroom(capacity_headroom)
    if not (math.isfinite(tolerance) and 0 < tolerance < 1):
        raise SutError(Problem("--tolerance", f"must be a number in (0, 1), got {tolerance:g}"))
    year_list = parse_years(years)
    scales = parse_resource_scale(resource_scale or [])
    if fmt == "economy" and (needs or labour or assumption != "industry" or weights != "value"
                             or capacity_headroom is not None):
        raise SutError(Problem("--format economy", "economy folders are already imported: --needs, --labour, "
                                                   "--assumption, --weights and --capacity-headroom apply only to "
                                                   "tables"))
    # Every source must exist before the (slow) imports start.
    sources = {year: year_source(src, fmt, year) for year in year_list}  # type: ignore[arg-type]
    check_out(out, src, *sources.values(), overwrite=overwrite)
    console = Console(stderr=True)
    rows, breakdowns = [], []
    for year, path in sources.items():
        with console.status(f"{year}: importing and planning", spinner="dots"):
            if fmt == "economy":
                economy = read_economy(path)
                economy = scale_resources(economy, scales) if scales else economy
            else:
                economy = import_sut(path, fmt, year=year if fmt in ("scb", "ine") else None,  # type: ignore[arg-type]
                                     assumption=assumption, labour=labour,  # type: ignore[arg-type]
                                     needs=needs, resource_scale=scales, weights=weights,  # type: ignore[arg-type]
                                     capacity_headroom=capacity_headroom)[0]
            try:
                result = build_plan(economy, objective).solve(solver, tolerance)  # type: ignore[arg-type]
            except PlanInputError as exc:  # it names the table, not the year: say which one
                raise PlanInputError(f"{year} ({path}): {exc}") from None
        rows.append(series_row(year, economy, result))
        breakdowns.append(primary_breakdown(year, economy, result))
        fulfil = "no plan" if result.fulfilment is None else f"fulfilment {_fmt(result.fulfilment, 'fulfilment')}"
        console.print(Text(f"{year}: {result.status}, {fulfil}, binding: {_first(rows[-1]['binding'], 3)}"))
    frame = pd.DataFrame(rows)
    title = f"{src.name}: {objective}, needs {needs or 'all final use'}" + (
        f", {', '.join(f'{k}x{v:g}' for k, v in scales.items())}" if scales else "") + (
        f", capacity {1 + capacity_headroom:g}x output" if capacity_headroom is not None else "") + (
        ", equal weights" if weights == "equal" and objective == "harmony" else "")
    with writing(out), atomic_folder(out, overwrite=overwrite) as tmp:
        frame.to_csv(tmp / "series.csv", index=False)
        pd.concat(breakdowns, ignore_index=True).to_csv(tmp / "primaries_by_product.csv", index=False)
        with glyph_note():
            plot_series(frame, tmp / "series.png", title)
    _print_series(frame)
    for before, after in itertools.pairwise(frame.itertuples()):
        if after.products != before.products:  # (fuzzing: Spain's harmony rose from 2.47 to 4.03 in 2016 for this)
            typer.echo(f"note: {after.year} lists {after.products:,} products against {before.products:,} in "
                       f"{before.year} (a change of classification): the objective, totals and indices across it "
                       "sum over different products")
    typer.echo(f"wrote {out}: series.csv, series.png, primaries_by_product.csv")


def _first(joined: str, k: int) -> str:
    """The first ``k`` of the ';'-joined names, and how many more (the table holds them all)."""
    names = [n for n in joined.split(";") if n]
    more = f" and {len(names) - k} more" if len(names) > k else ""
    return ", ".join(names[:k]) + more if names else "none"


def _print_series(frame: pd.DataFrame) -> None:
    table = Table(title="series")
    cols = ["year", "status", "fulfilment", "binding", "needs_total", "gross_output_total"]
    cols += [c for c in frame.columns if c.endswith(("_used", "_available", "_shadow_price"))]
    for col in cols:
        table.add_column(Text(col), justify="left" if col in ("status", "binding") else "right")
    for _, r in frame.iterrows():  # the columns and cells name goods: Text, taken as written
        table.add_row(*[Text(_fmt(r[c], c)) for c in cols])
    Console(width=200).print(table)


def _fmt(value: Any, column: str = "") -> str:
    """6 significant digits; a fulfilment within 1e-9 of 0 (a need left at 0, to rounding) prints as 0."""
    import numpy as np

    if isinstance(value, float | np.floating):
        if column == "fulfilment" and abs(float(value)) < 1e-9:
            return "0"
        return "" if not math.isfinite(value) else f"{value:,.6g}"
    return "" if value is None else str(value)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("import-sut", cls=Command)(import_sut_cmd)
    app.command("sut-series", cls=Command)(sut_series_cmd)
