"""Edges of the supply-use importer's input: ``--year`` on an INE workbook, CSV lines with more or fewer fields than
the header, and the trailing comma of a spreadsheet export."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from needplan.cli import main
from needplan.data.sut import SutError, import_sut

TABLE = Path(__file__).parent / "data" / "sut_csv"
INE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sut" / "spain_ine"
SCB = INE.parent / "sweden" / "sut_2008_2016.xlsx"


def _refused(args: list[str], capsys) -> str:
    """Run the CLI, expect exit 1 with no traceback, and return stderr."""
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def _ine_like(path: Path, title: str | None) -> Path:
    """A workbook with INE's sheet names and, if given, INE's title row in its list of tables."""
    wb = openpyxl.Workbook()
    assert wb.active is not None
    wb.active.title = "List of Tables"
    if title is not None:
        wb.active["B6"] = title
    wb.create_sheet("Table1")
    wb.save(path)
    return path


def test_ine_year_must_be_the_one_the_workbook_states(tmp_path: Path, capsys) -> None:
    """Before, --year was ignored for INE and the economy was labelled with the year asked for."""
    book = _ine_like(tmp_path / "sut_2019.xlsx", "Supply and use tables 2019")
    out = tmp_path / "out"
    err = _refused(["import-sut", str(book), str(out), "--year", "2018"], capsys)
    assert "sut_2019.xlsx/List of Tables!B6: the workbook holds the tables of 2019, but year 2018 was asked for" in err
    assert not out.exists()
    with pytest.raises(SutError, match="the workbook holds the tables of 2019, but year 2012"):
        import_sut(book, "ine", year=2012)
    # The right year goes on to read the tables (this stub has none).
    with pytest.raises(SutError, match="no sheet titled like"):
        import_sut(book, "ine", year=2019)


def test_ine_year_is_refused_when_the_workbook_states_none(tmp_path: Path, capsys) -> None:
    book = _ine_like(tmp_path / "sut_2019.xlsx", None)
    err = _refused(["import-sut", str(book), str(tmp_path / "out"), "--year", "2019"], capsys)
    assert "year 2019 was asked for, but the workbook states no year" in err


@pytest.mark.skipif(not INE.is_dir(), reason="../shared/data/sut is absent")
def test_ine_year_on_the_real_workbook(tmp_path: Path, capsys) -> None:
    err = _refused(["import-sut", str(INE / "sut_2019.xlsx"), str(tmp_path / "out"), "--year", "2018"], capsys)
    assert "holds the tables of 2019, but year 2018 was asked for" in err
    economy, report = import_sut(INE / "sut_2019.xlsx", "ine", year=2019)
    assert report.year == 2019 and economy.provenance["year"] == 2019


def _copy(tmp_path: Path) -> Path:
    table = tmp_path / "table"
    shutil.copytree(TABLE, table)
    return table


@pytest.mark.parametrize(("text", "message"), [
    # before, the missing cell was read as 0
    ("product,X,Y,Z\na,90,10,0\nb,0,200\nc,0,0,50\n", "supply.csv line 3: 3 fields, the header has 4"),
    ("product,X,Y,Z\na,90,10,0\n\nb,0,200,0\nc,0\n", "supply.csv line 5: 2 fields, the header has 4"),
    # before, pandas took the first column as the index and shifted every value one industry to the left
    ("product,X,Y,Z\na,90,10,0,\nb,0,200,0,\nc,0,0,50,\n", "supply.csv line 2: 5 fields, the header has 4"),
])
def test_a_line_with_more_or_fewer_fields_than_the_header_is_refused(tmp_path: Path, capsys, text: str,
                                                                     message: str) -> None:
    table = _copy(tmp_path)
    (table / "supply.csv").write_text(text)
    out = tmp_path / "out"
    err = _refused(["import-sut", str(table), str(out), "--format", "csv"], capsys)
    assert f"{table}/{message}" in err, err
    assert not out.exists()


def test_a_trailing_comma_on_every_line_is_dropped(tmp_path: Path, capsys) -> None:
    """Before, it made an industry 'Unnamed: 4' (or, in labour.csv, an unknown column 'Unnamed: 2')."""
    table = _copy(tmp_path)
    for path in table.glob("*.csv"):
        path.write_text("".join(f"{line},\n" for line in path.read_text().splitlines()))
    economy, report = import_sut(table, "csv")
    clean, clean_report = import_sut(TABLE, "csv")
    for name, frame in clean.tables().items():
        pd.testing.assert_frame_equal(economy.tables()[name], frame)
    assert report.dropped_industries == () and report.totals == clean_report.totals
    with pytest.raises(SystemExit) as info:
        main(["import-sut", str(table), str(tmp_path / "out"), "--format", "csv"])
    assert info.value.code in (0, None)
    assert "Unnamed" not in capsys.readouterr().out


@pytest.mark.parametrize(("text", "message"), [
    ("product,X,Y,Z,\na,90,10,0,\nb,0,200,0,7\nc,0,0,50,\n", "supply.csv line 1: column 5 has no name"),
    ("product,X,,Z\na,90,10,0\nb,0,200,0\nc,0,0,50\n", "supply.csv line 1: column 3 has no name"),
])
def test_a_column_with_no_name_that_is_not_an_empty_last_one_is_refused(tmp_path: Path, capsys, text: str,
                                                                        message: str) -> None:
    table = _copy(tmp_path)
    (table / "supply.csv").write_text(text)
    err = _refused(["import-sut", str(table), str(tmp_path / "out"), "--format", "csv"], capsys)
    assert f"{table}/{message}" in err and "Unnamed" not in err, err


@pytest.mark.skipif(not INE.is_dir(), reason="../shared/data/sut is absent")
def test_ine_workbooks_with_spanish_sheet_names_are_told_apart(tmp_path: Path) -> None:
    """INE's 2010-2012 workbooks name their sheets Tabla1...; their format used to be 'cannot tell: pass --format'."""
    from needplan.data.sut import detect_format

    assert [detect_format(INE / f"sut_{y}.xlsx") for y in (2010, 2012, 2013, 2019)] == ["ine"] * 4
    with pytest.raises(SystemExit) as info:  # no --format
        main(["import-sut", str(INE / "sut_2010.xlsx"), str(tmp_path / "es2010"), "--year", "2010"])
    assert info.value.code == 0
    assert "year = 2010" in (tmp_path / "es2010" / "economy.toml").read_text()


@pytest.mark.parametrize(("edit", "where", "says"), [
    # an emission named like a product: before, "goods row 4: duplicate good id 'a'", a table the user never wrote
    ({"emissions.csv": ("industry,co2", "industry,a")}, "emissions",
     "emission a would take the id 'a', which a product already has"),
    ({"emissions.csv": ("industry,co2", "industry,labour_fte")}, "emissions",
     "which the labour measure already has"),
    ({name: ("\na,", "\nlabour_fte,") for name in ("supply.csv", "use.csv", "final_demand.csv")}, "labour",
     "labour (amount) would take the id 'labour_fte', which a product already has"),
])
def test_a_good_id_taken_twice_is_named_by_the_file_that_takes_it(tmp_path: Path, capsys, edit: dict, where: str,
                                                                   says: str) -> None:
    folder = tmp_path / "table"
    shutil.copytree(TABLE, folder)
    for name, (old, new) in edit.items():
        path = folder / name
        path.write_text(path.read_text().replace(old, new, 1))
    err = _refused(["import-sut", str(folder), str(tmp_path / "out"), "--format", "csv"], capsys)
    assert f"{where}: " in err and says in err and "goods row" not in err
    assert not (tmp_path / "out").exists()


def test_ine_tables_at_previous_year_prices_are_never_read(tmp_path: Path) -> None:
    """INE's workbooks since 2013 also hold supply and use at the previous year's prices (Tables 4 and 5); with
    the current-price table gone, one of them was read in its place (fuzzing: Table 5's use beside Table 1's
    supply, refused only because their products happened to differ)."""
    wb = openpyxl.Workbook()
    assert wb.active is not None
    wb.active.title = "List of Tables"
    wb.active["B6"] = "Supply and use tables 2019"
    for name, title in (("Table4", "Table 4. Supply table at basic prices, including a transformation at "
                                   "purchaser's prices. Previous year prices."),
                        ("Table5", "Table 5. Use table at purchaser's prices. Previous year prices.")):
        wb.create_sheet(name)[("B2")] = title
    wb.save(tmp_path / "sut_2019.xlsx")
    with pytest.raises(SutError, match="no sheet titled like 'Table n. supply table at basic prices' at current "
                                       r"prices \(sheets: List of Tables, Table4, Table5\)"):
        import_sut(tmp_path / "sut_2019.xlsx", "ine")


def _damaged(path: Path, how: str, member: str = "xl/worksheets/sheet2.xml") -> Path:
    """``path`` rewritten with one sheet (by default Table1 of an INE-like workbook) damaged inside an intact zip: its
    XML cut off mid-tag (``xml``), or stored uncompressed with one digit of a cell changed, which only its CRC tells
    (``crc``)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        items = [(info.filename, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            if name != member:
                z.writestr(name, data)
            else:
                z.writestr(name, data[: len(data) // 2] if how == "xml" else data, zipfile.ZIP_STORED)
    if how == "crc":
        with zipfile.ZipFile(path) as z:
            start = z.getinfo(member).header_offset
        raw = bytearray(path.read_bytes())
        raw[raw.index(b"<v>1", start) + 3] = ord("7")
        path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("how", ["xml", "crc"])
def test_a_damaged_sheet_in_a_readable_workbook_is_refused_by_name(tmp_path: Path, capsys, how: str) -> None:
    """Fuzzing real workbooks: with the zip intact but a sheet's XML or compressed bytes damaged, import-sut ended
    in a traceback (ParseError, BadZipFile's bad CRC, zlib.error); only a damaged workbook part read on opening got
    a one-line error."""
    book = _ine_like(tmp_path / "sut_2019.xlsx", "Supply and use tables 2019")
    wb = openpyxl.load_workbook(book)
    for r in range(1, 200):
        wb["Table1"].cell(r, 1, f"product {r}")
        wb["Table1"].cell(r, 2, float(r))
    wb.save(book)
    _damaged(book, how)
    out = tmp_path / "out"
    err = _refused(["import-sut", str(book), str(out)], capsys)
    assert "sut_2019.xlsx: cannot read sheet 'Table1', the workbook is damaged" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    with pytest.raises(SutError, match="cannot read sheet 'Table1'"):
        import_sut(book, "ine")


@pytest.mark.skipif(not SCB.is_file(), reason="../shared/data/sut is absent")
def test_an_scb_year_is_read_from_its_own_sheet_alone(tmp_path: Path, capsys) -> None:
    """Reading one year of SCB's workbook parsed all nine sheets (2.4 s a year, so a series of nine years read 81);
    now only the year's own sheet is read: 2016 imports as before from a copy whose 2008 sheet is damaged, and 2008
    is refused by name."""
    book = _damaged(shutil.copy(SCB, tmp_path / "sweden.xlsx"), "xml", "xl/worksheets/sheet1.xml")
    intact, _ = import_sut(SCB, "scb", year=2016, labour="hours")
    economy, _ = import_sut(book, "scb", year=2016, labour="hours")
    assert economy.goods.equals(intact.goods) and (economy.use != intact.use).nnz == 0
    assert np.array_equal(economy.available, intact.available) and np.array_equal(economy.target, intact.target)
    err = _refused(["import-sut", str(book), str(tmp_path / "out"), "--year", "2008", "--labour", "hours"], capsys)
    assert "sweden.xlsx: cannot read sheet '2008', the workbook is damaged" in err and not (tmp_path / "out").exists()


def test_running_out_of_memory_on_a_sheet_is_not_called_damage(tmp_path: Path, monkeypatch) -> None:
    """A damaged sheet is refused by name (above); running out of memory while reading one is not damage, and goes
    to the command's own line for it."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    book = _ine_like(tmp_path / "sut_2019.xlsx", "Supply and use tables 2019")

    def no_memory(self: object, *args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(ReadOnlyWorksheet, "iter_rows", no_memory)
    with pytest.raises(MemoryError):
        import_sut(book, "ine")


@pytest.mark.parametrize(("name", "how", "says"), [
    ("labour.csv", "folder", "labour.csv: cannot read: Is a directory"),
    ("emissions.csv", "link", "emissions.csv: cannot read: No such file or directory (a link to 'nowhere.csv')"),
    ("supply.csv", "folder", "supply.csv: cannot read: Is a directory"),
    ("supply.csv", "utf-16", "supply.csv: the file is UTF-16 text"),
    ("use.csv", "latin-1", "use.csv line 3: is not UTF-8 text (byte 0xe9"),
    ("final_demand.csv", "workbook", "final_demand.csv: the file is a spreadsheet workbook"),
])
def test_a_table_file_that_is_no_csv_text_is_named(tmp_path: Path, capsys, name: str, how: str, says: str) -> None:
    """A helper's fuzzing: labour.csv as a folder, or emissions.csv as a link to nothing, were taken as absent (an
    economy without labour, exit 0); supply.csv as a folder was "missing"; UTF-16 or Latin-1 text got a codec's
    message naming a byte's position, not the line or what the file is. Now as the economy reader says them."""
    table = _copy(tmp_path)
    path = table / name
    text = path.read_text() if path.exists() else "industry,co2\nX,1\n"
    path.unlink(missing_ok=True)
    if how == "folder":
        path.mkdir()
    elif how == "link":
        path.symlink_to("nowhere.csv")
    elif how == "utf-16":
        path.write_text(text, encoding="utf-16")
    elif how == "latin-1":
        lines = text.splitlines()
        lines[2] = lines[2].replace(lines[2].split(",")[0], "caf\u00e9", 1)
        path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    else:
        wb = openpyxl.Workbook()
        wb.save(path)
    out = tmp_path / "out"
    err = _refused(["import-sut", str(table), str(out), "--format", "csv"], capsys)
    assert f"{table}/{says}" in err, err
    assert not out.exists()


def test_a_negative_intermediate_use_is_refused_by_cell(tmp_path: Path, capsys) -> None:
    """A helper's fuzzing: a use of -9 (final demand raised so that the row balances) dropped out of the
    coefficients, and the import failed its identity check naming no cell ("a bug, or a table needplan misread")."""
    table = _copy(tmp_path)
    (table / "use.csv").write_text("product,X,Y,Z\na,-9,21,5\nb,18,42,0\nc,0,21,10\n")
    (table / "final_demand.csv").write_text("product,household,exports\na,68,15\nb,100,40\nc,19,0\n")
    err = _refused(["import-sut", str(table), str(tmp_path / "out"), "--format", "csv"], capsys)
    assert f"{table}/use.csv line 2, column 'X': negative intermediate use -9" in err, err


def _swapped_columns(source: Path, out: Path, sheet: str, rows: range, first: int) -> Path:
    """``source`` with the cells of columns ``first`` and ``first + 1`` (1-based) swapped on ``rows`` of ``sheet``,
    every other sheet removed: the headers and the totals stay where they were."""
    wb = openpyxl.load_workbook(source)
    for name in wb.sheetnames:
        if name not in (sheet, "List of Tables", "Table1", "Table2"):
            del wb[name]
    ws = wb[sheet]
    for r in rows:
        a, b = ws.cell(r, first), ws.cell(r, first + 1)
        a.value, b.value = b.value, a.value
    wb.save(out)
    return out


def _without_row(source: Path, out: Path, sheet: str, label: str) -> Path:
    """``source`` with the first row of ``sheet`` labelled ``label...`` (column B) deleted, every other sheet but
    INE's tables removed."""
    wb = openpyxl.load_workbook(source)
    for name in wb.sheetnames:
        if name not in (sheet, "List of Tables", "Table1", "Table2"):
            del wb[name]
    ws = wb[sheet]
    ws.delete_rows(next(r for r in range(1, ws.max_row + 1)
                        if str(ws.cell(r, 2).value or "").strip().lower().startswith(label)))
    wb.save(out)
    return out


def _scb_block_top(sheet: str, title: str) -> int:
    """The 1-based row of a block's title in a sheet of the SCB workbook."""
    wb = openpyxl.load_workbook(SCB, read_only=True)
    try:
        return next(r for r, (a,) in enumerate(wb[sheet].iter_rows(min_col=1, max_col=1, values_only=True), 1)
                    if str(a or "").lower().startswith(title))
    finally:
        wb.close()


@pytest.mark.skipif(not INE.is_dir(), reason="../shared/data/sut is absent")
def test_an_ine_industry_column_that_breaks_its_total_is_refused_by_cell(tmp_path: Path, capsys) -> None:
    """A helper's fuzzing: the data of two industries' columns of the supply table swapped (agriculture's and
    forestry's) imported with exit 0 and a note that the use table's output differed by 52,100 million EUR; the
    economy's coefficients moved by up to 4.14. Each column is now checked against the supply table's total row."""
    book = _swapped_columns(INE / "sut_2019.xlsx", tmp_path / "swapped.xlsx", "Table1", range(10, 120), 3)
    err = _refused(["import-sut", str(book), str(tmp_path / "out")], capsys)
    assert "swapped.xlsx/Table1!C124: industry 1 ('crop and animal production" in err
    assert "adds up to 1,741, the supply table's total says 53,857" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not SCB.is_file(), reason="../shared/data/sut is absent")
def test_an_scb_industry_column_that_breaks_its_output_is_refused_by_cell(tmp_path: Path, capsys) -> None:
    """The same for Sweden (2015, A01 and A02 swapped in the supply block): Produktionsvärde differed by 8,910
    million SEK, a note only."""
    top = _scb_block_top("2015", "tillförselmatris - inhemsk")
    book = _swapped_columns(SCB, tmp_path / "swapped.xlsx", "2015", range(top + 2, top + 61), 3)
    err = _refused(["import-sut", str(book), str(tmp_path / "out"), "--labour", "hours"], capsys)
    assert "swapped.xlsx/2015!C69: industry A01: its column of the supply block" in err
    assert "adds up to 44,203, its output (Produktionsvärde) is 53,110" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not INE.is_dir(), reason="../shared/data/sut is absent")
def test_an_ine_labour_cell_that_breaks_its_row_total_is_refused_by_cell(tmp_path: Path, capsys) -> None:
    """A helper's fuzzing: one full-time-equivalent cell times 10 changed Spain's labour by 31%, exit 0; the row's
    own total (in the column of total intermediate consumption) now names it."""
    wb = openpyxl.load_workbook(INE / "sut_2019.xlsx")
    for name in wb.sheetnames:
        if name not in ("Table1", "List of Tables", "Table2"):
            del wb[name]
    ws = wb["Table2"]
    fte = next(r for r in range(1, ws.max_row + 1) if "full-time equivalents" in str(ws.cell(r, 2).value).lower())
    ws.cell(fte + 1, 4).value *= 10  # the Total row under it: forestry's 16.8 thousand
    wb.save(tmp_path / "fte.xlsx")
    err = _refused(["import-sut", str(tmp_path / "fte.xlsx"), str(tmp_path / "out")], capsys)
    assert (f"fte.xlsx/Table2!CF{fte + 1}: the industries' cells of full-time equivalents, total add up to 18,641.4, "
            "the row's total says 18,490.2") in err, err


@pytest.mark.skipif(not INE.is_dir(), reason="../shared/data/sut is absent")
def test_an_ine_industry_use_column_that_breaks_its_total_is_refused_by_cell(tmp_path: Path, capsys) -> None:
    """An audit: the data of two industries' columns of the use table swapped (fishing's and mining's, product rows
    10-119 of Table2) keeps every product row's sum and imported with exit 0, 2,520 coefficients changed. Each
    column is now checked against the use table's "Total uses at purchaser's prices" row."""
    book = _swapped_columns(INE / "sut_2019.xlsx", tmp_path / "swapped.xlsx", "Table2", range(10, 120), 5)
    err = _refused(["import-sut", str(book), str(tmp_path / "out")], capsys)
    assert ("swapped.xlsx/Table2!E125: industry 3 ('fishing and aquaculture'): its column of the use table (products, "
            "taxes, CIF/FOB adjustments, direct purchases) adds up to 2,807, the use table's total uses at "
            "purchasers' prices says 1,360") in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not SCB.is_file(), reason="../shared/data/sut is absent")
def test_an_scb_industry_use_column_that_breaks_its_intermediate_consumption_is_refused_by_cell(
        tmp_path: Path, capsys) -> None:
    """The same for Sweden (2015, A01 and A02 swapped in the domestic use block): imported with exit 0. With the
    industry's imports, direct purchases and taxes on products a column makes up Insatsförbrukning, marknadspris."""
    top = _scb_block_top("2015", "insatsmatris - inhemsk")
    book = _swapped_columns(SCB, tmp_path / "swapped.xlsx", "2015", range(top + 2, top + 61), 3)
    err = _refused(["import-sut", str(book), str(tmp_path / "out"), "--labour", "hours"], capsys)
    assert ("swapped.xlsx/2015!C70: industry A01: its column of the domestic use block (2015!C4 down) with its "
            "imports, direct purchases and taxes on products adds up to 13,701, its intermediate consumption "
            "(Insatsförbrukning, marknadspris) is 40,102") in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not INE.is_dir(), reason="../shared/data/sut is absent")
@pytest.mark.parametrize(("sheet", "label", "where"), [("Table2", "output at basic prices", "Table2 row 8"),
                                                       ("Table2", "total uses at purchaser", "Table2 row 120"),
                                                       ("Table1", "total", "Table1 row 120")])
def test_an_ine_total_row_the_columns_are_checked_against_is_required(tmp_path: Path, capsys, sheet: str,
                                                                      label: str, where: str) -> None:
    """An audit: without Table2's "Output at basic prices" row the check of the industries' columns was skipped
    without a word, and two industries' swapped columns imported. INE publishes these rows every year."""
    book = _without_row(INE / "sut_2019.xlsx", tmp_path / "short.xlsx", sheet, label)
    err = _refused(["import-sut", str(book), str(tmp_path / "out")], capsys)
    assert f"short.xlsx/{where}: no row labelled {label!r} from here down: INE publishes it every year" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not SCB.is_file(), reason="../shared/data/sut is absent")
@pytest.mark.parametrize("label", ["produktionsvärde", "insatsförbrukning"])
def test_an_scb_total_row_the_columns_are_checked_against_is_required(tmp_path: Path, capsys, label: str) -> None:
    """Without Produktionsvärde the check of the supply block's columns was skipped without a word."""
    book = _without_row(SCB, tmp_path / "short.xlsx", "2015", label)
    err = _refused(["import-sut", str(book), str(tmp_path / "out"), "--labour", "hours"], capsys)
    assert f"short.xlsx/2015 row 69: no row labelled {label!r} in the block" in err, err
    assert not (tmp_path / "out").exists()
