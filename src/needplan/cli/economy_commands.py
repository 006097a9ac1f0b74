"""CLI commands on economy folders: ``validate``, ``analyze``, ``generate``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from needplan.cli import Command, flag, one_of
from needplan.data.names import LEONTIEF_METHODS

if TYPE_CHECKING:
    from needplan.analysis import Analysis
    from needplan.economy.model import Economy

Folder = Annotated[Path, typer.Argument(help="economy folder (economy.toml plus CSV or Parquet tables)")]


def load(folder: Path) -> Economy:
    """Read an economy with a spinner on the terminal (large folders take seconds)."""
    from needplan.economy import read_economy

    with Console(stderr=True).status(Text(f"reading {folder}"), spinner="dots"):  # the path as written
        return read_economy(folder)


def stdout_console() -> Console:
    """A console for results: the terminal's width, or 140 columns when piped (tables stay readable in logs)."""
    return Console(width=None if sys.stdout.isatty() else 140)


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def validate_cmd(folder: Folder) -> None:
    """Check an economy folder; print a one-line summary, or one line per problem and exit 1."""
    economy = load(folder)
    typer.echo(f"ok: {economy!r}")
    for note in economy.notes():
        typer.echo(f"note: {note}")


def analyze_cmd(
    folder: Folder,
    as_json: Annotated[bool, flag("--json", "print one JSON object instead of a table")] = False,
    limit: Annotated[int, typer.Option(min=0, help="rows of the table to print (largest gross output first)")] = 25,
    method: Annotated[str, typer.Option(metavar=one_of(LEONTIEF_METHODS),
                                        help="Neumann iteration, a sparse LU, or by size")] = "auto",
) -> None:
    """Leontief analysis of the needs as final demand: the gross output of each product, the output multiplier
    (gross output of all products per unit of final demand for it) and the labour and resources one unit embodies
    (directly and through its inputs)."""
    from needplan.analysis import analyze

    if method not in LEONTIEF_METHODS:
        raise typer.BadParameter(f"method must be auto, neumann or direct, got {method!r}")
    economy = load(folder)
    with Console(stderr=True).status("solving", spinner="dots"):
        result = analyze(economy, method=method)  # type: ignore[arg-type]
    s = result.solver
    if as_json:
        emb = result.embodied
        payload = {  # what the table shows, for every product (fuzzing: multipliers and final demand were missing)
            "technique": {str(k): str(v) for k, v in result.techniques.items()},
            "final_demand": {str(k): float(v) for k, v in result.final_demand.items()},
            "gross_output": {str(k): float(v) for k, v in result.gross_output.items()},
            "multiplier": {str(k): float(v) for k, v in result.multipliers.items()},
            "embodied": {str(p): {str(c): float(v) for c, v in zip(emb.columns, row, strict=True)}
                         for p, row in zip(emb.index, emb.to_numpy(), strict=True)},
            "solver": {"method": s.method, "iterations": s.iterations, "residual": _num(s.residual),
                       "seconds": s.seconds},
        }
        typer.echo(json.dumps(payload))
        return
    print_analysis(economy, result, limit)


def print_analysis(economy: Economy, result: Analysis, limit: int = 25) -> None:
    """The analysis as a readable table on standard output."""
    from needplan.analysis import negative_values_note

    s = result.solver
    console = stdout_console()
    # Ids and names go in as Text: taken as written, never as markup or emoji codes.
    table = Table(title=Text(f"{economy.name}: gross output for the needs, and what one unit embodies",
                             style="table.title"))
    for col in ("product", "technique", "final demand", "gross output", "multiplier"):
        table.add_column(col, justify="left" if col in ("product", "technique") else "right")
    for primary in result.embodied.columns:
        table.add_column(Text(f"{primary} / unit"), justify="right")
    order = result.gross_output.sort_values(ascending=False).index[:limit]
    for product in order:
        table.add_row(Text(str(product)), Text(str(result.techniques[product])),
                      f"{result.final_demand[product]:,.6g}", f"{result.gross_output[product]:,.6g}",
                      f"{result.multipliers[product] + 0.0:.4f}",  # + 0.0: never "-0"
                      *(f"{v + 0.0:.6g}" for v in result.embodied.loc[product]))
    console.print(table)
    if len(result.gross_output) > limit:
        console.print(f"... {len(result.gross_output) - limit} more products (use --json for all)")
    console.print(f"solver: {s.method}, {s.iterations} iterations, relative residual {s.residual:.1e}, "
                  f"{s.seconds:.3f} s")
    note = negative_values_note(economy, result)
    if note:
        console.print(Text(f"note: {note}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("validate", cls=Command)(validate_cmd)
    app.command("analyze", cls=Command)(analyze_cmd)
