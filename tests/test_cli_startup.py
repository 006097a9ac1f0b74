"""The command line's help imports none of the heavy libraries: ``needplan --help`` took 2 s, almost all of it
numpy, pandas, scipy, HiGHS, pyarrow, openpyxl and matplotlib, which no help text needs. Each check runs in a fresh
interpreter (this one has them all loaded), with this one's environment, so it imports the tree under test."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "pandas", "scipy", "highspy", "pyarrow", "openpyxl", "matplotlib")

COMMANDS = {"validate", "analyze", "generate", "plan", "demo", "import-sut", "sut-series", "simulate", "compare",
            "scenarios"}

EVERY_HELP = f"""
import json, sys
import typer.main
from typer.testing import CliRunner
from needplan.cli import app

names = sorted(typer.main.get_command(app).commands)
runner = CliRunner()
for args in ([], *([name] for name in names)):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output, (args, result.exit_code, result.output)
print(json.dumps({{"commands": names, "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)


def test_the_help_of_every_command_imports_no_heavy_library() -> None:
    proc = _python("-c", EVERY_HELP)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert COMMANDS <= set(got["commands"])
    assert got["heavy"] == []


def _imported(proc: subprocess.CompletedProcess[str]) -> set[str]:
    """The top-level packages ``python -X importtime`` says the process imported."""
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in proc.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


def test_the_command_itself_imports_no_heavy_library_for_help() -> None:
    """As a user runs it (``python -m needplan``, what the ``needplan`` script calls), top level and a command."""
    for args in (["--help"], ["plan", "--help"], ["import-sut", "--help"]):
        proc = _python("-X", "importtime", "-m", "needplan", *args)
        assert proc.returncode == 0 and "Usage" in proc.stdout, proc.stderr
        imported = _imported(proc)
        assert "needplan" in imported and "typer" in imported  # the parse found the imports
        assert imported.isdisjoint(HEAVY), (args, sorted(imported & set(HEAVY)))


def test_the_package_still_offers_its_names() -> None:
    """``needplan``'s own names load on first use; each is there, and ``from needplan import ...`` works."""
    code = ("import needplan, sys\n"
            "assert 'pandas' not in sys.modules, 'import needplan imported pandas'\n"
            "from needplan import read_economy, Economy\n"
            "assert all(getattr(needplan, name) is not None for name in needplan.__all__)\n"
            "assert set(needplan.__all__) <= set(dir(needplan)) and needplan.__version__\n"
            "assert needplan.read_economy is read_economy and Economy.__name__ == 'Economy'\n")
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr


def test_options_with_choices_show_them_in_help() -> None:
    """An option that takes one of a few words shows those words where typer showed ``<str>`` (a newcomer had to
    read the help text, where some were not listed), and the modules that check them hold the same words."""
    from typer.testing import CliRunner

    from needplan.cli import app
    from needplan.data import generate, sut
    from needplan.plan import OBJECTIVES, SOLVERS, fill

    runner = CliRunner()
    expected = {"plan": ["<ray|min-labour|harmony>", "<auto|highs|fast>", "<leximin|least-labour>"],
                "generate": ["<uniform|structured>", "<csv|parquet>"],
                "import-sut": ["<ine|scb|csv>", "<industry|product>", "<fte|persons|jobs|hours|compensation>",
                               "<value|equal>"],
                "analyze": ["<auto|neumann|direct>"]}
    for command, shown in expected.items():
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        for metavar in shown:
            assert metavar in result.output, (command, metavar)
        assert command != "plan" or "<str>" not in result.output  # (import-sut's --needs is free text)
    assert (OBJECTIVES, SOLVERS, fill.FILLS) == (("ray", "min-labour", "harmony"), ("auto", "highs", "fast"),
                                                  ("leximin", "least-labour"))
    assert generate.FAMILIES == ("uniform", "structured") and sut.FORMATS == ("ine", "scb", "csv")


def test_no_help_shows_a_bool_type_beside_a_flag() -> None:
    """On/off options, ``--help`` and ``--version`` included, show no ``<bool>`` in help: typer 0.29 printed
    ``--help <bool>`` on every page."""
    import typer.main
    from typer.testing import CliRunner

    from needplan.cli import app

    runner = CliRunner()
    for args in ([], *([name] for name in sorted(typer.main.get_command(app).commands))):
        result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "--help" in result.output, args
        assert "<bool>" not in result.output, args
