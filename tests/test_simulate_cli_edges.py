"""Edges of ``needplan simulate`` and ``compare``: a zero lever, the --households range, an existing --out, the
compare table of scenarios with other spans, and schedule entries that repeat a year or come after the end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import needplan.cli.simulate_commands as simulate_commands
from needplan.cli import main
from needplan.simulate import Model, SimulateError, get_scenario, load_scenario_file, run_scenario
from needplan.simulate import mechanisms as mech

ZERO_SHARE = """
name = "no_goods"
end_year = {end}
[regimes.x]
consumer_share_rural = 0
[[schedule]]
from = 1913
regime = "x"
"""

ONE_YEAR = 'name = "oneyear"\nstart_year = 1913\nend_year = 1913\n'
THREE_YEARS = 'name = "three"\nstart_year = 1913\nend_year = 1915\n'


def _write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error_lines(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[str]:
    """Run the CLI expecting one error line and exit 1; return the stderr lines."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err


def test_terms_of_trade_limits_without_goods_or_reference() -> None:
    assert mech.terms_of_trade(0.0, 5.0, 0.0) == 0.0
    assert mech.terms_of_trade(0.0, 0.0, 0.0) == 0.0
    assert mech.terms_of_trade(0.0, 5.0, 1.0) == 0.0
    assert mech.terms_of_trade(1.0, 5.0, 0.0) == 3.0
    assert mech.terms_of_trade(1.0, 1.0, 1.0) == 1.0


def test_zero_consumer_share_rural_runs_and_is_deterministic(tmp_path: Path) -> None:
    sc = load_scenario_file(_write(tmp_path, ZERO_SHARE.format(end=1915)))
    series, records = run_scenario(sc, seed=1, n_households=200)
    assert [r.values["terms_of_trade"] for r in records] == [0.0, 0.0, 0.0]  # grain buys no goods
    assert not series.drop(columns="regime").isna().any().any()
    again, _ = run_scenario(sc, seed=1, n_households=200)
    pd.testing.assert_frame_equal(series, again, check_exact=True)
    # Goods reaching the village later set the reference there (terms 1) instead of dividing by zero.
    later = ZERO_SHARE.format(end=1916) + '[[schedule]]\nfrom = 1915\nregime = "nep"\n'
    _, records = run_scenario(load_scenario_file(_write(tmp_path, later)), seed=1, n_households=200)
    terms = [r.values["terms_of_trade"] for r in records]
    assert terms[:2] == [0.0, 0.0] and terms[2] == pytest.approx(1.0) and terms[3] > 0


def test_cli_zero_consumer_share_rural_writes(tmp_path: Path) -> None:
    scenario = _write(tmp_path, ZERO_SHARE.format(end=1914))
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--scenario", str(scenario), "--out", str(tmp_path / "z"), "--households", "100"])
    assert info.value.code in (0, None)
    assert len(pd.read_csv(tmp_path / "z" / "series.csv")) == 2


@pytest.mark.parametrize("households", ["0", "9", "20000001", "10000000000", "10000000000000000000",
                                        str(2**63 - 1)])
@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_households_out_of_range_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
                                             households: str) -> None:
    target = ["--scenario", "ussr-1913-1940"] if command == "simulate" else ["ussr-1913-1940"]
    err = _error_lines(capsys, [command, *target, "--out", str(tmp_path / "o"), "--households", households])
    assert "--households" in err[0] and "10 to 20,000,000" in err[0] and households in err[0]
    assert not (tmp_path / "o").exists()


def test_model_refuses_households_out_of_range() -> None:
    with pytest.raises(SimulateError, match="10 to 20,000,000"):
        Model(get_scenario("ussr-1913-1940"), n_households=2**63 - 1)


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_existing_out_is_refused_before_simulating(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(simulate_commands, "run_scenario", no_run)
    monkeypatch.setattr(simulate_commands, "run_ensemble", no_run)
    out = tmp_path / "exists"
    out.mkdir()
    target = ["--scenario", "ussr-1913-1940", "--runs", "20"] if command == "simulate" else ["ussr-1913-1940"]
    err = _error_lines(capsys, [command, *target, "--out", str(out), "--households", "100"])
    assert f"{out} exists" in err[0] and "--overwrite" in err[0]


def test_existing_out_is_replaced_with_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "exists"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--scenario", str(_write(tmp_path, ONE_YEAR)), "--out", str(out), "--households", "50",
              "--overwrite"])
    assert info.value.code in (0, None)
    assert (out / "series.csv").exists() and not (out / "old.txt").exists()


def test_compare_table_names_the_last_simulated_year(tmp_path: Path) -> None:
    one, three = _write(tmp_path, ONE_YEAR, "one.toml"), _write(tmp_path, THREE_YEARS, "three.toml")
    out = tmp_path / "cmp"
    with pytest.raises(SystemExit) as info:
        main(["compare", str(one), str(three), "--out", str(out), "--households", "100"])
    assert info.value.code in (0, None)
    md = (out / "compare.md").read_text(encoding="utf-8").splitlines()
    header = [c.strip() for c in md[0].strip("|").split("|")]
    assert header == ["scenario", "first_year", "last_year", "industrial_output_last", "quality_last",
                      "famine_deaths_m", "cattle_min_m", "real_wage_last", "conflict_max"]
    rows = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in md[2:])}
    assert rows["oneyear"][:2] == ["1913", "1913"] and rows["three"][:2] == ["1913", "1915"]
    # The *_last columns are the rows of the last year in compare.csv.
    table = pd.read_csv(out / "compare.csv")
    last = table[(table["scenario"] == "three") & (table["year"] == 1915)].iloc[0]
    assert rows["three"][2] == f"{last['industrial_output_index']:.3g}"
    assert rows["three"][6] == f"{last['real_wage_index']:.3g}"


@pytest.mark.parametrize(("schedule", "message"), [
    ('[[schedule]]\nfrom = 1929\nregime = "nep"\n[[schedule]]\nfrom = 1929\nregime = "war_communism"\n',
     "schedule[1].from: 1929 is also schedule[0].from"),
    ('[[schedule]]\nfrom = 1929\nregime = "nep"\n[[schedule]]\nfrom = 1935\nregime = "nep"\n',
     "schedule[1].from: 1935 is after end_year 1931"),
], ids=["repeated", "after_end"])
def test_schedule_repeated_or_after_end_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   schedule: str, message: str) -> None:
    path = _write(tmp_path, 'name = "ds"\nend_year = 1931\n' + schedule)
    with pytest.raises(SimulateError, match=r"scenario\.toml: " + message.replace("[", r"\[").replace("]", r"\]")):
        load_scenario_file(path)
    err = _error_lines(capsys, ["simulate", "--scenario", str(path), "--out", str(tmp_path / "o"),
                                "--households", "100"])
    assert message in err[0] and str(path) in err[0]
