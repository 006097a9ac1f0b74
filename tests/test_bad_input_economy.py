"""Bad economy folders found by fuzzing: each gets a message naming the file, the line (or row) and the problem,
and the CLI one line per problem and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from needplan import EconomyError, leontief, read_economy
from needplan.analysis import AnalysisError, analyze
from needplan.economy.model import Economy
from needplan.economy.validate import build_economy


def problems(folder: Path) -> list[str]:
    with pytest.raises(EconomyError) as info:
        read_economy(folder)
    return info.value.lines()


def replace(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if fragment in line)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "needplan", *args], capture_output=True, text=True, check=False)


def one_farm(target: float, own_use: float = 0.5) -> Economy:
    """Grain made from grain (``own_use`` per unit) and land; ``target`` of grain needed."""
    return build_economy({
        "goods": pd.DataFrame({"good": ["grain", "land"], "kind": ["product", "resource"], "unit": ["t", "ha"]}),
        "techniques": pd.DataFrame({"technique": ["farm"], "good": ["grain"]}),
        "inputs": pd.DataFrame({"technique": ["farm", "farm"], "good": ["grain", "land"], "amount": [own_use, 1.0]}),
        "resources": pd.DataFrame({"good": [], "available": []}),
        "needs": pd.DataFrame({"good": ["grain"], "target": [target]}),
    }, name="farm")


# --- 1. I - A singular ---------------------------------------------------------------------------------------

def test_singular_system_is_not_productive_not_a_crash() -> None:
    A = sp.csr_matrix(np.array([[1.0, 0.0], [0.5, 0.2]]))
    with pytest.raises(leontief.NotProductiveError, match="singular"):
        leontief.solve(A, np.ones(2), method="direct")
    assert leontief.check_productive(A) == (False, (0,))


def test_product_using_all_it_makes_is_not_productive(demo_copy: Path) -> None:
    replace(demo_copy, "inputs.csv", "grain_horse,grain,0.12", "grain_horse,grain,1")
    lines = problems(demo_copy)
    assert len(lines) == 1 and "not productive" in lines[0] and "grain" in lines[0], lines
    with pytest.raises(EconomyError, match="not productive"):
        one_farm(10.0, own_use=1.0)


def test_tiny_output_is_named(demo_copy: Path) -> None:
    replace(demo_copy, "techniques.csv", "grain_horse,grain,1,", "grain_horse,grain,1e-320,")
    lines = problems(demo_copy)
    row = line_of(demo_copy / "techniques.csv", "grain_horse")
    assert any(f"techniques.csv line {row}: output" in ln and "'grain_horse' is too small" in ln for ln in lines), lines


# --- 2. Parquet cells that are neither text nor numbers --------------------------------------------------------

@pytest.mark.parametrize(("table", "column", "values", "fragment"), [
    ("inputs", "amount", lambda f: pa.array([[x] for x in f["amount"]]), "amount holds a list"),
    ("resources", "available", lambda f: pa.array([{"a": float(x)} for x in f["available"]]),
     "available holds a record"),
    ("resources", "good", lambda f: pa.array([b"\xff" + s.encode() for s in f["good"]], pa.binary()),
     "good holds bytes that are not UTF-8 text"),
])
def test_parquet_cells_of_odd_types_are_named(demo_copy: Path, table: str, column: str, values: object,
                                              fragment: str) -> None:
    frame = pd.read_csv(demo_copy / f"{table}.csv")
    (demo_copy / f"{table}.csv").unlink()
    arrays = {c: values(frame) if c == column else pa.array(frame[c]) for c in frame.columns}  # type: ignore[operator]
    pq.write_table(pa.table(arrays), demo_copy / f"{table}.parquet")
    lines = problems(demo_copy)
    assert any(f"{table}.parquet row 1: {fragment}" in ln for ln in lines), lines


@pytest.mark.parametrize("dictionary", [False, True])
def test_a_parquet_text_column_holding_bytes_that_are_not_utf8_is_named(demo_copy: Path, dictionary: bool) -> None:
    """Arrow's string type promises UTF-8 but reading does not check it: such a column (a writer's bug, or bytes
    viewed as text) made a traceback from pandas's conversion in validate, analyze and plan (fuzzing)."""
    frame = pd.read_csv(demo_copy / "goods.csv")
    (demo_copy / "goods.csv").unlink()
    names = [str(x).encode() for x in frame["name"]]
    names[2] = b"\xe9t\xe9"
    text = pa.array(names, pa.binary()).view(pa.string())
    arrays = {c: (text.dictionary_encode() if dictionary else text) if c == "name" else pa.array(frame[c])
              for c in frame.columns}
    pq.write_table(pa.table(arrays), demo_copy / "goods.parquet")
    assert problems(demo_copy) == [f"{demo_copy}/goods.parquet row 3: name holds bytes that are not UTF-8 text: "
                                   "b'\\xe9t\\xe9'"]


@pytest.mark.parametrize("index", ["capacity", "technique"])
def test_a_parquet_column_pandas_stored_as_the_index_is_read_as_a_column(demo_copy: Path, index: str) -> None:
    """pandas's metadata made a column written as a DataFrame's index (``df.set_index("capacity").to_parquet()``)
    the frame's index again, unread: the capacities were dropped silently and the plan changed (0.694 to 1.289),
    or the technique column read as missing (fuzzing). The columns are read as stored; an unnamed index pandas
    stored (``__index_level_0__``) is none of the table's."""
    from needplan import read_economy
    from needplan.plan import build_plan

    expected = build_plan(read_economy(demo_copy), "ray").solve().objective
    frame = pd.read_csv(demo_copy / "techniques.csv")
    (demo_copy / "techniques.csv").unlink()
    frame.set_index(index).to_parquet(demo_copy / "techniques.parquet")
    assert build_plan(read_economy(demo_copy), "ray").solve().objective == pytest.approx(expected, rel=1e-12)
    frame.iloc[[2, 0, 1, *range(3, len(frame))]].to_parquet(demo_copy / "techniques.parquet")  # (no range)
    assert "__index_level_0__" in pq.read_schema(demo_copy / "techniques.parquet").names
    assert read_economy(demo_copy).n_techniques == len(frame)


@pytest.mark.parametrize("metadata", [b"{}", b'{"index_columns": ["__index_level_0__"], "columns": []}', b"not json"])
def test_damaged_pandas_metadata_over_valid_parquet_data_is_ignored(demo_copy: Path, metadata: bytes) -> None:
    """A KeyError traceback from pyarrow's reading of pandas's metadata (fuzzing): the data are read as stored."""
    frame = pd.read_csv(demo_copy / "needs.csv")
    (demo_copy / "needs.csv").unlink()
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata({b"pandas": metadata})
    pq.write_table(table, demo_copy / "needs.parquet")
    assert sorted(read_economy(demo_copy).tables()["needs"]["good"]) == sorted(frame["good"])


# --- 3. No products ------------------------------------------------------------------------------------------

def test_economy_without_products_is_refused(tmp_path: Path, demo_dir: Path) -> None:
    (tmp_path / "economy.toml").write_text((demo_dir / "economy.toml").read_text())
    tables = {"goods": "good,kind,unit,name\nland,resource,ha,L\n", "techniques": "technique,good,output\n",
              "inputs": "technique,good,amount\n", "needs": "good,target\n", "resources": "good,available\nland,5\n"}
    for name, text in tables.items():
        (tmp_path / f"{name}.csv").write_text(text)
    assert problems(tmp_path) == [f"{tmp_path}/goods.csv: no good is a product: an economy needs at least one "
                                  "product, and a technique that makes it"]


# --- 4. Line numbers are the file's own ----------------------------------------------------------------------

@pytest.mark.parametrize("change", ["blank line", "quoted line break", "blank lines before the header"])
def test_line_numbers_count_blank_lines_and_quoted_line_breaks(demo_copy: Path, change: str) -> None:
    path = demo_copy / "inputs.csv"
    lines = path.read_text().splitlines()
    if change == "blank line":
        lines.insert(2, "")
    elif change == "quoted line break":
        lines[1] = '"grain\n_horse",grain,0.12'
    else:
        lines[:0] = ["", "  "]
    path.write_text("\n".join(lines).replace("grain_tractor,land,1.0", "grain_tractor,land,abc") + "\n")
    assert problems(demo_copy)[0] == f"{demo_copy}/inputs.csv line {line_of(path, 'abc')}: amount is not a " \
                                     "number: 'abc'"


# --- 5. Messages that say what is wrong ----------------------------------------------------------------------

@pytest.mark.parametrize("old", ["grain_horse,grain,0.12", "tannery,grain,0.4"])
def test_a_line_with_a_field_too_many_is_named(demo_copy: Path, old: str) -> None:
    replace(demo_copy, "inputs.csv", old, old + ",5")
    row = line_of(demo_copy / "inputs.csv", old + ",5")
    assert problems(demo_copy) == [f"{demo_copy}/inputs.csv line {row}: has 4 fields, the header has 3 (a comma "
                                   "too many, or a cell with a comma not in quotes)"]


def test_a_line_with_a_field_left_out_is_named(demo_copy: Path) -> None:
    """Fuzzing: a techniques line with its empty capacity cell left out took its quality for the capacity and the
    default for the quality (fulfilment fell from 69% to 0.5%), and validate said ok."""
    line = next(t for t in (demo_copy / "techniques.csv").read_text().splitlines() if t.startswith("coal_mine,"))
    replace(demo_copy, "techniques.csv", line, "coal_mine,coal,1,0.6")
    row = line_of(demo_copy / "techniques.csv", "coal_mine,coal,1,0.6")
    assert problems(demo_copy) == [f"{demo_copy}/techniques.csv line {row}: has 4 fields, the header has 5 (a cell "
                                   "left out: an empty cell still needs its comma)"]


def test_nan_is_named_as_written(demo_copy: Path) -> None:
    replace(demo_copy, "inputs.csv", "grain_horse,grain,0.12", "grain_horse,grain,NaN")
    assert problems(demo_copy) == [f"{demo_copy}/inputs.csv line 2: amount is not finite: NaN"]


@pytest.mark.parametrize(("name", "target", "fragment"), [
    ("goods.csv", "goods.csv", "Too many levels of symbolic links"),
    ("goods.csv", "nowhere.csv", "No such file or directory"),
    ("outputs.parquet", "nowhere.parquet", "No such file or directory"),  # optional, yet named
])
def test_broken_links_are_named(demo_copy: Path, name: str, target: str, fragment: str) -> None:
    for stale in (demo_copy / name, demo_copy / name.replace(".parquet", ".csv")):
        stale.unlink(missing_ok=True)
    os.symlink(target, demo_copy / name)
    assert problems(demo_copy) == [f"{demo_copy}/{name}: cannot read: {fragment} (a link to {target!r})"]


def test_a_folder_named_like_a_parquet_table_is_named(demo_copy: Path) -> None:
    (demo_copy / "inputs.csv").unlink()
    (demo_copy / "inputs.parquet").mkdir()
    assert problems(demo_copy) == [f"{demo_copy}/inputs.parquet: cannot read: Is a directory (a table or manifest "
                                   "is a file, not a folder)"]


@pytest.mark.parametrize("name", ["needs.csv", "inputs.parquet", "economy.toml"])
@pytest.mark.parametrize("special", ["fifo", "device"])
def test_a_fifo_or_device_named_like_a_table_is_refused_not_read(demo_copy: Path, name: str, special: str) -> None:
    """Found by fuzzing the CLI: a FIFO named needs.csv made every command wait for a writer for ever. A table or
    manifest must be a regular file; the check is on the file's type, before any read (a test that hung would
    say so by the suite's time, so it runs in a child with a timeout)."""
    stem = name.split(".")[0]
    for old in (f"{stem}.csv", f"{stem}.parquet", name):
        (demo_copy / old).unlink(missing_ok=True)
    if special == "fifo":
        os.mkfifo(demo_copy / name)
    else:
        os.symlink("/dev/zero", demo_copy / name)
    proc = subprocess.run([sys.executable, "-m", "needplan", "validate", str(demo_copy)], capture_output=True,
                          text=True, timeout=60)
    kind = "a FIFO (named pipe)" if special == "fifo" else "a device"
    assert proc.returncode == 1 and proc.stderr == (
        f"error: {demo_copy}/{name}: cannot read: it is {kind}, not a regular file\n"), proc.stderr


# --- 6. Results beyond double precision, negative gross output -------------------------------------------------

@pytest.mark.parametrize("method", ["auto", "neumann", "direct"])
def test_gross_output_beyond_double_precision_is_refused(method: str) -> None:
    with pytest.raises(AnalysisError, match="gross output not computed: it is beyond double precision"):
        analyze(one_farm(1e308), method=method)  # type: ignore[arg-type]


def test_cli_analyze_refuses_negative_gross_output(demo_copy: Path) -> None:
    """Grain's joint leather, at 1e308 t of grain, is far more than shoes use: the tannery would run backwards."""
    replace(demo_copy, "needs.csv", "grain,20000,", "grain,1e308,")
    proc = cli("analyze", str(demo_copy))
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: demo: gross output comes out negative for 'leather'"), err


def test_python_analyze_refuses_negative_gross_output_unless_asked(demo_dir: Path) -> None:
    """The library refuses what the CLI refuses: a negative gross output is no plan any economy can run."""
    demo = read_economy(demo_dir)
    much_grain = pd.Series({"grain": 1e308 / 1e300})  # far more leather than shoes use
    with pytest.raises(AnalysisError, match=r"gross output comes out negative for 'leather' .*joint products"):
        analyze(demo, much_grain)
    raw = analyze(demo, much_grain, allow_negative=True).gross_output
    assert raw["leather"] < 0  # the linear system's own solution, on request
    with pytest.raises(AnalysisError, match="the final demand is negative for some products"):
        analyze(one_farm(1.0), pd.Series({"grain": -1.0}))
    assert analyze(one_farm(1.0), pd.Series({"grain": -1.0}), allow_negative=True).gross_output["grain"] == -2.0


# --- 7. The manifest -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["true", "1.0"])
def test_format_version_must_be_a_whole_number(demo_copy: Path, version: str) -> None:
    (demo_copy / "economy.toml").write_text(f'format_version = {version}\nname = "x"\n')
    assert problems(demo_copy) == [f"{demo_copy}/economy.toml: format_version must be a whole number such as 1, "
                                   f"got {version.capitalize() if version == 'true' else version}"]


def test_manifest_with_byte_order_mark_is_read(demo_copy: Path) -> None:
    path = demo_copy / "economy.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_economy(demo_copy).name == "demo"


# --- 6. Spreadsheet exports (a helper's fuzzing as a participatory-planning group, session 24) ------------------

def _demo_lines(demo_copy: Path, name: str) -> list[str]:
    return (demo_copy / name).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(("write", "expected"), [
    # a European locale: ';' between fields, decimal commas; pandas blamed "a comma too many" on line 2
    (lambda lines: "\n".join(t.replace(",", ";").replace(".", ",") for t in lines),
     "inputs.csv line 1: the fields seem separated by ';': tables must be comma-separated"),
    (lambda lines: "\n".join(t.replace(",", "\t") for t in lines),
     "inputs.csv line 1: the fields seem separated by '\\t'"),
    # Excel's "Unicode text", a workbook saved under .csv, an old .xls: pandas gave the codec's byte position
    (lambda lines: b"\xff\xfe" + "\n".join(lines).encode("utf-16-le"), "inputs.csv: the file is UTF-16 text"),
    (lambda lines: b"PK\x03\x04" + b"\x00" * 40, "inputs.csv: the file is a spreadsheet workbook (.xlsx or .ods)"),
    (lambda lines: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "inputs.csv: the file is an old Excel workbook (.xls)"),
    (lambda lines: "\n".join(lines).encode("utf-16-be"), "inputs.csv: the file holds NUL bytes"),
    # Windows-1252 on line 4: the codec named position 0 of a chunk
    (lambda lines: "\n".join([*lines[:3], lines[3].replace("grain", "gr\xe9in", 1), *lines[4:]]).encode("cp1252"),
     "inputs.csv line 4: is not UTF-8 text (byte 0xe9; written as Windows-1252 or Latin-1?)"),
    # pandas renamed a repeated column 'good.1' and an unnamed one 'Unnamed: 1'
    (lambda lines: "\n".join(["technique,good,good", *lines[1:]]), "inputs.csv line 1: column 'good' appears more "
                                                                    "than once"),
    (lambda lines: "\n".join(["technique,,amount", *lines[1:]]), "inputs.csv line 1: column 2 has no name in the "
                                                                 "header but holds values"),
    (lambda lines: ",,\n,,\n", "inputs.csv: file holds no header line, only empty lines"),
], ids=["semicolons", "tabs", "utf16", "xlsx", "xls", "utf16be", "cp1252", "repeated", "unnamed", "commas"])
def test_a_spreadsheet_export_that_is_not_csv_is_named_for_what_it_is(demo_copy: Path, write, expected: str) -> None:
    content = write(_demo_lines(demo_copy, "inputs.csv"))
    path = demo_copy / "inputs.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    found = problems(demo_copy)
    assert any(p.startswith(f"{demo_copy}/{expected}") for p in found), found


def test_every_unreadable_file_is_named_at_once(demo_copy: Path) -> None:
    """With every file exported with ';' only the first file was named (the guide: every problem together)."""
    for name in ("goods.csv", "needs.csv"):
        (demo_copy / name).write_text("\n".join(t.replace(",", ";") for t in _demo_lines(demo_copy, name)))
    found = problems(demo_copy)
    assert [p.split(": ")[0] for p in found] == [f"{demo_copy}/goods.csv line 1", f"{demo_copy}/needs.csv line 1"]


def test_a_spreadsheet_s_empty_rows_and_columns_are_left_out(demo_copy: Path, demo_dir: Path) -> None:
    """A sheet's empty rows export as lines of commas and its trailing empty columns as empty header cells: they
    were rows with empty ids (9 problems) and columns named 'Unnamed: 4'. Line numbers still count them."""
    lines = _demo_lines(demo_copy, "goods.csv")
    text = "\n".join([lines[0] + ",,", *(t + ",," for t in lines[1:3]), ",,,,,", *(t + ",," for t in lines[3:]),
                      ",,,,,", ",,,,,"])
    (demo_copy / "goods.csv").write_text(text + "\n", encoding="utf-8")
    from needplan.economy import read_economy

    assert read_economy(demo_copy).tables()["goods"].equals(read_economy(demo_dir).tables()["goods"])
    replace(demo_copy, "goods.csv", "steel,product", "steel,produce")
    row = line_of(demo_copy / "goods.csv", "steel,produce")
    assert problems(demo_copy)[0].startswith(f"{demo_copy}/goods.csv line {row}: kind must be one of")


@pytest.mark.parametrize(("written", "says"), [
    ("e\u0301toffe", "(it prints as '\u00e9toffe' but is written in another Unicode form, NFC against NFD"),
    ("\u00e9toffe\u200b", "(it differs from '\u00e9toffe' by an invisible character)"),
    ("\u00c9toffe", "(it differs from '\u00e9toffe' in upper and lower case: ids are case-sensitive)"),
    ("\u00c9toffe\u200b", "(it differs from '\u00e9toffe' in upper and lower case and an invisible character"),
])
def test_an_unknown_id_that_looks_like_a_known_one_says_why(demo_copy: Path, written: str, says: str) -> None:
    """Found by fuzzing: "unknown good 'étoffe'" beside a good that printed the same (NFD against NFC)."""
    replace(demo_copy, "goods.csv", "cloth,", "\u00e9toffe,")
    for name in ("techniques.csv", "inputs.csv"):
        text = (demo_copy / name).read_text(encoding="utf-8")
        (demo_copy / name).write_text(text.replace(",cloth,", ",\u00e9toffe,"), encoding="utf-8")
    replace(demo_copy, "needs.csv", "cloth,", f"{written},")
    found = problems(demo_copy)
    assert len(found) == 1 and f"unknown good {written!r} {says}" in found[0], found


def test_blank_rows_and_bytes_late_in_a_file_keep_the_line_numbers(demo_copy: Path) -> None:
    """A review of the spreadsheet changes: a row of no-break spaces was dropped by one test and counted by the
    other (every later message a line late); a Windows-1252 byte past the first 8 kB got pandas' chunk position;
    a row of commas above the header was taken for the header by pandas."""
    path = demo_copy / "needs.csv"
    lines = _demo_lines(demo_copy, "needs.csv")
    path.write_text("\n".join([*lines[:2], "\xa0, ,\t,", *lines[2:]]).replace("cloth,1500", "cloth,abc") + "\n",
                    encoding="utf-8")
    assert problems(demo_copy) == [f"{demo_copy}/needs.csv line {line_of(path, 'cloth,abc')}: target is not a "
                                   "number: 'abc'"]
    goods = demo_copy / "goods.csv"
    text = goods.read_text(encoding="utf-8")
    filler = "".join(f"filler{k},product,t,Filler {k}\n" for k in range(400))  # past 8 kB, then a bad byte
    goods.write_bytes((text + filler).encode("utf-8") + "caf\xe9,product,t,Caf\xe9\n".encode("cp1252"))
    n = (text + filler).count("\n") + 1
    assert any(p.startswith(f"{demo_copy}/goods.csv line {n}: is not UTF-8 text (byte 0xe9") for p in
               problems(demo_copy))
    goods.write_text(",,,\n" + text, encoding="utf-8")
    assert any(p.startswith(f"{demo_copy}/goods.csv line 1: holds empty fields only, above the header") for p in
               problems(demo_copy))
    goods.write_text(text.replace("\n", "\n,,,,,,\n", 2), encoding="utf-8")  # wider than the header
    assert f"{demo_copy}/goods.csv line 2: holds only empty fields, 7 of them where the header has 4: delete the " \
           "row" in problems(demo_copy)


# --- 7. Files named or encoded as needplan does not read them (found by a helper's fuzzing of the CLI) -----------

def test_a_manifest_not_in_utf8_is_refused_at_its_line_and_column(demo_copy: Path) -> None:
    """It said "not valid TOML: 'utf-8' codec can't decode byte 0xe9 in position 30"."""
    manifest = demo_copy / "economy.toml"
    manifest.write_bytes(manifest.read_bytes() + b'# caf\xe9 au lait\n')
    line = manifest.read_bytes().count(b"\n")
    assert problems(demo_copy) == [f"{demo_copy}/economy.toml line {line}: not UTF-8 text: byte 0xe9 at column 6 "
                                   "(save the file as UTF-8)"]


@pytest.mark.parametrize(("table", "written"), [("goods", "Goods.CSV"), ("outputs", "OUTPUTS.csv")])
def test_a_table_named_in_other_case_is_named_not_ignored(demo_copy: Path, table: str, written: str) -> None:
    """Goods.CSV was only "required table is missing"; an optional table so named was ignored."""
    (demo_copy / f"{table}.csv").rename(demo_copy / written)
    assert problems(demo_copy) == [f"{demo_copy}/{written}: not read: table files are named in lower case "
                                   f"({table}.csv or {table}.parquet)"]


@pytest.mark.parametrize(("table", "written"), [("outputs", "output.csv"), ("goods", "good.csv"),
                                                 ("outputs", "Outputs2.parquet")])
def test_a_table_named_a_little_off_is_named_not_ignored(demo_copy: Path, table: str, written: str) -> None:
    """A helper's audit: outputs.csv renamed output.csv validated "ok", and the plan lost the joint product."""
    (demo_copy / f"{table}.csv").rename(demo_copy / written)
    assert problems(demo_copy) == [f"{demo_copy}/{written}: not read: no table is named so; is it the {table} table "
                                   f"({table}.csv or {table}.parquet)? Rename it, or move it out of the folder"]


def test_other_files_beside_the_tables_are_left_alone(demo_copy: Path) -> None:
    for name in ("inputs_old.csv", "joint_products.csv", "notes.txt", "plan.json"):
        (demo_copy / name).write_text("x\n")
    eco = read_economy(demo_copy)
    assert eco.techniques.size == 10 and eco.make.nnz == 11  # the demo's techniques and its joint product


def test_a_parquet_column_written_twice_is_named(demo_copy: Path) -> None:
    """Arrow's "Multiple matches for FieldRef.Name(technique)" came through; the CSV table names the column."""
    techniques = pd.read_csv(demo_copy / "techniques.csv")
    columns = [pa.array(techniques["technique"]), pa.array(techniques["good"]), pa.array(techniques["technique"])]
    pq.write_table(pa.table(columns, names=["technique", "good", "technique"]), demo_copy / "techniques.parquet")
    (demo_copy / "techniques.csv").unlink()
    assert problems(demo_copy) == [f"{demo_copy}/techniques.parquet: column 'technique' appears more than once"]


def test_an_empty_kind_is_said_once(demo_copy: Path) -> None:
    """A helper's fuzzing: a good with no kind got two lines for one cell, "kind is empty" and "kind must be one of
    product, labour, resource, got ''"."""
    replace(demo_copy, "goods.csv", "steel,product", "steel,")
    row = line_of(demo_copy / "goods.csv", "steel,,")
    assert problems(demo_copy) == [f"{demo_copy}/goods.csv line {row}: kind is empty"]
