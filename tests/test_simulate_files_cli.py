"""User regime/schedule files (errors name the key) and the CLI (exact columns, atomic output)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from needplan.cli import app, main
from needplan.simulate import SERIES_COLUMNS, SimulateError, load_scenario_file

GOOD = """
name = "mild"
[regimes.mild_collectivization]
base = "forced_collectivization"
procurement_quota_share = 0.15
target_kind = "balanced"
[[schedule]]
from = 1929
regime = "mild_collectivization"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_scenario_file_loads(tmp_path: Path) -> None:
    sc = load_scenario_file(_write(tmp_path, GOOD))
    assert sc.regime(1930).name == "mild_collectivization"
    assert sc.regime(1930).procurement_quota_share == 0.15
    assert sc.regime(1930).target == "balanced"
    assert sc.regime(1925).name == "nep"


@pytest.mark.parametrize(("text", "key"), [
    (GOOD.replace("procurement_quota_share = 0.15", "procurement_quota_share = 'high'"),
     "regimes.mild_collectivization.procurement_quota_share"),
    (GOOD.replace("procurement_quota_share = 0.15", "procurement_quota_share = 0.95"),
     "regimes.mild_collectivization.procurement_quota_share"),
    (GOOD.replace("procurement_quota_share", "procurment_quota_share"),
     "regimes.mild_collectivization.procurment_quota_share"),
    (GOOD.replace('base = "forced_collectivization"', 'base = "stalinism"'), "regimes.mild_collectivization.base"),
    (GOOD.replace("from = 1929", "from = '1929'"), "schedule[0].from"),
    (GOOD.replace('regime = "mild_collectivization"', 'regime = "nope"'), "schedule[0].regime"),
    (GOOD.replace('name = "mild"', 'nme = "mild"'), "nme"),
    (GOOD.replace('target_kind = "balanced"', 'target_kind = "tonnage"'),
     "regimes.mild_collectivization.target_kind"),
])
def test_malformed_file_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(SimulateError) as info:
        load_scenario_file(_write(tmp_path, text))
    assert key in str(info.value)
    assert "scenario.toml" in str(info.value)


def test_cli_simulate_writes_exact_columns(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["simulate", "--scenario", "ussr-1913-1940", "--seed", "2",
                                      "--households", "800", "--out", str(out)])
    assert result.exit_code == 0, result.output
    series = pd.read_csv(out / "series.csv")
    assert tuple(series.columns) == SERIES_COLUMNS
    assert len(series) == 28
    assert pd.read_parquet(out / "series.parquet").shape == series.shape
    assert (out / "summary.md").read_text().startswith("# ussr-1913-1940")
    assert (out / "herds.png").stat().st_size > 1000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_cli_runs_bands_and_compare(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, ["simulate", "--scenario", "ussr-left-opposition", "--runs", "3",
                                      "--households", "500", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert tuple(pd.read_csv(out / "series.csv").columns) == SERIES_COLUMNS
    bands = pd.read_csv(out / "bands.csv")
    assert (bands["p10"] <= bands["median"] + 1e-12).all() and (bands["median"] <= bands["p90"] + 1e-12).all()
    assert sorted(pd.read_csv(out / "runs.csv")["run"].unique()) == [0, 1, 2]
    cmp = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", "ussr-1913-1940", "ussr-plan-market-democracy",
                                      "--households", "500", "--out", str(cmp)])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(cmp / "compare.csv")["scenario"]) == {"ussr-1913-1940", "ussr-plan-market-democracy"}
    assert len(list(cmp.glob("*.png"))) == 5


def test_cli_scenarios_lists_one_line_each() -> None:
    result = CliRunner().invoke(app, ["scenarios"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 + 7
    assert any(line.split()[1] == "war_communism" for line in lines)


def test_cli_bad_file_is_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, GOOD.replace("from = 1929", "from = 'x'"))
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--scenario", str(bad), "--out", str(tmp_path / "o"), "--households", "100"])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "schedule[0].from" in err[0]


def test_a_regime_name_on_two_lines_is_refused(tmp_path: Path) -> None:
    """Fuzzing: a scenario's name on two lines was refused, a regime's was not, and it split summary.md's schedule
    and series.csv's rows."""
    text = GOOD.replace("[regimes.mild_collectivization]", '[regimes."mild\\ncollectivization"]').replace(
        'regime = "mild_collectivization"', 'regime = "mild\\ncollectivization"')
    with pytest.raises(SimulateError, match=r"regimes: a regime's name must be one line of printable text"):
        load_scenario_file(_write(tmp_path, text))


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    """Fuzzing: a scenario saved with a byte-order mark read "not valid TOML: Invalid statement (at line 1, column
    1)"; economy.toml takes one."""
    path = tmp_path / "scenario.toml"
    path.write_text("\ufeff" + GOOD, encoding="utf-8")
    assert load_scenario_file(path).regime(1930).name == "mild_collectivization"


def test_a_scenario_not_in_utf8_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    """A helper's audit: it said "not valid TOML: 'utf-8' codec can't decode byte 0xe9 in position 5" (economy.toml
    names the line)."""
    path = tmp_path / "scenario.toml"
    path.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    line = GOOD.count("\n") + 1
    with pytest.raises(SimulateError, match=rf"scenario\.toml line {line}: not UTF-8 text: byte 0xe9 at column 6"):
        load_scenario_file(path)


def test_true_and_false_are_taken_for_switches_only(tmp_path: Path) -> None:
    """A helper's audit: ``famine_relief = true`` ran as a relief of 1, ``investment_share = true`` said "1.0 is
    outside [0, 0.6]", a value the file does not hold."""
    switch = GOOD.replace("target_kind", "legal_market = true\ntarget_kind")
    assert load_scenario_file(_write(tmp_path, switch)).regime(1930).legal_market == 1
    for lever in ("famine_relief", "investment_share"):
        text = GOOD.replace("target_kind", f"{lever} = true\ntarget_kind")
        with pytest.raises(SimulateError, match=rf"{lever}: must be a number \(share\), got true"):
            load_scenario_file(_write(tmp_path, text))


def test_a_scenario_that_is_a_fifo_is_refused_not_waited_for(tmp_path: Path) -> None:
    """Fuzzing: a scenario file that was a FIFO (named pipe) waited for a writer for ever."""
    import os

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(SimulateError, match=r"pipe\.toml: cannot read: it is a FIFO \(named pipe\), not a regular"):
        load_scenario_file(fifo)
