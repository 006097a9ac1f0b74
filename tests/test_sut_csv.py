"""The hand-made three-product table (tests/data/sut_csv) against answers worked by hand, and bad tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needplan.analysis import analyze
from needplan.cli import main
from needplan.data.sut import SutError, import_sut
from needplan.data.sut.common import product_technology, remove_negatives
from needplan.plan import build_plan

TABLE = Path(__file__).parent / "data" / "sut_csv"

# Worked by hand from supply.csv, use.csv, labour.csv, emissions.csv (see docs/real-data.md):
# industry technology A = U diag(1/g) S^T diag(1/q) with g = (90, 210, 50), q = (100, 200, 50).
INDUSTRY_A = {("a", "a"): 0.1, ("b", "a"): 0.2, ("c", "a"): 0.01, ("a", "b"): 0.1, ("b", "b"): 0.2,
              ("c", "b"): 0.1, ("a", "c"): 0.1, ("c", "c"): 0.2}
INDUSTRY_LABOUR = {"a": 0.51, "b": 0.6, "c": 0.5}
# product technology A = U S^-1; the CO2 row has one negative coefficient (b: -0.005) set to 0, and the row
# (0.1, 0, 0.1) rescaled by 14/15 so that total CO2 stays 14.
PRODUCT_A = {("a", "a"): 0.1, ("b", "a"): 0.2, ("a", "b"): 0.1, ("b", "b"): 0.2, ("c", "b"): 0.105,
             ("a", "c"): 0.1, ("c", "c"): 0.2}
PRODUCT_LABOUR = {"a": 0.5, "b": 0.605, "c": 0.5}
PRODUCT_CO2 = {"a": 0.1 * 14 / 15, "c": 0.1 * 14 / 15}


def _coefficients(economy, good_kind: str = "product") -> dict[tuple[str, str], float]:
    inputs = economy.tables()["inputs"]
    return {(g, t.removeprefix("make_")): a for t, g, a in inputs.itertuples(index=False)}


@pytest.mark.parametrize(("assumption", "A", "labour", "co2", "negatives"), [
    ("industry", INDUSTRY_A, INDUSTRY_LABOUR, {"a": 0.09, "c": 0.1}, 0),
    ("product", PRODUCT_A, PRODUCT_LABOUR, PRODUCT_CO2, 1),
])
def test_hand_made_table_known_answer(assumption, A, labour, co2, negatives) -> None:
    economy, report = import_sut(TABLE, "csv", assumption=assumption)
    got = _coefficients(economy)
    products = {k: v for k, v in got.items() if k[0] in ("a", "b", "c")}
    assert products.keys() == A.keys()
    for key, value in A.items():
        assert products[key] == pytest.approx(value, rel=1e-12)
    for p, v in labour.items():
        assert got[("labour_fte", p)] == pytest.approx(v, rel=1e-12)
    assert {p: v for (g, p), v in got.items() if g == "co2"} == pytest.approx(co2, rel=1e-12)
    assert report.negative_coefficients == negatives
    needs = economy.tables()["needs"].set_index("good")["target"]
    assert needs.to_dict() == {"a": 65.0, "b": 140.0, "c": 19.0}
    res = economy.tables()["resources"].set_index("good")["available"]
    assert res["labour_fte"] == 196.0 and res["co2"] == 14.0
    # The identity: the table's final demand needs exactly the table's output and labour.
    result = analyze(economy)
    assert result.gross_output.to_dict() == pytest.approx({"a": 100.0, "b": 200.0, "c": 50.0}, rel=1e-12)
    assert float(result.embodied["labour_fte"] @ result.final_demand) == pytest.approx(196.0, rel=1e-12)
    assert report.identity_output < 1e-12


def test_needs_select_categories_and_labour_measure_is_never_invented(tmp_path: Path) -> None:
    economy, report = import_sut(TABLE, "csv", needs="exports")
    assert economy.tables()["needs"].set_index("good")["target"].to_dict() == {"a": 15.0, "b": 40.0}
    assert report.needs_categories == ("exports",)
    with pytest.raises(SutError, match="unknown final-use category 'housing'"):
        import_sut(TABLE, "csv", needs="housing")
    table = tmp_path / "t"
    shutil.copytree(TABLE, table)
    (table / "labour.csv").write_text("industry,fte\nX,45\nY,126\nZ,25\n")
    economy, report = import_sut(table, "csv", labour="fte")
    assert report.labour_measure == "labour_fte"
    with pytest.raises(SutError, match="has no 'hours' labour figures"):
        import_sut(table, "csv", labour="hours")


def test_labour_in_money_by_default_is_said(tmp_path: Path) -> None:
    """Fuzzing: an INE workbook with its employment rows blank imported compensation of employees as labour, in
    million EUR, unannounced (and --help named only fte, hours, persons as the default's order)."""
    table = tmp_path / "t"
    shutil.copytree(TABLE, table)
    money = "labour is measured by compensation of employees, in money"
    (table / "labour.csv").write_text("industry,jobs,compensation\nX,,45\nY,,126\nZ,,25\n")
    _, report = import_sut(table, "csv")
    assert report.labour_measure == "labour_compensation" and any(money in n for n in report.notes)
    _, report = import_sut(table, "csv", labour="compensation")  # asked for: nothing to say
    assert not any(money in n for n in report.notes)
    (table / "labour.csv").write_text("industry,jobs,compensation\nX,4,45\nY,12,126\nZ,2,25\n")
    _, report = import_sut(table, "csv")
    assert report.labour_measure == "labour_jobs" and not any(money in n for n in report.notes)


def test_missing_labour_figure_is_reported_not_filled(tmp_path: Path) -> None:
    table = tmp_path / "t"
    shutil.copytree(TABLE, table)
    (table / "labour.csv").write_text("industry,amount\nX,45\nY,126\n")
    _, report = import_sut(table, "csv")
    assert report.industries_without_labour == ("Z",)
    assert report.labour_total == 171.0


@pytest.mark.parametrize("seed", range(5))
def test_product_technology_leaves_no_roundoff_of_the_pseudo_inverse(seed: int) -> None:
    """A product made by one industry alone, which makes nothing else (imputed rents): its inputs are that industry's
    divided by its output, and nothing else. The pseudo-inverse's round-off gave it an input of every product, of
    1e-20 or so (Sweden 2012: 22 inputs down to 4e-23 per unit, on which HiGHS failed); known answer here."""
    rng = np.random.default_rng(seed)
    n, k = 40, 17
    S = np.diag(rng.uniform(100, 1000, n)) + rng.uniform(0, 50, (n, n)) * (rng.random((n, n)) < 0.3)
    S[k, :], S[:, k], S[k, k] = 0.0, 0.0, 500.0
    U = rng.uniform(0, 20, (n, n))
    U[:, k], U[3, k] = 0.0, 7.0
    P = rng.uniform(1, 5, (2, n))
    P[:, k] = [3.0, 0.0]
    assert np.count_nonzero(U @ np.linalg.pinv(S)[:, k]) > 1  # the round-off this is about
    A, R = product_technology(S, U, P)
    assert np.flatnonzero(A[:, k]).tolist() == [3] and A[3, k] == pytest.approx(7.0 / 500.0, rel=1e-12)
    assert np.flatnonzero(R[:, k]).tolist() == [0] and R[0, k] == pytest.approx(3.0 / 500.0, rel=1e-12)
    assert np.abs(A @ S - U).max() <= 1e-12 * np.abs(U).max()  # A S = U, as before
    assert np.abs(R @ S - P).max() <= 1e-12 * np.abs(P).max()


@pytest.mark.parametrize("assumption", ["industry", "product"])
def test_coefficients_do_not_depend_on_the_table_s_unit(tmp_path: Path, assumption: str) -> None:
    """Coefficients are ratios: the hand-made table in units of 1e154 gives the same ones. Fuzzing found product
    technology squaring such entries to inf in the round-off bound, every coefficient set to 0 and the table
    refused ("row 0 has no positive coefficient left")."""
    table = tmp_path / "t"
    shutil.copytree(TABLE, table)
    for name in ("supply.csv", "use.csv", "final_demand.csv"):
        frame = pd.read_csv(TABLE / name, index_col=0)
        (frame * 1e154).to_csv(table / name)
    base = import_sut(TABLE, "csv", assumption=assumption, labour=None)[0].tables()["inputs"]
    big = import_sut(table, "csv", assumption=assumption)[0].tables()["inputs"]
    products = base["good"].isin(["a", "b", "c"])
    merged = base[products].merge(big[big["good"].isin(["a", "b", "c"])], on=["technique", "good"])
    assert len(merged) == int(products.sum()) > 0
    np.testing.assert_allclose(merged["amount_y"], merged["amount_x"], rtol=1e-12)


def test_a_tiny_product_must_balance_too(tmp_path: Path) -> None:
    """Found by a helper's fuzzing: CSV tables are to balance exactly (to 1e-9 of each product's supply), but an
    allowance of 1e-9 units for rounding let a product of supply 1e-12 be used 5e-10, 500 times over, and the
    import scaled its use down unsaid. The rounding allowance is now 1e-9 of the product's own flows."""
    table = tmp_path / "t"
    shutil.copytree(TABLE, table)
    for name, row in (("supply.csv", "d,1e-12,0,0"), ("use.csv", "d,0,5e-10,0"), ("final_demand.csv", "d,0,0")):
        (table / name).write_text((TABLE / name).read_text() + row + "\n")
    with pytest.raises(SutError, match=r"product 'd': supply 1e-12 .* the table does not balance"):
        import_sut(table, "csv")
    (table / "use.csv").write_text((TABLE / "use.csv").read_text() + "d,0,1e-12,0\n")  # balanced: imports
    assert "d" in import_sut(table, "csv")[0].goods


def test_product_technology_says_when_its_fit_is_not_exact(tmp_path: Path) -> None:
    """Found by a helper's fuzzing: with two industries making only product a, with different inputs, the supply
    table's rank is below its industries' and A S = U holds only as a least-squares fit; the import said "identity
    check passed" (each row is rescaled to its total) and nothing of the misfit."""
    table = _bad(tmp_path, "supply.csv", "product,X,Y,Z\na,90,10,0\nb,0,0,200\nc,0,0,50\n")
    said = "product technology: the supply table's rank is below its 3 industries"
    _, report = import_sut(table, "csv", assumption="product")
    assert any(n.startswith(said) for n in report.notes), report.notes
    _, report = import_sut(table, "csv", assumption="industry")
    assert not any(said in n for n in report.notes)
    _, report = import_sut(TABLE, "csv", assumption="product")  # full rank: exact
    assert not any(said in n for n in report.notes)


def test_remove_negatives_keeps_row_totals() -> None:
    coeff = np.array([[0.1, -0.005, 0.1]])
    q = np.array([100.0, 200.0, 50.0])
    fixed, count = remove_negatives(coeff, q, np.array([14.0]))
    assert count == 1
    assert fixed @ q == pytest.approx([14.0])
    assert np.all(fixed >= 0)


def _bad(tmp_path: Path, name: str, text: str) -> Path:
    table = tmp_path / "bad"
    shutil.copytree(TABLE, table)
    (table / name).write_text(text)
    return table


@pytest.mark.parametrize(("name", "text", "message"), [
    ("use.csv", "product,X,Y,Z\na,9,21,5\nb,18,42,0\nd,0,21,10\n", "use.csv: products differ from supply.csv"),
    ("supply.csv", "product,X,Y,Z\na,90,10,0\nb,0,200,-1\nc,0,0,50\n",
     "supply.csv line 3, column 'Z': negative output -1"),
    ("use.csv", "product,X,Y,Z\na,9,21,5\nb,18,lots,0\nc,0,21,10\n", "use.csv line 3, column 'Y': not a number"),
    ("final_demand.csv", "", "final_demand.csv: file is empty"),
    # found by fuzzing: a negative labour figure used to fail only the identity check, naming no file or line
    ("labour.csv", "industry,amount\nX,-45\nY,60\nZ,30\n", "labour.csv line 2, column 'amount': negative labour -45"),
    ("final_demand.csv", "product,household\na,50\nb,100\nc,19\n", "product 'a'.*does not balance"),
    # found by a helper's fuzzing (session 23): a traceback, and a column read twice under a made-up name
    ("labour.csv", "industry\nX\nY\nZ\n", "labour.csv line 1: only the industry column"),
    ("final_demand.csv", "product\na\nb\nc\n", "final_demand.csv line 1: only the product column"),
    ("supply.csv", "product,X,Y,Y\na,90,10,0\nb,0,200,0\nc,0,0,50\n", "supply.csv line 1: column 'Y' is listed twice"),
    # found by a helper's fuzzing (session 32): figures that add up beyond double precision, each finite, ended in
    # a traceback ("d has non-finite entries") or named a table the user never wrote ("resources row 0")
    ("supply.csv", "product,X,Y,Z\na,1e308,1e308,0\nb,0,200,0\nc,0,0,50\n",
     "supply, product 'a': its figures add up beyond double precision"),
    ("labour.csv", "industry,amount\nX,1e308\nY,1e308\nZ,25\n", "labour.*: its figures add up beyond double precision"),
    ("emissions.csv", "industry,co2\nX,1e308\nY,1e308\nZ,5\n", "co2: its figures add up beyond double precision"),
    # (the same: a spreadsheet's empty rows read as ids "", named as "unknown industries " or left out as "")
    ("labour.csv", "industry,amount\nX,45\nY,126\nZ,25\n,\n", "labour.csv line 5: no industry id"),
    ("supply.csv", "product,X,Y,Z\na,90,10,0\n,,,\nb,0,200,0\nc,0,0,50\n", "supply.csv line 3: no product id"),
    # found by a helper's fuzzing (session 35): after a blank line, or a quoted cell holding a line break, the row
    # was named by its place in the table plus 2, the line before the bad cell
    ("use.csv", "product,X,Y,Z\na,9,21,5\n\nb,18,42,0\nc,0,2x1,10\n", "use.csv line 5, column 'Y': not a number"),
    ("use.csv", 'product,X,Y,Z\n"a",9,21,5\n"b\nsecond",18,42,0\nc,0,-21,10\n',
     "use.csv line 5, column 'Y': negative intermediate use -21"),
    ("labour.csv", "industry,amount\nX,45\n\nY,126\nZ,inf\n", "labour.csv line 5, column 'amount': not a finite"),
    ("supply.csv", "product,X,Y,Z\na,90,10,0\n\nb,0,200,0\na,0,0,50\n", "supply.csv line 5: product 'a' is listed"),
])
def test_bad_tables_exit_non_zero_and_write_nothing(tmp_path: Path, capsys, name, text, message) -> None:
    table = _bad(tmp_path, name, text)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["import-sut", str(table), str(out), "--format", "csv"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert pd.Series([err]).str.contains(message).all(), err
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_cli_writes_folder_and_prints_report(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["import-sut", str(TABLE), str(out), "--format", "csv", "--assumption", "product"])
    assert exit_info.value.code in (0, None)
    text = capsys.readouterr().out
    assert "identity check passed" in text
    assert "negative coefficients: 1" in text
    assert (out / "economy.toml").read_text().count('technology_assumption = "product"') == 1


def test_need_weights_and_capacity_headroom_known_answer(tmp_path: Path) -> None:
    """Needs 65, 140, 19 (mean 224/3): value weights 195/224, 420/224, 57/224; equal weights 1. A headroom of 0.1
    caps each technique at 1.1 times the table's output (100, 200, 50), and with a headroom of 0 the ray plan
    can still reach the table's own final demand, not beyond (fulfilment exactly 1)."""
    economy, report = import_sut(TABLE, "csv")
    weights = economy.tables()["needs"].set_index("good")["weight"].to_dict()
    assert weights == pytest.approx({"a": 195 / 224, "b": 420 / 224, "c": 57 / 224}, rel=1e-14)
    assert report.needs_weights == "value" and report.capacity_headroom is None
    assert np.isinf(economy.technique_capacity).all()
    economy, _ = import_sut(TABLE, "csv", weights="equal", capacity_headroom=0.1)
    assert economy.tables()["needs"]["weight"].tolist() == [1.0, 1.0, 1.0]
    caps = dict(zip(economy.techniques, economy.technique_capacity, strict=True))
    assert caps == pytest.approx({"make_a": 110.0, "make_b": 220.0, "make_c": 55.0}, rel=1e-14)
    assert "1.1 times the table's output" in economy.provenance["capacity_definition"]
    tight, _ = import_sut(TABLE, "csv", capacity_headroom=0.0, resource_scale={"labour_fte": 2.0})
    result = build_plan(tight, "ray").solve("highs", 1e-9)
    assert result.status == "optimal" and result.fulfilment == pytest.approx(1.0, rel=1e-9)
    assert set(result.bottlenecks["kind"]) == {"capacity"}
    with pytest.raises(SutError, match="capacity headroom: must be a number from 0 to 1e"):
        import_sut(TABLE, "csv", capacity_headroom=-0.1)
    with pytest.raises(SutError, match="unknown need weights 'size'"):
        import_sut(TABLE, "csv", weights="size")  # type: ignore[arg-type]


HEADROOM = "--capacity-headroom: must be a number from 0 to 1e+09 (leave it out for no limit), got"


@pytest.mark.parametrize(("option", "message"), [
    (["--weights", "size"], "--weights: must be one of value, equal, got 'size'"),
    (["--capacity-headroom", "-1"], f"{HEADROOM} -1"),
    (["--capacity-headroom", "nan"], f"{HEADROOM} nan"),
    # beyond it the capacities overflowed, and the error blamed the table's rows ("capacity is not finite")
    (["--capacity-headroom", "1e308"], f"{HEADROOM} 1e+308"),
])
def test_cli_refuses_bad_weights_and_headroom(tmp_path: Path, capsys, option: list[str], message: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["import-sut", str(TABLE), str(out), "--format", "csv", *option])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_the_format_is_told_from_the_source(tmp_path: Path, capsys) -> None:
    """A folder with supply.csv is csv; a workbook whose sheets are all years is SCB's, one with 'Table...' sheets
    INE's; for a series, a folder of workbooks is INE's and year sub-folders hold csv tables or economy folders.
    Anything else is one clear error asking for --format."""
    import openpyxl

    from needplan.data.sut import detect_format

    def workbook(name: str, sheets: list[str]) -> Path:
        wb = openpyxl.Workbook()
        wb.active.title = sheets[0]
        for sheet in sheets[1:]:
            wb.create_sheet(sheet)
        wb.save(tmp_path / name)
        return tmp_path / name

    assert detect_format(TABLE) == "csv"
    assert detect_format(workbook("scb.xlsx", ["2015", "2016"])) == "scb"
    assert detect_format(workbook("ine.xlsx", ["List of Tables", "Table1"])) == "ine"
    with pytest.raises(SutError, match=r"cannot tell the format from its sheets \(Sheet1, Notes\): pass --format"):
        detect_format(workbook("other.xlsx", ["Sheet1", "Notes"]))
    series = tmp_path / "series"
    shutil.copytree(TABLE, series / "2019")
    assert detect_format(series, series=True) == "csv"
    (series / "2019" / "economy.toml").write_text("")
    assert detect_format(series, series=True) == "economy"
    shutil.copy(tmp_path / "ine.xlsx", series / "sut_2019.xlsx")
    assert detect_format(series, series=True) == "ine"
    with pytest.raises(SutError, match="cannot tell the format of this folder"):
        detect_format(tmp_path / "series" / "2019" / "..")  # a folder without supply.csv
    with pytest.raises(SutError, match="no such file or folder"):
        detect_format(tmp_path / "sut_2019.xlsx")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["import-sut", str(TABLE), str(out)])  # no --format: csv, from the folder
    assert exit_info.value.code in (0, None) and (out / "economy.toml").is_file()
    with pytest.raises(SystemExit) as exit_info:
        main(["import-sut", str(tmp_path / "other.xlsx"), str(tmp_path / "out2")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "pass --format" in err and len(err.strip().splitlines()) == 1


def test_a_needs_category_given_twice_is_refused_not_summed_twice(tmp_path: Path) -> None:
    """Found by a helper's fuzzing: --needs household,household doubled every need (a=100, b=200, c=38)."""
    with pytest.raises(SutError, match="final-use category 'household' is given twice in needs"):
        import_sut(TABLE, "csv", needs="household,household")


def test_primary_inputs_that_would_mislead_are_refused_or_skipped(tmp_path: Path) -> None:
    """Found by a helper's fuzzing: an emissions.csv row of an unknown industry was dropped unseen (labour.csv
    refuses one); a negative CO2 cell in the SCB workbook was dropped unseen, so the economy could not meet its own
    table (any reader's negative labour or emission is now refused, naming the industry); and a labour measure
    with no figure at all (a blank FTE row) was chosen by default, importing labour as 0."""
    from dataclasses import replace

    from needplan.data.sut.common import build_from_table
    from needplan.data.sut.csv_tables import read_csv_tables

    table = _bad(tmp_path, "emissions.csv", "industry,co2\nX,9\nY,0\nZ,5\nW,3\n")
    with pytest.raises(SutError, match=r"emissions\.csv: unknown industries W"):
        import_sut(table, "csv")
    good = read_csv_tables(TABLE)
    co2 = good.emissions[0]
    negative = replace(good, emissions=(replace(co2, amount=co2.amount.where(co2.amount.index != "X", -1.0)),))
    with pytest.raises(SutError, match=r"co2 of industry 'X': negative .*: -1"):
        build_from_table(negative, fmt="csv")
    fte = good.labour["fte"]
    blank = replace(good, labour={"fte": replace(fte, amount=fte.amount * np.nan),
                                  "hours": replace(fte, good="labour_hours")})
    economy, report = build_from_table(blank, fmt="csv")
    assert "labour_hours" in set(economy.goods) and "labour_fte" not in set(economy.goods)
    assert report.labour_total == pytest.approx(196.0)


def test_arguments_given_twice_or_of_the_wrong_kind_are_refused(tmp_path: Path) -> None:
    """Found by a helper's fuzzing: --resource-scale co2=1e308 --resource-scale co2=10 kept the last, and co2=0.5
    with CO2=2 applied both; labour.csv with amount and fte columns (amount is fte by default) let one overwrite
    the other; analyze(method="foo") ran as auto, and a list as final demand raised an AttributeError."""
    from needplan.data.sut import parse_resource_scale

    for items in (["co2=1e308", "co2=10"], ["co2=0.5", "CO2=2"]):
        with pytest.raises(SutError, match="is given twice"):
            parse_resource_scale(items)
    table = _bad(tmp_path, "labour.csv", "industry,amount,fte\nX,45,1\nY,126,1\nZ,25,1\n")
    with pytest.raises(SutError, match="columns 'amount' and 'fte' both give 'fte' labour"):
        import_sut(table, "csv")
    economy = import_sut(TABLE, "csv")[0]
    with pytest.raises(ValueError, match="method must be auto, neumann or direct"):
        analyze(economy, method="foo")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="final_demand must be a pandas Series"):
        analyze(economy, [1.0, 2.0, 3.0])  # type: ignore[arg-type]


def test_techniques_that_use_more_than_they_make_are_reported(tmp_path: Path) -> None:
    """Found by fuzzing: product technology on Spain 2019 made six techniques that use more products than they
    make, in the table's currency (p070 10.6 EUR a EUR), and the report said nothing. Here industry X uses 109 of
    products to make 90: product a, 90% made by X, takes 0.9 x 109/90 + 0.1 x 84/210 = 1.13 a unit."""
    folder = tmp_path / "loss"
    shutil.copytree(TABLE, folder)
    (folder / "use.csv").write_text("product,X,Y,Z\na,9,21,5\nb,100,42,0\nc,0,21,10\n")
    (folder / "final_demand.csv").write_text("product,household,exports\na,50,15\nb,18,40\nc,19,0\n")
    economy, report = import_sut(folder, "csv")
    inputs = economy.tables()["inputs"].query("technique == 'make_a' and good in ['a', 'b', 'c']")
    assert inputs["amount"].sum() == pytest.approx(0.9 * 109 / 90 + 0.1 * 84 / 210, rel=1e-12)
    assert "1 product takes more than one unit of products per unit made (value added below 0; a 1.13)" in report.notes
    _, plain = import_sut(TABLE, "csv")
    assert not any("more than one unit" in n for n in plain.notes)


def test_a_labour_measure_asked_for_whose_figures_are_all_empty_is_refused(tmp_path: Path) -> None:
    """Found by fuzzing: --labour fte on an empty column imported labour_fte with a total of 0 (the docs: a
    measure the table lacks is an error)."""
    folder = tmp_path / "empty_fte"
    shutil.copytree(TABLE, folder)
    (folder / "labour.csv").write_text("industry,fte,persons\nX,,40\nY,,120\nZ,,30\n")
    with pytest.raises(SutError, match="the table's 'fte' labour figures are all empty \\(it has figures for: "
                                       "persons\\)"):
        import_sut(folder, "csv", labour="fte")
    economy, _ = import_sut(folder, "csv", labour="persons")
    assert economy.available[economy.goods.get_loc("labour_persons")] == 190.0


def test_a_resource_scale_beyond_double_precision_is_refused_by_the_option(tmp_path: Path, capsys) -> None:
    """A helper's fuzzing: labour times 1e308 overflowed to inf and was blamed on "resources row 0", a table the
    user never wrote (of a workbook sheet, or of a CSV year); the option is named instead."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["import-sut", str(TABLE), str(out), "--format", "csv", "--resource-scale", "labour_fte=1e308"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "resource scale labour_fte=1e+308: labour_fte's availability 196 times 1e+308 is beyond double" in err, err
    assert "resources row" not in err and not out.exists()
