"""CLI command ``import-sut``: a national supply-use table to an economy folder, with its import report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from needplan.data.sut import FORMATS, LABOUR_MEASURES, ImportReport, import_sut, write_import


def print_report(report: ImportReport, console: Console, *, rows: int = 10) -> None:
    """The import report as readable tables: totals, items set aside, balance, labour, the identity check."""
    u = report.unit
    console.print(f"[bold]{report.source}[/bold] ({report.fmt}{f', {report.year}' if report.year else ''}), "
                  f"{report.assumption}-technology assumption")
    console.print(f"  {report.construction}")
    t = Table(title=f"totals of the table ({u})")
    t.add_column("item")
    t.add_column("amount", justify="right")
    for k, v in report.totals.items():
        t.add_row(k, f"{v:,.1f}")
    console.print(t)
    t = Table(title=f"set aside: not domestic output at basic prices ({u})")
    t.add_column("item")
    t.add_column("amount", justify="right")
    for k, v in report.set_aside.items():
        t.add_row(k, f"{v:,.1f}")
    console.print(t)
    bal = report.balance.assign(absrel=report.balance["relative"].abs()).sort_values("absrel", ascending=False)
    t = Table(title=f"balance per product (largest {rows} of {len(bal)} relative discrepancies; use rows are scaled "
                    "to supply)")
    for col in ("product", "supply", "intermediate", "final", "discrepancy", "relative"):
        t.add_column(col, justify="left" if col == "product" else "right")
    for product, r in bal.head(rows).iterrows():
        t.add_row(str(product), f"{r['supply']:,.1f}", f"{r['intermediate']:,.1f}", f"{r['final']:,.1f}",
                  f"{r['discrepancy']:+,.3g}", f"{r['relative']:+.1e}")
    console.print(t)
    console.print("final use of domestic output by category: " + ", ".join(
        f"{k} {v:,.0f}" for k, v in report.final_use_by_category.items()))
    console.print(f"needs = {' + '.join(report.needs_categories)}"
                  + (f"; set to 0 where negative: {', '.join(report.needs_clipped)}" if report.needs_clipped else ""))
    if report.labour_measure:
        console.print(f"labour: {report.labour_measure}, total {report.labour_total:,.0f} {report.labour_unit}; "
                      + (f"industries with no figure: {', '.join(report.industries_without_labour)}"
                         if report.industries_without_labour else "every industry has a figure"))
    else:
        console.print("labour: the table has none")
    for k, v in report.emissions_total.items():
        console.print(f"emissions: {k} {v:,.1f}")
    if report.dropped_products:
        console.print(f"products without domestic output, left out: {', '.join(report.dropped_products)}")
    if report.dropped_industries:
        console.print(f"industries without output, left out: {', '.join(report.dropped_industries)}")
    console.print(f"negative coefficients: {report.negative_coefficients} ({report.negative_handling})")
    for note in report.notes:
        console.print(f"note: {note}")
    lab = "" if report.identity_labour is None else f", labour {report.identity_labour:.1e}"
    console.print(f"[green]identity check passed[/green]: largest relative error of gross output "
                  f"{report.identity_output:.1e}{lab} (limit 1e-06)")


def import_sut_cmd(
    src: Annotated[Path, typer.Argument(help="the table: an .xlsx workbook (ine, scb) or a folder (csv)")],
    out: Annotated[Path, typer.Argument(help="economy folder to write")],
    fmt: Annotated[str, typer.Option("--format", help=f"one of {', '.join(FORMATS)}")],
    year: Annotated[int | None, typer.Option(help="year (the sheet of an scb workbook)")] = None,
    assumption: Annotated[str, typer.Option(help="industry or product technology")] = "industry",
    labour: Annotated[str | None, typer.Option(help=f"one of {', '.join(LABOUR_MEASURES)}; default: the "
                                                     "first of fte, hours, persons the table has")] = None,
    needs: Annotated[str | None, typer.Option(help="final-use categories for needs.csv, comma-separated "
                                                    "(e.g. household); default all")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace OUT if it exists")] = False,
) -> None:
    """Import a national supply-use table as an economy folder and print what the import did."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if assumption not in ("industry", "product"):
        raise typer.BadParameter(f"--assumption must be industry or product, got {assumption!r}")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists (pass --overwrite to replace it)")
    with Console(stderr=True).status(f"importing {src}", spinner="dots"):
        economy, report = import_sut(src, fmt, year=year, assumption=assumption,  # type: ignore[arg-type]
                                     labour=labour, needs=needs)
        write_import(economy, out, overwrite=overwrite)
    console = Console()
    print_report(report, console)
    console.print(f"wrote {out}: {economy!r}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("import-sut")(import_sut_cmd)
