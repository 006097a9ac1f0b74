"""CLI command ``generate``: write a synthetic economy folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from needplan.cli import Command, check_out, flag, one_of, writing
from needplan.data.names import FAMILIES, TABLE_FORMATS


def generate_cmd(
    out: Annotated[Path, typer.Argument(help="folder to write (must not exist unless --overwrite)")],
    goods: Annotated[int, typer.Option("--goods", help="number of products")] = 1000,
    inputs_per_good: Annotated[int, typer.Option("--inputs-per-good", help="material inputs per technique")] = 10,
    techniques_per_good: Annotated[int | None, typer.Option(
        "--techniques-per-good", help="techniques of a product with alternatives (default: uniform 1, structured 2)",
        show_default=False)] = None,
    labour_kinds: Annotated[int | None, typer.Option(
        "--labour-kinds", help="kinds of labour (default: uniform 1, structured 2)", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the one random generator")] = 0,
    family: Annotated[str, typer.Option("--family", metavar=one_of(FAMILIES),
                                        help="uniform: random suppliers, one technique per good; structured: hub "
                                             "suppliers, alternatives, joint products, two labour kinds")] = "uniform",
    fmt: Annotated[str | None, typer.Option(
        "--format", metavar=one_of(TABLE_FORMATS), help="the tables' format (default: parquet above 10^4 goods)",
        show_default=False)] = None,
    overwrite: Annotated[bool, flag("--overwrite", "replace OUT if it exists")] = False,
) -> None:
    """Write a valid, productive synthetic economy: goods, techniques with inputs, capacities on some, labour and
    needs (the structured family adds alternative techniques, joint products and hub suppliers)."""
    from needplan.data.generate import GeneratorError, make_spec, write_generated

    if fmt is not None and fmt not in TABLE_FORMATS:
        raise typer.BadParameter(f"format must be {' or '.join(TABLE_FORMATS)}, got {fmt!r}", param_hint="--format")
    try:
        spec = make_spec(goods, inputs_per_good=inputs_per_good, techniques_per_good=techniques_per_good,
                         labour_kinds=labour_kinds, family=family, seed=seed)
    except GeneratorError as exc:
        raise typer.BadParameter(str(exc)) from None
    if spec.inputs_per_good < inputs_per_good:
        typer.echo(f"note: --inputs-per-good {inputs_per_good} is more than there are suppliers; "
                   f"{spec.inputs_per_good} it is", err=True)
    check_out(out, overwrite=overwrite, economy=True)
    console = Console(stderr=True)
    # A bar only where it is worth watching (large economies take seconds to minutes) and a terminal shows it.
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=spec.n_goods < 10**5 or not console.is_terminal) as bar:
        task = bar.add_task("generating", total=1.0)

        def progress(step: str, done: float) -> None:
            bar.update(task, description=step, completed=done)

        with writing(out):
            folder = write_generated(out, spec, fmt=fmt, overwrite=overwrite,  # type: ignore[arg-type]
                                     progress=progress)
    typer.echo(f"wrote {folder}: {spec.family} economy of {spec.n_goods} goods (seed {spec.seed})")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("generate", cls=Command)(generate_cmd)
