"""Planning imported tables: ``import-sut --resource-scale``, ``sut-series`` on the hand-made table, the shipped
Spain 2019 economy and (when present) the shared INE and SCB workbooks, and one-line errors for bad options.

With one technique per product the ray optimum is the non-substitution result: fulfilment = min over labour
and resources of available / (embodied per unit of need . needs). The tests check that known answer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needplan.analysis import analyze
from needplan.cli import main
from needplan.data.sut import import_sut, parse_years, shipped_economy, write_import
from needplan.data.sut.common import SutError
from needplan.economy import read_economy
from needplan.plan import plan

TABLE = Path(__file__).parent / "data" / "sut_csv"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sut"
INE = DATA / "spain_ine"
SCB = DATA / "sweden" / "sut_2008_2016.xlsx"


def _run(args: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code in (0, None)


def _ray_known_answer(economy) -> float:
    """available / embodied in the needs, smallest over primaries: the ray optimum with one technique each."""
    result = analyze(economy)
    embodied = result.embodied.T @ result.final_demand
    available = pd.Series(economy.available[economy.primaries], index=economy.goods[economy.primaries])
    return float((available / embodied).min())


def test_resource_scale_caps_co2_and_fulfilment_falls(tmp_path: Path, capsys) -> None:
    fulfilment = {}
    for factor in ("1", "0.8", "0.5"):
        out = tmp_path / f"co2_{factor}"
        _run(["import-sut", str(TABLE), str(out), "--format", "csv", "--resource-scale", f"CO2={factor}"])
        assert f"co2 x {factor}: 14 -> {14 * float(factor):g}" in capsys.readouterr().out
        economy = read_economy(out)
        assert economy.available[economy.goods.get_loc("co2")] == pytest.approx(14 * float(factor), rel=1e-12)
        assert f'resource_scale = ["co2 x {factor}' in (out / "economy.toml").read_text()
        result = plan(economy, "ray")
        fulfilment[factor] = result.fulfilment
        # Both labour (196) and CO2 (14) are exactly used by the table's final demand: the cap is what binds.
        assert result.fulfilment == pytest.approx(min(1.0, float(factor)), rel=1e-6)
        if factor != "1":
            assert list(result.bottlenecks["constraint"]) == ["co2"]
    assert fulfilment["1"] > fulfilment["0.8"] > fulfilment["0.5"]


def test_series_with_capacity_headroom_names_the_binding_capacities(tmp_path: Path, capsys) -> None:
    """Harmony with no headroom: labour and CO2 (exactly what the table's final demand uses) and two or three of the
    capacities bind (every limit is reached at once, so the prices are not unique: fast's dual gave the third 6e-6
    once its rents were scaled by what an activity makes); series.csv lists them all, the console line the first
    three and how many more. With 1%
    headroom the capacities are 1% above the plan's activities and do not bind (until session 23 two of them were
    listed, "fully used (200 of 202)", their prices a rounding residue of 5e-18 beside a harmony of -3e-14)."""
    src = tmp_path / "tables"
    shutil.copytree(TABLE, src / "2019")
    out = tmp_path / "series"
    _run(["sut-series", str(src), "--format", "csv", "--years", "2019", "--objective", "harmony",
          "--capacity-headroom", "0", "--out", str(out)])
    row = pd.read_csv(out / "series.csv").iloc[0]
    result = plan(import_sut(src / "2019", "csv", capacity_headroom=0.0)[0], "harmony")
    assert row["objective_name"] == "harmony" and row["fulfilment"] <= row["median_fulfilment"]
    assert row["median_fulfilment"] == pytest.approx(result.needs["fulfilment"].median(), rel=1e-9)
    assert row["quantity_index"] == pytest.approx(result.indices["quantity"], rel=1e-9)
    binding = row["binding"].split(";")
    assert len(binding) in (4, 5) and {"labour_fte", "co2"} < set(binding)
    assert {b for b in binding if b.startswith("make_")} <= {"make_a", "make_b", "make_c"}
    err = " ".join(capsys.readouterr().err.split())
    assert f"binding: {', '.join(binding[:3])} and {len(binding) - 3} more" in err, err
    roomy = plan(import_sut(src / "2019", "csv", capacity_headroom=0.01)[0], "harmony")
    assert list(roomy.bottlenecks["constraint"]) == ["labour_fte", "co2"]


def test_series_on_csv_years_writes_table_plot_and_breakdown(tmp_path: Path, capsys) -> None:
    src = tmp_path / "tables"
    shutil.copytree(TABLE, src / "2018")
    shutil.copytree(TABLE, src / "2019")
    # 2019 has 10% more labour in every industry: still the same CO2, so only 2018's fulfilment is labour-bound.
    (src / "2019" / "labour.csv").write_text("industry,amount\nX,49.5\nY,138.6\nZ,27.5\n")
    out = tmp_path / "series"
    _run(["sut-series", str(src), "--format", "csv", "--years", "2018-2019", "--needs", "household",
          "--out", str(out)])
    series = pd.read_csv(out / "series.csv")
    assert list(series["year"]) == [2018, 2019]
    for row in series.itertuples():
        economy = import_sut(src / str(row.year), "csv", needs="household")[0]
        assert row.fulfilment == pytest.approx(_ray_known_answer(economy), rel=1e-6)
        assert row.labour_fte_used <= row.labour_fte_available * (1 + 1e-9)
    assert (out / "series.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    breakdown = pd.read_csv(out / "primaries_by_product.csv")
    for (_, _), group in breakdown.groupby(["year", "good"]):
        assert group["need_share"].sum() == pytest.approx(1.0, rel=1e-9)
    assert "wrote" in capsys.readouterr().out


def test_a_change_of_classification_is_counted_and_noted(tmp_path: Path, capsys) -> None:
    """Found by fuzzing Spain 2010-2019 under harmony: the objective rose from 2.47 in 2015 to 4.03 in 2016 only
    because INE's tables went from 63 products to 109, and nothing said so. series.csv counts each year's products,
    and the command notes a change."""
    src = tmp_path / "years"
    write_import(import_sut(TABLE, "csv")[0], src / "2018")
    write_import(shipped_economy("spain_2019"), src / "2019")
    out = tmp_path / "series"
    _run(["sut-series", str(src), "--format", "economy", "--years", "2018-2019", "--out", str(out)])
    series = pd.read_csv(out / "series.csv")
    small, spain = (read_economy(src / str(year)).products.size for year in (2018, 2019))
    assert list(series["products"]) == [small, spain] and small != spain
    assert (f"note: 2019 lists {spain:,} products against {small:,} in 2018 (a change of classification)"
            in capsys.readouterr().out)


def test_series_on_the_shipped_spain_2019_economy(tmp_path: Path) -> None:
    src = tmp_path / "economies"
    write_import(shipped_economy("spain_2019"), src / "2019")
    out = tmp_path / "series"
    _run(["sut-series", str(src), "--format", "economy", "--years", "2019", "--resource-scale",
          "labour_fte=0.9", "--out", str(out)])
    row = pd.read_csv(out / "series.csv").iloc[0]
    # needs = the table's whole final demand, which takes exactly the table's employment: 90% of it gives 90%.
    assert row["fulfilment"] == pytest.approx(0.9, rel=1e-6)
    assert row["binding"] == "labour_fte"
    assert row["labour_fte_available"] == pytest.approx(0.9 * 18_490_200.0, rel=1e-12)
    assert row["status"] == "optimal"


def test_a_year_with_nothing_to_plan_is_named(tmp_path: Path, capsys) -> None:
    """Fuzzing: a year whose needs were all 0 stopped the series with "needs: no product has a positive
    target", naming neither the year nor its folder."""
    src = tmp_path / "economies"
    write_import(shipped_economy("spain_2019"), src / "2019")
    shutil.copytree(src / "2019", src / "2020")
    needs = pd.read_csv(src / "2020" / "needs.csv")
    needs.assign(target=0.0).to_csv(src / "2020" / "needs.csv", index=False)
    with pytest.raises(SystemExit) as info:
        main(["sut-series", str(src), "--format", "economy", "--years", "2019-2020", "--out", str(tmp_path / "s")])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert f"error: 2020 ({src / '2020'}): needs: no product has a positive target" in err
    assert not (tmp_path / "s").exists()


def test_parse_years() -> None:
    assert parse_years("2010-2012,2019") == [2010, 2011, 2012, 2019]
    assert parse_years("2016") == [2016]


@pytest.mark.parametrize("text", ["0019", "2019,0019", "\u0662\u0660\u0661\u0669", "2010-\u0662\u0660\u0661\u0669"])
def test_years_are_four_ascii_digits(text: str) -> None:
    """Helper's audit: ``0019`` passed as year 19 (refused later by the workbook, not by --years), and
    Arabic-Indic digits read as 2019."""
    with pytest.raises(SutError, match="--years: expected years such as 2010-2019"):
        parse_years(text)


@pytest.mark.parametrize(("extra", "message"), [
    (["--format", "xls", "--years", "2019"], "--format: must be one of ine, scb, csv, economy, got 'xls'"),
    (["--format", "csv", "--years", "2019-2010"], "--years: expected years such as 2010-2019"),
    (["--format", "csv", "--years", "2019", "--objective", "most"], "--objective: must be one of"),
    (["--format", "csv", "--years", "2019", "--resource-scale", "CO2"], "expected GOOD=FACTOR"),
    (["--format", "csv", "--years", "2019", "--resource-scale", "CO2=-1"], "expected GOOD=FACTOR"),
    (["--format", "csv", "--years", "2019", "--resource-scale", "oil=0.5"], "names no labour or resource good"),
    (["--format", "csv", "--years", "2017"], "no source for 2017"),
    (["--format", "csv", "--years", "2019", "--weights", "size"], "--weights: must be one of value, equal"),
    (["--format", "csv", "--years", "2019", "--capacity-headroom", "-0.5"], "--capacity-headroom: must be a number"),
    (["--format", "economy", "--years", "2019", "--capacity-headroom", "0.1"], "apply only to tables"),
])
def test_bad_series_arguments_one_line_exit_1(tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    src = tmp_path / "tables"
    shutil.copytree(TABLE, src / "2019")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["sut-series", str(src), "--out", str(out), *extra])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


@pytest.mark.skipif(not INE.is_dir() or not SCB.is_file(), reason="../shared/data/sut is absent")
def test_series_on_the_shared_workbooks(tmp_path: Path) -> None:
    out = tmp_path / "spain"
    _run(["sut-series", str(INE), "--format", "ine", "--years", "2018-2019", "--needs", "household",
          "--out", str(out)])
    spain = pd.read_csv(out / "series.csv").set_index("year")
    economy = shipped_economy("spain_2019")
    household = import_sut(INE / "sut_2019.xlsx", "ine", needs="household")[0]
    assert spain.loc[2019, "fulfilment"] == pytest.approx(_ray_known_answer(household), rel=1e-6)
    assert 2.0 < spain.loc[2018, "fulfilment"] < spain.loc[2019, "fulfilment"] < 3.0
    assert spain.loc[2019, "labour_fte_available"] == pytest.approx(
        economy.available[economy.goods.get_loc("labour_fte")], rel=1e-12)

    out = tmp_path / "sweden"
    _run(["sut-series", str(SCB), "--format", "scb", "--years", "2016", "--labour", "hours",
          "--resource-scale", "CO2=0.7", "--out", str(out)])
    sweden = pd.read_csv(out / "series.csv").iloc[0]
    assert sweden["fulfilment"] == pytest.approx(0.7, rel=1e-6) and sweden["binding"] == "co2"
    # The shadow price of CO2 under the ray is 1 / (CO2 embodied in the needs at full fulfilment).
    breakdown = pd.read_csv(out / "primaries_by_product.csv").query("good == 'co2'")
    assert sweden["co2_shadow_price"] == pytest.approx(1.0 / breakdown["in_needs"].sum(), rel=1e-6)
    assert np.isclose(sweden["co2_used"], sweden["co2_available"], rtol=1e-9)


def test_series_prints_a_fulfilment_of_rounding_noise_as_zero_and_keeps_small_prices() -> None:
    """Harmony leaves some needs at 0 to rounding (Sweden 2008, CO2 capped: -1.1e-13); a shadow price of 1e-10
    per hour of labour is a price, not noise."""
    from needplan.cli.sut_commands import _fmt

    assert _fmt(-1.13374e-13, "fulfilment") == "0" and _fmt(0.981241, "fulfilment") == "0.981241"
    assert _fmt(1e-10, "labour_hours_shadow_price") == "1e-10" and _fmt(float("nan"), "fulfilment") == ""


def test_a_year_without_a_plan_is_marked_in_the_figure(tmp_path, monkeypatch) -> None:
    """Found by fuzzing: years with no plan were empty gaps, and with one of two years infeasible the axis
    narrowed to the other, drawing both year labels on top of each other."""
    import matplotlib.pyplot as plt

    from needplan.report.series import plot_series

    frame = pd.DataFrame({"year": [2012, 2013, 2014], "objective_name": ["min-labour"] * 3,
                          "median_fulfilment": [1.0, np.nan, 1.0], "quantity_index": [1.0, np.nan, 1.0],
                          "co2_used": [5.0, np.nan, 5.0], "co2_available": [5.0, 5.0, 5.0]})
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure to look at
    plot_series(frame, tmp_path / "series.png", "t")
    top, bottom = figures[0].axes
    assert [t.get_text() for t in top.texts] == ["no plan"] and top.texts[0].get_position()[0] == 2013
    assert bottom.get_xlim() == (2011.5, 2014.5)


def test_names_with_dollar_signs_are_drawn_as_written(tmp_path, monkeypatch) -> None:
    """A series folder named "tab$_a_$" or a scenario "cost in $, % and $^": matplotlib read the "$" pairs as
    mathtext, mangling the first and stopping ``sut-series`` and ``compare`` with a ParseException traceback at the
    second (a helper's fuzzing)."""
    import matplotlib.pyplot as plt

    from needplan.report.series import plot_series
    from needplan.simulate import SERIES_COLUMNS
    from needplan.simulate.plots import plot_theme

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    frame = pd.DataFrame({"year": [2012, 2013], "fulfilment": [1.0, 1.1], "co$^2_used": [5.0, 4.0],
                          "co$^2_available": [5.0, 5.0]})
    plot_series(frame, tmp_path / "series.png", "tab$_a_$ 2012-2013")
    top, bottom = figures[0].axes
    assert top.get_title() == "tab$_a_$ 2012-2013" and not top.title.get_parse_math()
    assert [t.get_text() for t in bottom.get_legend().get_texts()] == ["co$^2"]
    series = pd.DataFrame({c: [1.0, 2.0] for c in SERIES_COLUMNS} | {"year": [1913, 1914]})
    plot_theme({"cost in $, % and $^": series}, "herds", tmp_path / "herds.png")
    assert [t.get_text() for t in figures[1].axes[0].get_legend().get_texts()] == ["cost in $, % and $^"]
    assert (tmp_path / "series.png").stat().st_size > 0 and (tmp_path / "herds.png").stat().st_size > 0


def test_direct_use_by_product_adds_up_to_the_plans_use_with_alternative_techniques(tmp_path: Path) -> None:
    """A helper's fuzzing: with the demo economy (the shoe factory is an alternative to the shoe workshop) the
    ``direct`` column counted each product's first technique only: 6,775 of the plan's 6,878 unskilled hours. Every
    technique the plan runs now counts toward its main product, so the column adds up to ``<good>_used``."""
    from needplan.data import demo_folder

    src = tmp_path / "economies"
    shutil.copytree(demo_folder(), src / "2001")
    out = tmp_path / "series"
    _run(["sut-series", str(src), "--format", "economy", "--years", "2001", "--out", str(out)])
    row = pd.read_csv(out / "series.csv").iloc[0]
    direct = pd.read_csv(out / "primaries_by_product.csv").groupby("good")["direct"].sum()
    result = plan(read_economy(demo_folder()), "ray")
    assert result.activity.at["shoe_factory", "activity"] > 0  # the alternative runs
    for good, used in direct.items():
        assert used == pytest.approx(row[f"{good}_used"], rel=1e-12), good
    assert direct["labour_unskilled"] == pytest.approx(float(result.primaries.at["labour_unskilled", "used"]),
                                                       rel=1e-12)
