"""The command line, thin: parse arguments, call the library, print. Errors become one line each, exit 1.

Each group of commands lives in its own module with a ``register(app)`` function.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from needplan.economy.io import holds
from needplan.errors import EconomyError, NeedplanError

app = typer.Typer(
    name="needplan",
    help="Plan an economy for the best satisfaction of human needs, and simulate plans executed by people.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from needplan.cli import (
        economy_commands,
        generate_commands,
        plan_commands,
        simulate_commands,
        sut_commands,
    )

    for module in (economy_commands, generate_commands, plan_commands, sut_commands, simulate_commands):
        module.register(app)


def fail(message: str) -> None:
    """Print one error line and exit 1 (for commands that detect a problem themselves)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def check_out(out: Path | None, *inputs: Path | str) -> None:
    """Refuse an output folder that is, or holds, one of the command's inputs, or is a file inside an input folder
    (``--overwrite`` would delete it), before any work is done."""
    if out is None:
        return
    for source in inputs:
        if holds(out, source):
            fail(f"{out} is (or holds) the input {source}: writing there would delete it; choose another folder")
        if Path(source).is_dir() and holds(source, out) and out.exists() and not out.is_dir():
            fail(f"{out} is a file in the input folder {source}: writing there would delete it; choose another "
                 "folder")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``needplan`` command: usage errors exit 2, bad input exits 1 with one line each."""
    try:
        app(args=argv)
    except EconomyError as exc:
        for line in exc.lines():
            typer.echo(f"error: {line}", err=True)
        sys.exit(1)
    except NeedplanError as exc:
        for line in str(exc).splitlines():
            typer.echo(f"error: {line}", err=True)
        sys.exit(1)
    except (FileExistsError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:  # a name too long, a full disk: the path and the system's reason, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except MemoryError:
        typer.echo("error: out of memory (a smaller economy, or a machine with more memory, would do)", err=True)
        sys.exit(1)


_register()  # last: the command modules import fail and check_out from here
