"""Reader of a supply-use table as plain CSV files: the documented route for any other country.

A folder with ``supply.csv`` (first column ``product``, one column per industry: output of each product by each
industry), ``use.csv`` (same shape: intermediate use of domestic output by each industry), ``final_demand.csv``
(first column ``product``, one column per final-use category), ``labour.csv`` (``industry,amount``, or one
column per measure named ``fte``, ``persons``, ``jobs``, ``hours``, ``compensation``) and optionally
``emissions.csv`` (``industry`` then one column per emission). All in one currency unit at basic prices.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from needplan.data.sut.common import LABOUR_MEASURES, PrimaryInput, SupplyUseTable, SutError, first_repeated
from needplan.economy.io import CsvLines, csv_records, not_utf8_csv, present
from needplan.errors import Problem


def _fields(path: Path, name: str, folder: Path) -> int:
    """Refuse a line with more or fewer fields than the header, or a column with no name; return how many last
    columns to drop: those with no name and no value on any line (a trailing comma, as spreadsheets export)."""
    header: list[str] | None = None
    used: list[bool] = []
    for line, row in csv_records(path):  # blank lines skipped, as pandas skips them
        if header is None:
            header, used = [h.strip() for h in row], [False] * len(row)
            continue
        if len(row) != len(header):
            raise SutError(Problem(f"{name} line {line}", f"{len(row)} fields, the header has {len(header)}"),
                           str(folder))
        used = [u or bool(v.strip()) for u, v in zip(used, row, strict=True)]
    if header is None:
        return 0
    width = len(header)
    while width > 1 and not header[width - 1] and not used[width - 1]:
        width -= 1
    nameless = [j for j in range(width) if not header[j]]
    if nameless:
        raise SutError(Problem(f"{name} line 1", f"column {nameless[0] + 1} has no name (only empty last columns "
                                                 "may have none)"), str(folder))
    if (twice := first_repeated(header[:width])) is not None:  # pandas would rename the second "Y" to "Y.1"
        raise SutError(Problem(f"{name} line 1", f"column {twice!r} is listed twice"), str(folder))
    return len(header) - width


def _line(folder: Path, name: str, row: int) -> int:
    """The line of data row ``row`` (from 0) of ``folder / name``: pandas skips blank lines and reads a quoted line
    break as part of its cell, so ``row + 2`` named the line before a bad cell after a blank line (fuzzing)."""
    return CsvLines(folder / name, empty_rows=True)(row)  # (pandas reads ",,," as a row here: "no product id")


def _read(folder: Path, name: str, key: str, *, required: bool = True) -> pd.DataFrame | None:
    path = folder / name
    if not present(path):
        if required:
            raise SutError(Problem(name, "file is missing"), str(folder))
        return None
    # A folder or a link to nothing is no missing file (a helper's fuzzing: labour.csv as a folder imported an
    # economy without labour, exit 0), and UTF-16 text or a workbook is named as such, as the economy reader does.
    if (problem := not_utf8_csv(path)) is not None:
        raise SutError(problem, str(folder))
    try:
        drop = _fields(path, name, folder)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise SutError(Problem(name, "file is empty"), str(folder)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise SutError(Problem(name, f"cannot parse CSV: {exc}"), str(folder)) from None
    frame = frame.iloc[:, : len(frame.columns) - drop]
    frame.columns = [str(c).strip() for c in frame.columns]
    if not len(frame.columns) or frame.columns[0] != key:
        raise SutError(Problem(f"{name} line 1", f"the first column must be {key!r}, got "
                                                 f"{frame.columns[0] if len(frame.columns) else 'none'!r}"),
                       str(folder))
    if frame.empty:
        raise SutError(Problem(name, "file has a header but no rows"), str(folder))
    if len(frame.columns) < 2:  # (fuzzing: a traceback from the numbers of no column)
        raise SutError(Problem(f"{name} line 1", f"only the {key} column: the table needs at least one column of "
                                                 "numbers"), str(folder))
    ids = frame[key].str.strip()
    if (ids == "").any():  # (fuzzing: a spreadsheet's empty row ",,," read as a product named "")
        line = _line(folder, name, int(np.flatnonzero((ids == "").to_numpy())[0]))
        raise SutError(Problem(f"{name} line {line}", f"no {key} id (an empty row? remove it, or name the {key})"),
                       str(folder))
    dup = ids[ids.duplicated()]
    if len(dup):
        line = _line(folder, name, int(dup.index[0]))
        raise SutError(Problem(f"{name} line {line}", f"{key} {dup.iloc[0]!r} is listed twice"), str(folder))
    return frame.assign(**{key: ids}).set_index(key)


def _numbers(frame: pd.DataFrame, name: str, folder: Path, *, blank: float = 0.0) -> pd.DataFrame:
    text = frame.apply(lambda s: s.str.strip())
    values = text.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & (text != "")
    if bad.to_numpy().any():
        i, j = (int(k[0]) for k in np.nonzero(bad.to_numpy()))
        raise SutError(Problem(f"{name} line {_line(folder, name, i)}, column {frame.columns[j]!r}",
                               f"not a number: {text.iat[i, j]!r}"), str(folder))
    values = values.where(text != "", blank).astype(np.float64)
    inf = ~np.isfinite(values.to_numpy()) & (text != "").to_numpy()
    if inf.any():
        i, j = (int(k[0]) for k in np.nonzero(inf))
        raise SutError(Problem(f"{name} line {_line(folder, name, i)}, column {frame.columns[j]!r}",
                               "not a finite number"), str(folder))
    return values


def _nonnegative(values: pd.DataFrame, name: str, folder: Path, what: str) -> None:
    """Refuse the first negative cell of ``values`` (read from ``name``) by its line and column."""
    neg = np.argwhere(values.to_numpy() < 0)
    if neg.size:
        i, j = neg[0]
        raise SutError(Problem(f"{name} line {_line(folder, name, int(i))}, column {values.columns[j]!r}",
                               f"negative {what} {values.iat[i, j]:g}"), str(folder))


def read_csv_tables(folder: str | Path, *, unit: str = "currency units", amount_measure: str = "fte"
                    ) -> SupplyUseTable:
    """Read a CSV supply-use folder (see the module docstring); amounts in ``unit`` at basic prices.

    A labour column named ``amount`` is taken as the measure ``amount_measure``.

    A last column with no name and no values (a trailing comma on every line) is dropped.

    Raises :class:`SutError` naming the file, line and column of a bad cell, a line with more or fewer fields
    than the header, a column with no name, a negative output, intermediate use, labour or emission, a file that
    is no UTF-8 text (a folder, a link to nothing, UTF-16 text, a workbook), or products and industries
    that differ between supply and use.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SutError(Problem(str(folder), "is not a folder"))
    supply_raw = _read(folder, "supply.csv", "product")
    use_raw = _read(folder, "use.csv", "product")
    final_raw = _read(folder, "final_demand.csv", "product")
    assert supply_raw is not None and use_raw is not None and final_raw is not None
    supply = _numbers(supply_raw, "supply.csv", folder)
    use = _numbers(use_raw, "use.csv", folder)
    final = _numbers(final_raw, "final_demand.csv", folder)
    _nonnegative(supply, "supply.csv", folder, "output")
    # (a negative use dropped out of the coefficients, and the import failed its identity check naming no cell: a
    # helper's fuzzing; a negative output used by its industry goes in use.csv as a positive use)
    _nonnegative(use, "use.csv", folder, "intermediate use")
    for other, name in ((use, "use.csv"), (final, "final_demand.csv")):
        if list(other.index) != list(supply.index):
            only_s = [p for p in supply.index if p not in set(other.index)]
            only_o = [p for p in other.index if p not in set(supply.index)]
            raise SutError(Problem(name, "products differ from supply.csv"
                                         + (f"; missing: {', '.join(only_s[:5])}" if only_s else "")
                                         + (f"; not in supply.csv: {', '.join(only_o[:5])}" if only_o else "")
                                         + ("" if only_s or only_o else "; same products, different order")),
                           str(folder))
    if list(use.columns) != list(supply.columns):
        raise SutError(Problem("use.csv line 1", f"industries {', '.join(use.columns)} differ from supply.csv's "
                                                 f"{', '.join(supply.columns)}"), str(folder))
    industries = list(supply.columns)
    labour: dict[str, PrimaryInput] = {}
    lab_raw = _read(folder, "labour.csv", "industry", required=False)
    if lab_raw is not None:
        lab = _numbers(lab_raw, "labour.csv", folder, blank=np.nan)
        _nonnegative(lab, "labour.csv", folder, "labour")
        unknown = [i for i in lab.index if i not in industries]
        if unknown:
            raise SutError(Problem("labour.csv", f"unknown industries {', '.join(unknown[:5])}"), str(folder))
        for col in lab.columns:
            measure = col if col in LABOUR_MEASURES else None
            if col == "amount":
                measure = amount_measure
            if measure in labour:  # amount is read as fte by default (fuzzing: one column overwrote the other)
                other = next(c for c in lab.columns if c != col and (amount_measure if c == "amount" else c) == measure)
                raise SutError(Problem("labour.csv line 1", f"columns {other!r} and {col!r} both give {measure!r} "
                                                            "labour"), str(folder))
            if measure is None:
                raise SutError(Problem("labour.csv line 1", f"unknown column {col!r} (amount or one of "
                                                            f"{', '.join(LABOUR_MEASURES)})"), str(folder))
            series = lab[col].reindex(industries)  # industries not listed have no figure (NaN)
            labour[measure] = PrimaryInput(f"labour_{measure}", "labour", measure, series, f"labour ({col})")
    emissions = []
    em_raw = _read(folder, "emissions.csv", "industry", required=False)
    if em_raw is not None:
        em = _numbers(em_raw, "emissions.csv", folder, blank=np.nan)
        _nonnegative(em, "emissions.csv", folder, "emission")
        unknown = [i for i in em.index if i not in industries]
        if unknown:  # (fuzzing: its emissions were dropped unseen, where labour.csv refuses such a row)
            raise SutError(Problem("emissions.csv", f"unknown industries {', '.join(unknown[:5])}"), str(folder))
        for col in em.columns:
            emissions.append(PrimaryInput(col, "resource", col, em[col].reindex(industries), f"emission {col}"))
    with np.errstate(over="ignore"):  # (sums beyond double precision are refused by name when imported)
        totals = {"output (supply.csv)": float(supply.to_numpy().sum()),
                  "intermediate use (use.csv)": float(use.to_numpy().sum()),
                  "final use (final_demand.csv)": float(final.to_numpy().sum())}
    return SupplyUseTable(
        name=folder.name, source=str(folder), unit=unit, supply=supply, use=use, final_use=final,
        labour=labour, emissions=tuple(emissions),
        totals=totals, balance_tolerance=1e-9, balance_absolute=0.0,
        notes=["CSV tables are taken as use of domestic output at basic prices; nothing is set aside"],
        provenance={"valuation": "basic prices (as given)", "imports_treatment": "none (domestic use given)"},
    )
