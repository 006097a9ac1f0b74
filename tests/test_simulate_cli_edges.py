"""Edges of ``needplan simulate`` and ``compare``: a zero lever, the --households range, an existing --out, the
compare table of scenarios with other spans, and schedule entries that repeat a year or come after the end."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import needplan.cli.simulate_commands as simulate_commands
from needplan.cli import main
from needplan.cli.simulate_commands import SUMMARY_YEARS
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


START_REGIME = """
name = "{name}"
end_year = 1915
[regimes.start]
base = "tsarist_baseline"
{lever} = {value}
[[schedule]]
from = 1913
regime = "start"
"""


@pytest.mark.parametrize(("lever", "value", "says"), [
    ("export_quota_mt", 10, r"industry runs at [0-9.e-]+ of its capacity \(the towns get 0 Mt of grain\)"),
    ("consumer_share_rural", 1.0, "the towns get no food or no consumer goods, and the real wage has no base"),
])
def test_a_first_year_that_is_no_base_for_the_indices_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                lever: str, value: float, says: str) -> None:
    """A helper's fuzzing, levers within their ranges: an export quota of 10 Mt in 1913 left the towns no grain, so
    1913's industry ran at 6e-13 of its capacity and the industrial index read 1.6e14 in 1914; all consumer goods
    to the villages in 1913 floored the towns' real wage, which read 265,000 by 1940 (1913 = 100). Both exited 0.
    Now: one error line naming the scenario, the year and why, exit 1, no output. A later year may do either."""
    path = _write(tmp_path, START_REGIME.format(name="degenerate", lever=lever, value=value))
    out = tmp_path / "out"
    err = _error_lines(capsys, ["simulate", "--scenario", str(path), "--households", "200", "--out", str(out)])
    assert re.search(f"scenario degenerate: the first year, 1913, is no base for the indices .*{says}", err[0]), err
    assert not out.exists()
    later = START_REGIME.format(name="later", lever="export_quota_mt", value=0).replace(
        "[[schedule]]", f"[regimes.then]\nbase = \"tsarist_baseline\"\n{lever} = {value}\n[[schedule]]", 1)
    later += '[[schedule]]\nfrom = 1914\nregime = "then"\n'
    series, _ = run_scenario(load_scenario_file(_write(tmp_path, later, "later.toml")), seed=0, n_households=200)
    assert series["industrial_output_index"].iloc[0] == 100.0 and np.isfinite(series[list(series)[2:]]).all().all()


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
    """An earlier output is replaced whole (its runs.csv of a run with --runs goes); a folder holding a file
    needplan does not write is not (test_cli_outputs.py)."""
    out = tmp_path / "exists"
    out.mkdir()
    (out / "runs.csv").write_text("old", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--scenario", str(_write(tmp_path, ONE_YEAR)), "--out", str(out), "--households", "50",
              "--overwrite"])
    assert info.value.code in (0, None)
    assert (out / "series.csv").exists() and not (out / "runs.csv").exists()


def test_compare_table_averages_the_last_years_in_the_order_given(tmp_path: Path) -> None:
    """compare.md keeps the scenarios in the order given (they were sorted by name), and its ``*_last5`` columns
    average the last five simulated years (fuzzing: one year's harvest moved a scenario's last-year industry from
    254 to 187, reversing the ranking)."""
    one, three = _write(tmp_path, ONE_YEAR, "one.toml"), _write(tmp_path, THREE_YEARS, "three.toml")
    out = tmp_path / "cmp"
    with pytest.raises(SystemExit) as info:
        main(["compare", str(three), str(one), "--out", str(out), "--households", "100"])
    assert info.value.code in (0, None)
    md = (out / "compare.md").read_text(encoding="utf-8").splitlines()
    header = [c.strip() for c in md[0].strip("|").split("|")]
    assert header == ["scenario", "first_year", "last_year", "industrial_output_last5", "quality_last5",
                      "famine_deaths_m", "cattle_min_m", "real_wage_last5", "conflict_max"]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in md[2:] if line.startswith("|")]
    assert [r[0] for r in rows] == ["three", "oneyear"]
    assert rows[1][1:3] == ["1913", "1913"] and rows[0][1:3] == ["1913", "1915"]
    # The *_last5 columns are the means of compare.csv's rows (all three years of "three").
    table = pd.read_csv(out / "compare.csv")
    three_rows = table[table["scenario"] == "three"]
    assert rows[0][3] == f"{three_rows['industrial_output_index'].mean():.3g}"
    assert rows[0][7] == f"{three_rows['real_wage_index'].mean():.3g}"


@pytest.mark.parametrize(("schedule", "message"), [
    ('[[schedule]]\nfrom = 1929\nregime = "nep"\n[[schedule]]\nfrom = 1929\nregime = "war_communism"\n',
     "schedule[1].from: 1929 is also schedule[0].from"),
    ('[[schedule]]\nfrom = 1929\nregime = "nep"\n[[schedule]]\nfrom = 1935\nregime = "nep"\n',
     "schedule[1].from: 1935 is after end_year 1931"),
    # (fuzzing: 1829 for 1929 ran the regime from 1913 on, replacing the base's whole history, and exited 0)
    ('[[schedule]]\nfrom = 1829\nregime = "nep"\n', "schedule[0].from: 1829 is before start_year 1913"),
], ids=["repeated", "after_end", "before_start"])
def test_schedule_repeated_or_outside_the_years_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   schedule: str, message: str) -> None:
    path = _write(tmp_path, 'name = "ds"\nend_year = 1931\n' + schedule)
    with pytest.raises(SimulateError, match=r"scenario\.toml: " + message.replace("[", r"\[").replace("]", r"\]")):
        load_scenario_file(path)
    err = _error_lines(capsys, ["simulate", "--scenario", str(path), "--out", str(tmp_path / "o"),
                                "--households", "100"])
    assert message in err[0] and str(path) in err[0]


# --- Found by a helper's fuzzing of the simulator (session 23) ---------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ('name = "t"\n[regimes.nep]\nbase = "war_communism"\n[[schedule]]\nfrom = 1935\nregime = "nep"\n',
     "regimes.nep: a built-in regime has that name"),
    ('name = "t"\n[regimes.""]\nbase = "nep"\n', "regimes: a regime needs a name"),
    ('name = "t"\nstart_year = 9223372036854775800\nend_year = 9223372036854775807\n[[schedule]]\n'
     'from = 9223372036854775800\nregime = "nep"\n', "start_year must be a year from 1 to 9999"),
    ('name = "t"\nstart_year = -100\nend_year = -90\n[[schedule]]\nfrom = -100\nregime = "nep"\n',
     "start_year must be a year from 1 to 9999"),
    ('name = "t"\n[regimes.mild]\nbase = "nep"\nlegal_market = 0.5\n', "legal_market: must be a whole number (0/1)"),
    ('name = "t"\n[regimes.mild]\nbase = "nep"\ntarget_kind = 1.5\n', "target_kind: must be a whole number (index)"),
])
def test_a_scenario_file_that_would_mislead_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       text: str, message: str) -> None:
    """A user regime named nep, based on war communism, ran the base scenario's NEP years (1921-28) as war
    communism under the label nep; a year of 9.2e18 was accepted and printed through a float; a switch of 0.5 was
    "on" for price clearing and half for market sales, and a target_kind of 1.5 rounded to quality."""
    path = _write(tmp_path, text)
    with pytest.raises(SimulateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_scenario_file(path)
    err = _error_lines(capsys, ["simulate", "--scenario", str(path), "--out", str(tmp_path / "o"),
                                "--households", "100"])
    assert message in err[0] and not (tmp_path / "o").exists()


def test_the_python_api_checks_what_the_cli_checks() -> None:
    """Seeds of -1, 1.5 or None, households of 100.0, runs of 0, an unsorted schedule (an entry silently never in
    force), shocks that make negative harvests or populations, and a second run of one model (records appended
    with the same years) are refused with a SimulateError naming the argument."""
    from needplan.simulate import run_ensemble
    from needplan.simulate.scenarios import Scenario, Shock

    history = get_scenario("ussr-1913-1940")
    for seed in (-1, 1.5, None, True):
        with pytest.raises(SimulateError, match="seed must be a whole number"):
            Model(history, seed=seed, n_households=100)  # type: ignore[arg-type]
    with pytest.raises(SimulateError, match="n_households must be a whole number"):
        Model(history, seed=0, n_households=100.0)  # type: ignore[arg-type]
    with pytest.raises(SimulateError, match="runs must be a whole number of 1 or more"):
        run_ensemble(history, runs=0, n_households=100)
    with pytest.raises(SimulateError, match="schedule years must rise"):
        Scenario("u", "", 1913, 1916, ((1913, "nep"), (1918, "war_communism"), (1915, "tsarist_baseline")))
    for field, value in (("weather", -1.0), ("war_deaths_m", float("nan")), ("capital_destruction", 2.0),
                         ("export_factor", -5.0), ("horse_requisition_share", 2.0)):
        with pytest.raises(SimulateError, match=f"shock {field}: must be"):
            Shock(**{field: value})
    short = Scenario("short", "", 1913, 1914, history.schedule, shocks=history.shocks)
    model = Model(short, seed=1, n_households=100)
    assert [r.year for r in model.run()] == [1913, 1914]
    with pytest.raises(SimulateError, match="already run"):
        model.run()


def test_legal_shocks_that_exhaust_what_there_is_are_refused_or_bounded() -> None:
    """A helper's fuzzing of the Python API: war deaths of 200 million (a finite amount of 0 or more, as Shock
    checks) made a population of -39 M; a capital destruction of 1 with wear on top made capacity negative and the
    industrial index -inf; an industry_disruption of 0 in the start year raised a ZeroDivisionError."""
    from needplan.simulate.scenarios import Scenario, Shock

    war = Scenario("w", "", 1913, 1915, ((1913, "tsarist_baseline"),), shocks={1914: Shock(war_deaths_m=200.0)})
    with pytest.raises(SimulateError, match="the shock of 1914: war deaths of 200 million people are more than"):
        run_scenario(war, seed=0, n_households=100)
    for year in (1913, 1915):
        razed = Scenario("cd", "", 1913, 1920, ((1913, "war_communism"),),
                         shocks={year: Shock(capital_destruction=1.0)})
        series, _ = run_scenario(razed, seed=0, n_households=200)
        index = series["industrial_output_index"].to_numpy()
        assert np.isfinite(index).all() and index.min() >= 0.0, index
        assert index[year - 1913 + 1] < 0.2 * index[year - 1913]  # only what was being built is left
    with pytest.raises(SimulateError, match="the shock of the start year 1913 stops all industry"):
        Scenario("z", "", 1913, 1916, ((1913, "war_communism"),), shocks={1913: Shock(industry_disruption=0.0)})


@pytest.mark.parametrize(("lever", "value", "says"), [
    ("legal_market", 0.5, "legal_market must be a whole number (0/1), got 0.5"),
    ("target_kind", 1.5, "target_kind must be a whole number (index), got 1.5"),
    ("plan_indicators", 2.5, "plan_indicators must be a whole number (count), got 2.5"),
    ("money_tax_rate", "0.1", "money_tax_rate must be a number (share), got '0.1'"),
])
def test_a_regime_built_in_python_is_checked_as_a_file_is(lever: str, value: object, says: str) -> None:
    """A helper's fuzzing: Regime(legal_market=0.5) and target_kind 1.5 (read as 'quality') were taken, though a
    file is refused them, and a lever given as text raised a TypeError."""
    from needplan.simulate.regimes import Regime

    with pytest.raises(SimulateError, match=re.escape(f"regime x: {says}")):
        Regime(name="x", description="", **{lever: value})  # type: ignore[arg-type]
    assert Regime(name="x", description="", legal_market=True).legal_market == 1  # a bool is 0 or 1, as in files


def test_summary_gives_the_median_of_the_runs_totals_and_the_years_it_ran(tmp_path: Path) -> None:
    """With --runs 9 the famine toll read 15.8 million, a sum of yearly medians below the median run's 17.1; a
    span to 1990 showed no year after 1940 (only 1913-1940 were looked for), and a run ending in 1920 listed
    1921's NEP and 1929's collectivization in its schedule."""
    out = tmp_path / "ens"
    main_code = _run_ok(["simulate", "--scenario", "ussr-1913-1940", "--households", "100", "--runs", "5",
                         "--out", str(out)])
    assert main_code == 0
    runs = pd.read_csv(out / "runs.csv")
    totals = runs.groupby("run")["famine_excess_deaths_m"].sum()
    summary = (out / "summary.md").read_text()
    assert f"{totals.median():.1f} million (median of the 5 runs' totals" in summary, summary
    late = _write(tmp_path, 'name = "late"\nend_year = 1990\n[[schedule]]\nfrom = 1950\nregime = "nep"\n',
                  "late.toml")
    assert _run_ok(["simulate", "--scenario", str(late), "--households", "100", "--out", str(tmp_path / "l")]) == 0
    rows = [ln for ln in (tmp_path / "l" / "summary.md").read_text().splitlines() if ln.startswith("| 19")]
    assert [int(ln.split("|")[1]) for ln in rows] == [*SUMMARY_YEARS, 1950, 1960, 1970, 1980, 1990]
    early = _write(tmp_path, 'name = "early"\nend_year = 1920\n', "early.toml")
    assert _run_ok(["simulate", "--scenario", str(early), "--households", "100", "--out", str(tmp_path / "e")]) == 0
    schedule = next(ln for ln in (tmp_path / "e" / "summary.md").read_text().splitlines()
                    if ln.startswith("Schedule:"))
    assert schedule == "Schedule: 1913 tsarist_baseline, 1918 war_communism", schedule


def _run_ok(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_a_name_that_would_break_the_markdown_and_a_file_not_ending_in_toml(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario named "a | b" added a column to compare.md's table; one with a line break broke the headings; a
    file named my.TOML was looked up as a built-in scenario without a word on why."""
    path = _write(tmp_path, 'name = "a\\nb"\n')
    with pytest.raises(SimulateError, match="name: must be one line of printable text"):
        load_scenario_file(path)
    piped = _write(tmp_path, 'name = "a | b"\nend_year = 1914\n', "piped.toml")
    out = tmp_path / "c"
    assert _run_ok(["compare", "ussr-1913-1940", str(piped), "--households", "100", "--out", str(out)]) == 0
    row = next(ln for ln in (out / "compare.md").read_text().splitlines() if ln.startswith("| a"))
    assert row.startswith("| a \\| b | 1913 | 1914 |"), row
    upper = _write(tmp_path, 'name = "u"\n', "my.TOML")
    err = _error_lines(capsys, ["simulate", "--scenario", str(upper), "--out", str(tmp_path / "o"),
                                "--households", "100"])
    assert "a scenario file's name must end in .toml" in err[0], err
    # (a helper's fuzzing: "" is the folder ".", which exists, and got the same hint)
    err = _error_lines(capsys, ["simulate", "--scenario", "", "--out", str(tmp_path / "o"), "--households", "100"])
    assert err[0].startswith("error: unknown scenario ''") and ".toml" not in err[0], err
    twin = _write(tmp_path, 'name = "same"\nend_year = 1914\n', "one.toml")
    other = _write(tmp_path, 'name = "same"\nend_year = 1915\n', "two.toml")
    err = _error_lines(capsys, ["compare", str(twin), str(other), "--households", "100", "--out",
                                str(tmp_path / "c2")])
    assert "scenario same given twice (or two .toml files give that name = ...)" in err[0], err


# --- Found by a helper reading the simulator as a teacher would (session 24) --------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    # its summary and charts carried the built-in's name and the historical record's crosses
    ('name = "ussr-1913-1940"\n[[schedule]]\nfrom = 1929\nregime = "left_opposition"\n',
     "name: 'ussr-1913-1940' is a built-in scenario's name"),
    # began 1929 with 1913's economy (38.6 M horses, no civil war), every index rebased to 1929
    ('name = "t"\nstart_year = 1929\n[[schedule]]\nfrom = 1929\nregime = "nep"\n',
     "start_year: the simulation starts from the economy of 1913"),
    ('name = "t"\n[regimes.a]\nbase = "b"\n[regimes.b]\nbase = "a"\n[regimes.c]\nbase = "a"\n',
     "regimes.a.base: regimes a -> b -> a start from each other"),
    ('name = "t"\n[regimes.a]\nbase = "a"\n', "regimes.a.base: a starts from itself"),
    # a review: a base that is no name raised TypeError (unhashable) in the ordering of the file's regimes
    ('name = "t"\n[regimes.a]\nbase = ["nep"]\n', "regimes.a.base: unknown regime ['nep']"),
    ('name = "t"\nstart_year = 1900\n', "start_year: the simulation starts from the economy of 1913, calibrated "
                                          "to the record, so it cannot start in 1900"),
    ('name = "t"\n[regimes.mild]\nbase = "nep"\nplan_indicators = 200.5\n',
     "plan_indicators: must be a whole number (count)"),
])
def test_a_scenario_file_that_misleads_a_class_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SimulateError, match=re.escape(message)):
        load_scenario_file(path)
    err = _error_lines(capsys, ["simulate", "--scenario", str(path), "--out", str(tmp_path / "o"),
                                "--households", "100"])
    assert message in err[0] and not (tmp_path / "o").exists()


def test_a_regime_may_start_from_one_defined_later_in_the_file(tmp_path: Path) -> None:
    """The file's regimes were read in order, so a base defined below was "unknown regime"."""
    path = _write(tmp_path, 'name = "t"\n[regimes.second]\nbase = "first"\nplan_indicators = 7\n'
                            '[regimes.first]\nbase = "nep"\ntraining_rate = 0.3\n'
                            '[[schedule]]\nfrom = 1929\nregime = "second"\n')
    second = load_scenario_file(path).regimes["second"]
    assert second.plan_indicators == 7 and second.training_rate == 0.3


def test_a_scenario_s_name_instead_of_the_scenario_is_refused_clearly() -> None:
    with pytest.raises(SimulateError, match=r"scenario must be a Scenario .* got str 'ussr-1913-1940'"):
        run_scenario("ussr-1913-1940")  # type: ignore[arg-type]


def test_characters_the_fonts_lack_are_one_note_not_a_warning_each(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario named in Chinese printed 17 lines of matplotlib's glyph warnings, each with needplan's source."""
    text = 'name = "\u8ba1\u5212\u7ecf\u6d4e"\n[[schedule]]\nfrom = 1929\nregime = "nep"\n'
    path = _write(tmp_path, text, "cjk.toml")
    assert _run_ok(["simulate", "--scenario", str(path), "--households", "100", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["note: the fonts here have no glyph for \u8ba1 \u5212 \u7ecf \u6d4e: the figures show boxes for "
                   "them (a font that has them, such as Noto Sans CJK, draws them)"], err


def test_compare_with_runs_gives_medians(tmp_path: Path) -> None:
    """A newcomer: compare had no --runs, and one seed's famine can be a third of another's."""
    from needplan.simulate import run_ensemble

    out = tmp_path / "cmp"
    assert _run_ok(["compare", "ussr-1913-1940", "ussr-left-opposition", "--runs", "3", "--households", "200",
                    "--out", str(out)]) == 0
    md = (out / "compare.md").read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| ussr-1913-1940 "))
    stacked, _ = run_ensemble(get_scenario("ussr-1913-1940"), seed=0, runs=3, n_households=200)
    totals = stacked.groupby("run")["famine_excess_deaths_m"].sum()
    assert row.split("|")[6].strip() == f"{float(np.median(totals)):.3g}"
    assert "the median of 3 runs" in md and "`*_last5` the mean of the last 5 simulated years" in md


def test_long_scenario_names_keep_their_start_and_end_in_the_legend(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper's audit: a scenario named with 400 characters left the panels no room, and matplotlib's "Tight
    layout not applied" came five times on standard error (an error under this suite's warnings filter)."""
    import matplotlib.pyplot as plt

    from needplan.simulate import SERIES_COLUMNS
    from needplan.simulate.plots import LEGEND_CHARS, plot_theme

    figures: list[plt.Figure] = []
    monkeypatch.setattr(plt, "close", figures.append)
    series = pd.DataFrame({c: [1.0, 2.0] for c in SERIES_COLUMNS} | {"year": [1913, 1914]})
    names = ["N" * 400 + " one", "N" * 400 + " two", "short"]
    plot_theme({name: series for name in names}, "herds", tmp_path / "herds.png")
    shown = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    assert shown[2] == "short" and shown[0] != shown[1]
    assert all(len(s) == LEGEND_CHARS and s.endswith(n[-14:]) for s, n in zip(shown[:2], names, strict=False))
