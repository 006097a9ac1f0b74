"""Every way a folder can be bad gets a message naming the file, the row and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needplan import EconomyError, read_economy


def edit(folder: Path, table: str, old: str, new: str) -> None:
    path = folder / f"{table}.csv"
    text = path.read_text()
    assert old in text, f"{old!r} not in {table}.csv"
    path.write_text(text.replace(old, new, 1))


def append(folder: Path, table: str, line: str) -> None:
    with (folder / f"{table}.csv").open("a") as fh:
        fh.write(line + "\n")


def line_of(folder: Path, table: str, start: str) -> int:
    for i, line in enumerate((folder / f"{table}.csv").read_text().splitlines(), start=1):
        if line.startswith(start):
            return i
    raise AssertionError(start)


def problems(folder: Path) -> list[str]:
    with pytest.raises(EconomyError) as info:
        read_economy(folder)
    return info.value.lines()


def test_demo_is_valid(demo_dir: Path) -> None:
    e = read_economy(demo_dir)
    assert e.n_goods == 11 and e.n_techniques == 10


CASES = [
    # (table, how to break it, expected fragment, the line the message must name: its first characters)
    ("goods", ("append", "coal,product,kt,duplicate"), "duplicate good id 'coal'", "coal,product,kt,duplicate"),
    ("techniques", ("append", "steel_mill,steel,1,,1.0"), "duplicate technique id 'steel_mill'",
     "steel_mill,steel,1,,1.0\n"),
    ("inputs", ("edit", "steel_mill,coal,1.5", "steel_mill,koal,1.5"), "unknown good 'koal'", "steel_mill,koal"),
    ("inputs", ("edit", "tannery,grain,0.4", "tanery,grain,0.4"), "unknown technique 'tanery'", "tanery,grain"),
    ("inputs", ("edit", "steel_mill,coal,1.5", "steel_mill,coal,-1.5"), "amount is negative: -1.5",
     "steel_mill,coal"),
    ("inputs", ("edit", "steel_mill,coal,1.5", "steel_mill,coal,inf"), "amount is not finite", "steel_mill,coal"),
    ("inputs", ("edit", "steel_mill,coal,1.5", "steel_mill,coal,nan"), "amount is not finite", "steel_mill,coal"),
    # (a helper's audit: 1e-400 read as 0, so a capacity so written shut its technique and validated "ok")
    ("techniques", ("edit", "power_station,electricity,1,400,1.0", "power_station,electricity,1,1e-400,1.0"),
     "capacity is too small for double precision: 1e-400", "power_station"),
    ("inputs", ("edit", "steel_mill,coal,1.5", "steel_mill,coal,-2.5E-999"),
     "amount is too small for double precision: -2.5E-999", "steel_mill,coal"),
    ("inputs", ("edit", "steel_mill,coal,1.5", "steel_mill,coal,lots"), "amount is not a number: 'lots'",
     "steel_mill,coal"),
    ("inputs", ("edit", "steel_mill,coal,1.5", "steel_mill,coal,"), "amount is empty", "steel_mill,coal"),
    ("inputs", ("append", "steel_mill,coal,2"), "input 'coal' of technique 'steel_mill' is listed twice",
     "steel_mill,coal,2"),
    ("techniques", ("append", "training,labour_skilled,1,,1.0"), "only products are made by techniques",
     "training,"),
    ("techniques", ("edit", "power_station,electricity,1,400,1.0", "power_station,electricity,1,-4,1.0"),
     "capacity is negative", "power_station"),
    ("techniques", ("edit", "shoe_factory,shoes,1,,0.6", "shoe_factory,shoes,0,,0.6"),
     "output must be positive", "shoe_factory"),
    ("goods", ("append", "bicycles,product,units,Bicycles"), "has no technique that makes it", "bicycles"),
    ("goods", ("edit", "land,resource", "land,resorce"), "kind must be one of", "land,"),
    ("resources", ("append", "grain,5"), "'grain' is a product", "grain,5"),
    ("resources", ("edit", "land,30000", "land,-3"), "available is negative", "land,"),
    ("needs", ("append", "labour_skilled,10,1,true"), "not a product", "labour_skilled,10"),
    ("needs", ("edit", "grain,20000,3,true", "grain,-20000,3,true"), "target is negative", "grain,"),
    ("needs", ("edit", "grain,20000,3,true", "grain,20000,3,maybe"), "quality_weighted must be true or false",
     "grain,"),
    ("outputs", ("append", "tannery,labour_skilled,1"), "only products can be made", "tannery,labour"),
    ("outputs", ("append", "tannery,leather,1"), "is the main product of technique 'tannery'", "tannery,leather"),
]


@pytest.mark.parametrize(("table", "change", "fragment", "row_start"), CASES,
                         ids=[f"{c[0]}-{c[2][:30]}" for c in CASES])
def test_bad_row_is_named(demo_copy: Path, table: str, change: tuple[str, ...], fragment: str,
                          row_start: str) -> None:
    if change[0] == "append":
        append(demo_copy, table, change[1])
    else:
        edit(demo_copy, table, change[1], change[2])
    row = line_of(demo_copy, table, row_start) if not row_start.endswith("\n") else \
        len((demo_copy / f"{table}.csv").read_text().splitlines())
    lines = problems(demo_copy)
    expected_where = f"{table}.csv line {row}:"
    assert any(fragment in ln and expected_where in ln for ln in lines), lines
    assert all(str(demo_copy) in ln for ln in lines), lines


def test_needed_product_that_nothing_makes(demo_copy: Path) -> None:
    append(demo_copy, "goods", "bicycles,product,units,Bicycles")
    append(demo_copy, "needs", "bicycles,10,1,true")
    lines = problems(demo_copy)
    row = line_of(demo_copy, "needs", "bicycles")
    assert any(f"needs.csv line {row}: product 'bicycles' is needed but no technique makes it" in ln
               for ln in lines), lines


def test_a_product_made_only_jointly_is_named_as_such(demo_copy: Path) -> None:
    """Bran, made only as a joint product of the grain farm: it needs a technique of its own, and the message says
    so instead of claiming nothing makes it."""
    append(demo_copy, "goods", "bran,product,t,Bran")
    append(demo_copy, "outputs", "grain_tractor,bran,0.1")
    append(demo_copy, "needs", "bran,5,1,true")
    lines = problems(demo_copy)
    row = line_of(demo_copy, "needs", "bran")
    assert any(f"needs.csv line {row}: product 'bran' is needed but no technique makes it as its main product "
               "(it is only a joint product" in ln for ln in lines), lines


def test_a_table_saved_with_semicolons_says_so(demo_copy: Path) -> None:
    path = demo_copy / "inputs.csv"
    path.write_text(path.read_text().replace(",", ";"))
    lines = problems(demo_copy)
    assert any("inputs.csv line 1: the fields seem separated by ';': tables must be comma-separated" in ln
               for ln in lines), lines


def test_missing_required_column(demo_copy: Path) -> None:
    edit(demo_copy, "inputs", "technique,good,amount", "technique,good,amt")
    lines = problems(demo_copy)
    assert any("inputs.csv: missing required column 'amount'" in ln for ln in lines), lines
    assert any("unknown column 'amt'" in ln for ln in lines), lines


def test_missing_required_table(demo_copy: Path) -> None:
    (demo_copy / "needs.csv").unlink()
    assert any("needs.csv: required table is missing" in ln for ln in problems(demo_copy))


@pytest.mark.parametrize(("text", "fragment"), [
    ('format_version = 2\nname = "x"\n', "unknown format_version 2"),
    ('name = "x"\n', "format_version is missing"),
    ("format_version = 1\n", "name is missing"),
    ("format_version = 1\nname = \n", "not valid TOML"),
    # (fuzzing: a [tables] section naming other files was ignored without a word)
    ('format_version = 1\nname = "x"\n[tables]\ngoods = "foo.csv"\n', "tables: needplan reads each table from"),
])
def test_bad_manifest(demo_copy: Path, text: str, fragment: str) -> None:
    (demo_copy / "economy.toml").write_text(text)
    lines = problems(demo_copy)
    assert any("economy.toml" in ln and fragment in ln for ln in lines), lines


def test_missing_manifest(demo_copy: Path) -> None:
    (demo_copy / "economy.toml").unlink()
    assert any("economy.toml: manifest is missing" in ln for ln in problems(demo_copy))


def test_not_productive_names_the_goods(demo_copy: Path) -> None:
    # Coal needs more steel than steel's coal can spare: coal and steel feed each other at a loss.
    edit(demo_copy, "inputs", "coal_mine,steel,0.01", "coal_mine,steel,0.9")
    lines = problems(demo_copy)
    assert len(lines) == 1
    assert "not productive" in lines[0] and "coal" in lines[0] and "steel" in lines[0], lines
    assert "shoes" not in lines[0]


def test_all_problems_reported_together(demo_copy: Path) -> None:
    edit(demo_copy, "inputs", "steel_mill,coal,1.5", "steel_mill,coal,-1.5")
    edit(demo_copy, "inputs", "tannery,grain,0.4", "tannery,grain,x")
    assert len(problems(demo_copy)) == 2


def test_csv_and_parquet_both_present(demo_copy: Path) -> None:
    pd.read_csv(demo_copy / "needs.csv").to_parquet(demo_copy / "needs.parquet")
    assert any("both needs.csv and needs.parquet" in ln for ln in problems(demo_copy))


def test_a_folder_in_place_of_a_table_is_named(demo_copy: Path) -> None:
    (demo_copy / "needs.csv").unlink()
    (demo_copy / "needs.csv").mkdir()
    assert any("needs.csv: cannot read: Is a directory" in ln for ln in problems(demo_copy)), problems(demo_copy)


def test_parquet_rows_are_named(demo_copy: Path) -> None:
    frame = pd.read_csv(demo_copy / "inputs.csv")
    frame.loc[3, "amount"] = -2.0
    frame.to_parquet(demo_copy / "inputs.parquet")
    (demo_copy / "inputs.csv").unlink()
    lines = problems(demo_copy)
    assert any("inputs.parquet row 4: amount is negative: -2" in ln for ln in lines), lines


def test_a_nan_in_parquet_is_refused_as_in_csv_and_a_null_is_empty(demo_copy: Path) -> None:
    """Found by fuzzing the CLI: a NaN written by Arrow into techniques.parquet's output became the default 1
    unseen, where a CSV cell 'nan' is refused ("not finite"). A null is an empty cell (pandas writes its NaN as
    one), so a pandas table with a missing capacity still reads as unlimited. A quality_weighted column of 1.0 and
    0.0 reads as true and false (it was refused), other numbers are refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    techniques = pd.read_csv(demo_copy / "techniques.csv")
    (demo_copy / "techniques.csv").unlink()
    table = pa.Table.from_pandas(techniques, preserve_index=False)
    output = table.column("output").to_numpy().astype(np.float64)
    output[[0, 2]] = np.nan
    arrow_nan = table.set_column(table.column_names.index("output"), "output", pa.array(output, from_pandas=False))
    pq.write_table(arrow_nan, demo_copy / "techniques.parquet")
    assert problems(demo_copy) == [f"{demo_copy}/techniques.parquet row {r}: output is not finite: nan (an empty "
                                   "cell is a null)" for r in (1, 3)]
    techniques.loc[0, "capacity"] = np.nan  # pandas: a null, so unlimited
    techniques.to_parquet(demo_copy / "techniques.parquet")
    assert np.isinf(read_economy(demo_copy).technique_capacity[0])
    needs = pd.read_csv(demo_copy / "needs.csv")
    (demo_copy / "needs.csv").unlink()
    needs["quality_weighted"] = [1.0, 0.0] + [1.0] * (len(needs) - 2)
    needs.to_parquet(demo_copy / "needs.parquet")
    eco = read_economy(demo_copy)
    first, second = (eco.goods.get_loc(g) for g in needs["good"][:2])
    assert eco.quality_weighted[first] and not eco.quality_weighted[second]
    needs.loc[1, "quality_weighted"] = 0.5
    needs.to_parquet(demo_copy / "needs.parquet")
    assert problems(demo_copy) == [f"{demo_copy}/needs.parquet row 2: quality_weighted must be true or false, "
                                   "got 0.5"]


def test_an_edited_parquet_of_needplan_s_own_is_named_not_a_traceback(demo_dir: Path, tmp_path: Path) -> None:
    """Found by fuzzing the CLI: a Parquet folder needplan wrote, its inputs' good column edited with pyarrow into
    lists (the pandas metadata still asking for text), gave a traceback from the conversion; it now reads as the
    same edit without that metadata does, the row named. A nullable boolean quality_weighted with a null (pandas'
    'boolean') gave a traceback too; a null is an empty cell, the default."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from needplan import write_economy

    folder = tmp_path / "eco"
    write_economy(read_economy(demo_dir), folder, fmt="parquet")
    inputs = pq.read_table(folder / "inputs.parquet")
    assert inputs.schema.metadata and b"pandas" in inputs.schema.metadata
    i = inputs.column_names.index("good")
    listed = inputs.set_column(i, "good", pa.array([[g] for g in inputs.column("good").to_pylist()]))
    pq.write_table(listed, folder / "inputs.parquet")
    assert problems(folder) == [f"{folder}/inputs.parquet row 1: good holds a list (['grain']), not text or a "
                                "number"]
    pq.write_table(inputs, folder / "inputs.parquet")
    needs = pd.read_parquet(folder / "needs.parquet")
    needs["quality_weighted"] = pd.array([None] + [False] * (len(needs) - 1), dtype="boolean")
    needs.to_parquet(folder / "needs.parquet", index=False)
    eco = read_economy(folder)
    positions = [eco.goods.get_loc(g) for g in needs["good"]]
    assert list(eco.quality_weighted[positions]) == [True] + [False] * (len(needs) - 1)


@pytest.mark.parametrize(("table", "old", "new", "line"), [
    ("outputs", "grain_horse,leather", '"grain_horse,leather', 2),  # the last line: one field, "has 1 fields"
    ("inputs", "grain_horse,labour_unskilled,0.25", 'grain_horse,labour_unskilled,"0.25', 3),  # pandas: "EOF"
])
def test_an_unclosed_quote_is_named_as_such(demo_copy: Path, table: str, old: str, new: str, line: int) -> None:
    """Found by fuzzing the CLI: a quote opened and never closed was read as "has 1 fields, the header has 3 (a
    cell left out ...)", or as pandas' "EOF inside string starting at row 2", naming no line."""
    edit(demo_copy, table, old, new)
    assert problems(demo_copy) == [f"{demo_copy}/{table}.csv line {line}: a quote (\") is opened and not closed: "
                                   "the cell runs on to the end of the file"]


def test_cli_prints_one_line_per_problem_and_exits_nonzero(demo_copy: Path) -> None:
    edit(demo_copy, "inputs", "steel_mill,coal,1.5", "steel_mill,coal,-1.5")
    edit(demo_copy, "goods", "land,resource", "land,resorce")
    proc = subprocess.run([sys.executable, "-m", "needplan", "validate", str(demo_copy)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()
    assert err and all(ln.startswith("error: ") for ln in err), proc.stderr
    assert "Traceback" not in proc.stderr
    assert any("goods.csv line" in ln and "resorce" in ln for ln in err), err


@pytest.mark.parametrize(("before", "after", "column"), [
    ("shoe_factory,shoes,1,,0.6", "shoe_factory,shoes,abc,,0.6", "output"),
    ("shoe_factory,shoes,1,,0.6", "shoe_factory,shoes,1,,x1", "quality"),
])
def test_a_cell_that_is_not_a_number_is_reported_once(demo_copy: Path, before: str, after: str,
                                                       column: str) -> None:
    """A helper's fuzzing: 'abc' as an output was reported as not a number and, read as 0, "must be positive, got
    0" as well, which is not what the file says."""
    edit(demo_copy, "techniques", before, after)
    where = f"techniques.csv line {line_of(demo_copy, 'techniques', 'shoe_factory')}:"
    lines = [ln for ln in problems(demo_copy) if where in ln]
    assert len(lines) == 1 and f"{column} is not a number" in lines[0], lines
