"""The command line, thin: parse arguments, call the library, print. Errors become one line each, exit 1.

Each group of commands lives in its own module with a ``register(app)`` function.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
import typer.core

from needplan.errors import EconomyError, NeedplanError, OutputError


class _Bare:
    """``--help`` shown in help without a ``<bool>`` type beside it (typer 0.29 shows its own help option's type)."""

    def get_help_option(self, ctx: Any) -> Any:  # (click's types: typer 0.29 carries its own copy of click)
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class Command(_Bare, typer.core.TyperCommand):
    """A needplan command (see :class:`_Bare`)."""


class _Group(_Bare, typer.core.TyperGroup):
    """needplan itself (see :class:`_Bare`)."""


app = typer.Typer(
    name="needplan",
    cls=_Group,
    help="Plan an economy for the best satisfaction of human needs, and simulate plans executed by people.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"needplan {version('needplan')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("needplan (not installed: version unknown)")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, metavar="",
                                          help="print needplan's version and exit")) -> None:
    """Plan an economy for the best satisfaction of human needs, and simulate plans executed by people."""


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


def flag(name: str, help: str) -> typer.models.OptionInfo:
    """An on/off option: ``--name`` alone, shown in help without a ``<bool>`` type beside it."""
    return typer.Option(name, metavar="", help=help)


def one_of(choices: tuple[str, ...]) -> str:
    """An option's value shown in help as its choices, ``<ray|min-labour|harmony>``, instead of ``<str>``."""
    return f"<{'|'.join(choices)}>"


ERROR_LINE = 2000
"""Characters of an error line printed at most; the rest is counted (fuzzing: an id of 2 million characters was
echoed whole, a 2 MB line)."""


def _error(line: str) -> None:
    """Print ``line`` as one error line on standard error, cut at :data:`ERROR_LINE` characters."""
    more = len(line) - ERROR_LINE
    typer.echo(f"error: {line[:ERROR_LINE]}{f' ... ({more:,} characters more)' if more > 0 else ''}", err=True)


def fail(message: str) -> None:
    """Print one error line and exit 1 (for commands that detect a problem themselves)."""
    _error(message)
    raise typer.Exit(1)


def check_out(out: Path | None, *inputs: Path | str, overwrite: bool = True, economy: bool = False) -> None:
    """Refuse an output folder that is, or holds, one of the command's inputs, or is a file inside an input folder
    (``--overwrite`` would delete it), that exists without ``overwrite`` (or with it, but is not a folder of plain
    files, :func:`~needplan.economy.io.replace_problem`: an economy only where ``economy``, the command writes
    one), or that cannot be made where it is named, before any work is done."""
    from needplan.economy.io import holds, name_problem, present, replace_problem

    if out is None:
        return
    if (why := name_problem(out)) is not None:  # (fuzzing: --out "" read ". exists", and "." was refused after
        fail(why)                               # the solve)
    for source in inputs:
        if holds(out, source):
            fail(f"{out} is (or holds) the input {source}: writing there would delete it; choose another folder")
        if Path(source).is_dir() and holds(source, out) and out.exists() and not out.is_dir():
            fail(f"{out} is a file in the input folder {source}: writing there would delete it; choose another "
                 "folder")
    if present(out):
        if not overwrite:
            raise FileExistsError(f"{out} exists (pass --overwrite to replace it)")
        if (why := replace_problem(out, economy=economy)) is not None:
            fail(why)
    _check_writable(out)


def _check_writable(out: Path) -> None:
    """Refuse ``out`` when no folder can be made in its nearest existing parent, tried by making and removing one
    there: the output is written into a temporary folder beside it, and permissions alone do not tell (root may
    write anywhere but a read-only disk or /proc)."""
    parent = next(p for p in (out.absolute().parent, *out.absolute().parents) if p.exists())
    if not parent.is_dir():
        fail(f"{out}: {parent} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".needplan-check.", dir=parent))
    except OSError as exc:
        fail(f"cannot write {out}: cannot make a folder in {parent} ({exc.strerror or exc})")


@contextmanager
def writing(out: Path) -> Iterator[None]:
    """Report the system's refusal to write ``out`` as an :class:`OutputError` naming ``out`` and the reason (the
    system names the temporary folder beside it, which the user never asked for)."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, FileExistsError) and exc.errno is None:  # needplan's own "... exists (pass --overwrite
            raise                                                     # ...)": it names out
        # (a full disk, found by fuzzing, read "No space left on device", and through pyarrow "Error writing bytes
        # to file. Detail: [errno 28] ...", naming no output)
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc


@contextmanager
def glyph_note() -> Iterator[None]:
    """Draw figures with matplotlib's warning for each character its fonts lack (a name in Chinese gave 17 lines
    of them, each with a source line of needplan's) replaced by one note on standard error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", message=r"Glyph \d+ .* missing from", category=UserWarning)
        yield
    missing: list[str] = []
    for w in caught:
        text = str(w.message)
        if text.startswith("Glyph ") and " missing from " in text:
            char = chr(int(text.split()[1]))
            if char not in missing:
                missing.append(char)
        else:  # any other warning goes on as it came
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing:
        typer.echo(f"note: the fonts here have no glyph for {' '.join(missing[:10])}"
                   f"{' ...' if len(missing) > 10 else ''}: the figures show boxes for them (a font that has them, "
                   "such as Noto Sans CJK, draws them)", err=True)


NUMPY_FLOATING_POINT = r"(overflow|underflow|invalid value|divide by zero) encountered in "
"""The start of numpy's floating-point RuntimeWarnings (``np.errstate``'s four kinds)."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``needplan`` command: usage errors exit 2, bad input exits 1 with one line each.

    Run as the command (``argv`` None), numpy's floating-point RuntimeWarnings are not printed, unless ``python -W``
    or ``PYTHONWARNINGS`` asks for warnings: numbers near the limits of double precision (a target of 1e308) raise
    them on the way to the one error line that says what is wrong, and they name only needplan's source lines. A
    caller passing ``argv`` (the tests) still gets them, so that they are guarded where they arise.
    """
    if argv is None:
        signal.signal(signal.SIGTERM, exit_on_signal)
    with warnings.catch_warnings():
        if argv is None and not sys.warnoptions:
            warnings.filterwarnings("ignore", message=NUMPY_FLOATING_POINT, category=RuntimeWarning)
        _main(argv)


def exit_on_signal(signum: int, frame: object) -> None:
    """A termination signal as ``SystemExit(128 + signum)``, so that what is being written is cleaned up (fuzzing:
    ``kill`` during ``simulate``'s writing left its hidden temporary folder for good)."""
    raise SystemExit(128 + signum)


def _main(argv: list[str] | None) -> None:
    """:func:`main` without its warnings filter: the errors, one line each."""
    try:
        app(args=argv)
    except EconomyError as exc:
        for line in exc.lines():
            _error(line)
        sys.exit(1)
    except NeedplanError as exc:
        for line in str(exc).splitlines():
            _error(line)
        sys.exit(1)
    except (FileExistsError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        _error(str(exc))
        sys.exit(1)
    except OSError as exc:  # a name too long, a full disk: the path and the system's reason, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or exc}")
        sys.exit(1)
    except MemoryError:
        _error("out of memory (a smaller economy, or a machine with more memory, would do)")
        sys.exit(1)
    except UnicodeEncodeError as exc:  # a name or table the output's encoding cannot write (cp1252 on a redirect)
        _error(f"the output's encoding ({exc.encoding}) cannot write {exc.object[exc.start:exc.end]!a}; set "
               "PYTHONIOENCODING=utf-8")
        sys.exit(1)


_register()  # last: the command modules import fail and check_out from here
