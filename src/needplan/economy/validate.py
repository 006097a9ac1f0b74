"""Turn raw tables into a validated :class:`Economy`, or refuse them naming the table, the row and the problem.

Every check is vectorised so that an economy of a million goods validates in seconds. All problems found are
reported together (a few rows per kind of problem), not just the first. This module reads no files: the folder
reader passes each table with the name of its file and how its rows are numbered.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from needplan import leontief
from needplan.economy.model import PRODUCT, Choice, Economy, Technology
from needplan.economy.schema import GOOD_KINDS, TABLES, TABLES_BY_NAME, Column
from needplan.errors import EconomyError, Problem

MAX_ROWS_PER_PROBLEM = 5


@dataclass(frozen=True)
class TableSource:
    """Where a table came from, to name its rows: ``inputs.csv line 7`` or ``goods.parquet row 3``."""

    label: str
    first_row: int = 2
    row_word: str = "line"
    line_of: Callable[[int], int] | None = None
    """The number of row ``i`` where rows are not numbered evenly (a CSV file with blank lines or quoted line
    breaks); ``None``: row ``i`` is ``first_row + i``."""

    def where(self, i: int) -> str:
        return f"{self.label} {self.row_word} {self.line_of(i) if self.line_of else self.first_row + i}"


def csv_source(table: str) -> TableSource:
    return TableSource(f"{table}.csv", 2, "line")


def frame_source(table: str) -> TableSource:
    return TableSource(table, 0, "row")


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def rows(self, src: TableSource, mask: np.ndarray, message: Callable[[int], str]) -> None:
        """One problem per offending row (the first few), then a count of the rest."""
        bad = np.flatnonzero(mask)
        for i in bad[:MAX_ROWS_PER_PROBLEM]:
            self.add(src.where(int(i)), message(int(i)))
        if bad.size > MAX_ROWS_PER_PROBLEM:
            self.add(src.label, f"... and {bad.size - MAX_ROWS_PER_PROBLEM} more rows with the same problem")

    def raise_if_any(self, source: str) -> None:
        if self.problems:
            raise EconomyError(self.problems, source)


def _text(series: pd.Series) -> np.ndarray:
    """Strings with surrounding blanks removed; missing values become ''.

    Each distinct value is cleaned once and shared by the rows that hold it (a goods table's kind and unit columns
    of 10^6 rows hold a few values: one Python string each instead of one per row, which was 60 MiB a column).
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    cleaned = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str).str.strip()
    table = np.append(cleaned.to_numpy(dtype=object), "")  # code -1 (missing) picks the appended ''
    return np.asarray(table[codes], dtype=object)


def _id_text(series: pd.Series) -> np.ndarray | pd.Categorical:
    """Like :func:`_text`, but a categorical column (Parquet's dictionary-encoded ids) stays categorical.

    Only its categories are cleaned; lookups (:func:`_positions`) and duplicate checks then work on the codes,
    which takes a second for the 10^7 rows of a large inputs table instead of minutes of string hashing.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        raw = series.cat.categories
        categories = _text(pd.Series(raw.to_numpy(dtype=object), dtype=object))
        codes = series.cat.codes.to_numpy()
        if (np.array_equal(categories, raw.to_numpy(dtype=object)) and not (categories == "").any()
                and (codes.size == 0 or codes.min() >= 0)):
            # Clean already (the usual case): the categories of a dtype are unique, keep the column as it is.
            return series.array
        categories = np.append(categories, "")
        if pd.Index(categories, dtype=object).is_unique:
            codes = np.where(codes < 0, len(categories) - 1, codes)  # a missing value becomes ''
            return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))
    return _text(series)


def _lookup(index: pd.Index, labels: pd.Index | np.ndarray) -> np.ndarray:
    """``index.get_indexer(labels)``; labels that are the index itself, in its order (a technique per good, as
    generated; the techniques of an inputs table as needplan writes them), are compared instead of hashed: 0.05 s
    instead of 0.3-0.5 s for 10^6 ids, and no hash table of the index is built for it."""
    values = labels.to_numpy() if isinstance(labels, pd.Index) else labels
    if len(values) == len(index) and values.dtype == object and index.dtype == object and np.array_equal(
            values, index.to_numpy()):
        return np.arange(len(index), dtype=np.int64)
    return np.asarray(index.get_indexer(labels))


def _positions(index: pd.Index, values: np.ndarray | pd.Categorical) -> np.ndarray:
    """``index.get_indexer(values)`` (-1 where not found); a categorical is looked up by its categories."""
    if isinstance(values, pd.Categorical):
        found = _lookup(index, values.categories)
        # int32 positions: the rows of an inputs table are 10^7, and its positions end up as sparse indices.
        small = np.int32 if len(index) < np.iinfo(np.int32).max else np.int64
        return np.append(found, -1).astype(small)[values.codes]  # code -1 (missing) picks the appended -1
    return _lookup(index, values)


def _parse_number(col: Column, series: pd.Series, src: TableSource, out: _Collector) -> np.ndarray:
    """Floats; NaN marks an empty cell. Reports non-numeric, non-finite and out-of-range cells."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(values)
        text = None
        not_numeric = np.zeros(values.shape, dtype=bool)
    else:
        text = _text(series)
        empty = text == ""
        cells = pd.Series(text, dtype=object).where(~empty, None)
        values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        word_nan = np.char.lower(text.astype(str)) == "nan"
        not_numeric = ~empty & np.isnan(values) & ~word_nan
        out.rows(src, not_numeric, lambda i: f"{col.name} is not a number: {text[i]!r}")
        values = np.where(not_numeric, 0.0, values)
        values = np.where(word_nan, np.inf, values)  # 'nan' written out is a non-finite number, not a blank
    if col.check == "nonnegative_or_empty" or col.default is not None:
        blank_ok = True
    else:
        blank_ok = False
    if not blank_ok:
        out.rows(src, empty, lambda i: f"{col.name} is empty")
    finite = np.isfinite(values) | empty
    # the cell as written: 'nan' was made infinite above only to be caught here, and '1e999' says more than inf
    out.rows(src, ~finite, lambda i: f"{col.name} is not finite: {values[i] if text is None else text[i]}")
    # (a cell that is not a number is reported once, above, not again as 0 that "must be positive": fuzzing)
    ok = finite & ~empty & ~not_numeric
    if text is not None and (zero := ok & (values == 0)).any():
        # A cell such as 1e-400 reads as 0 (a helper's audit: a capacity so written shut its technique, "ok")
        mantissa = pd.Series(text[zero], dtype=object).str.split(r"[eE]", n=1, regex=True).str[0]
        lost = np.zeros_like(zero)
        lost[zero] = mantissa.str.contains(r"[1-9]", regex=True).to_numpy(dtype=bool)
        out.rows(src, lost, lambda i: f"{col.name} is too small for double precision: {text[i]} (count it "
                                      "in a smaller unit)")
        ok &= ~lost
    if col.check in ("nonnegative", "nonnegative_or_empty"):
        out.rows(src, ok & (values < 0), lambda i: f"{col.name} is negative: {values[i]:g}")
    elif col.check == "positive":
        out.rows(src, ok & (values <= 0), lambda i: f"{col.name} must be positive, got {values[i]:g}")
    if isinstance(col.default, float):
        values = np.where(empty, col.default, values)
    return np.asarray(values, dtype=np.float64)


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _parse_bool(col: Column, series: pd.Series, src: TableSource, out: _Collector) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):  # a nullable boolean's null is an empty cell (fuzzing)
        return series.to_numpy(dtype=bool, na_value=bool(col.default))
    if pd.api.types.is_numeric_dtype(series.dtype):  # a Parquet column of 1.0 and 0.0 (nulls empty), as '1' and '0'
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(values)
        bad = ~empty & (values != 0) & (values != 1)
        out.rows(src, bad, lambda i: f"{col.name} must be true or false, got {values[i]:g}")
        return np.where(empty, bool(col.default), values == 1)
    written = _text(series)  # Python strings: the message quotes the cell as written, not numpy's repr of it
    text = np.char.lower(written.astype(str))
    empty = text == ""
    truthy = np.isin(text, list(_TRUE))
    bad = ~empty & ~truthy & ~np.isin(text, list(_FALSE))
    out.rows(src, bad, lambda i: f"{col.name} must be true or false, got {written[i]!r}")
    return np.where(empty, bool(col.default), truthy)


def _parse_table(name: str, frame: pd.DataFrame, src: TableSource, out: _Collector) -> dict[str, np.ndarray] | None:
    table = TABLES_BY_NAME[name]
    columns = [str(c).strip().lstrip("\ufeff").strip() for c in frame.columns]  # a byte-order mark written twice
    missing = [c.name for c in table.columns if c.required and c.name not in columns]
    unknown = [c for c in columns if c not in table.column_names]
    if missing:
        # A spreadsheet saved with ';' or tabs between fields gives one column named after the whole header.
        other = next((sep for sep in (";", "\t", "|") if len(columns) == 1 and sep in columns[0]), None)
        hint = f"; the fields seem separated by {other!r}: tables must be comma-separated" if other else ""
        out.add(src.label, f"missing required column{'s' if len(missing) > 1 else ''} "
                           f"{', '.join(repr(m) for m in missing)} (columns found: {', '.join(columns) or 'none'})"
                           f"{hint}")
    if unknown:
        out.add(src.label, f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}"
                           f" (allowed: {', '.join(table.column_names)})")
    dup_cols = sorted({c for c in columns if columns.count(c) > 1})
    if dup_cols:
        out.add(src.label, f"column {dup_cols[0]!r} appears more than once")
    if missing or unknown or dup_cols:
        return None
    frame = frame.set_axis(columns, axis=1)
    n = len(frame)
    parsed: dict[str, np.ndarray] = {}
    unreadable = False
    for col in table.columns:
        if col.name not in frame.columns:
            if col.type == "number":
                parsed[col.name] = np.full(n, np.nan if col.default is None else float(col.default))
            elif col.type == "bool":
                parsed[col.name] = np.full(n, bool(col.default))
            else:
                parsed[col.name] = np.full(n, "" if col.default is None else str(col.default), dtype=object)
            continue
        series = frame[col.name]
        try:
            if col.type == "number":
                parsed[col.name] = _parse_number(col, series, src, out)
            elif col.type == "bool":
                parsed[col.name] = _parse_bool(col, series, src, out)
            else:
                text = _id_text(series)
                if col.type in ("id", "good", "technique", "kind") or col.required:
                    out.rows(src, text == "", lambda i, c=col.name: f"{c} is empty")  # type: ignore[misc]
                parsed[col.name] = text
        except (TypeError, UnicodeDecodeError):  # cells that are neither text nor numbers (Parquet lists, bytes)
            row, what = _odd_cell(series)
            out.add(src.where(row) if row >= 0 else src.label, f"{col.name} holds {what}, not text or a number")
            unreadable = True
    return None if unreadable else parsed


def _odd_cell(series: pd.Series) -> tuple[int, str]:
    """The first cell (row from 0, or -1) that is neither text, a number nor missing, and what it is; a Python
    loop, for a column already found unreadable."""
    for i, value in enumerate(series.array):
        if isinstance(value, bytes):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return i, f"bytes that are not UTF-8 text ({value[:20]!r})"
        elif isinstance(value, np.ndarray | list | tuple):
            return i, f"a list ({str(value)[:40]})"
        elif isinstance(value, dict):
            return i, f"a record ({str(value)[:40]})"
        elif not (value is None or value is pd.NA or isinstance(value, str | int | float | bool | np.generic)):
            return i, f"a value of type {type(value).__name__}"
    return -1, f"values of type {series.dtype}"


def _duplicates(keys: list[np.ndarray]) -> np.ndarray:
    if len(keys) == 1:
        return np.asarray(pd.Series(keys[0]).duplicated().to_numpy())
    return np.asarray(pd.DataFrame({i: k for i, k in enumerate(keys)}).duplicated().to_numpy())


def _duplicate_positions(first: np.ndarray, second: np.ndarray | None = None, n_second: int = 0) -> np.ndarray:
    """Rows whose (``first``, ``second``) positions occurred in an earlier row (positions >= -1).

    Where positions were looked up in a unique index, equal positions are equal ids, so this flags the same rows
    as :func:`_duplicates` on the ids, in a fraction of the time on 10^7 rows (technique-major rows, as written
    by needplan, are checked without sorting).
    """
    if first.size < 2:
        return np.zeros(first.size, dtype=bool)
    # Rows in strictly increasing order of the pair (as needplan writes them) have no repeat: checked with two
    # boolean temporaries instead of a 64-bit key per row (88 MB at 10^7 rows).
    rising = first[1:] > first[:-1]
    if second is not None:
        rising |= (first[1:] == first[:-1]) & (second[1:] > second[:-1])
    if rising.all():
        return np.zeros(first.size, dtype=bool)
    del rising
    key = first.astype(np.int64) + 1
    if second is not None:
        key *= n_second + 1
        key += second + 1
    dup = np.zeros(key.size, dtype=bool)
    if np.all(key[1:] >= key[:-1]):
        dup[1:] = key[1:] == key[:-1]
        return dup
    order = np.argsort(key, kind="stable")  # stable: the first occurrence of a key leads its run
    key = key[order]
    dup[order[1:]] = key[1:] == key[:-1]
    return dup


def _goods_by_techniques(amount: np.ndarray, good: np.ndarray, technique: np.ndarray,
                         shape: tuple[int, int], owned: bool = False) -> sp.csc_matrix:
    """The sparse goods x techniques matrix of (technique, good, amount) rows without repeated pairs.

    Built as CSC directly (rows grouped by technique without a sort when they already are): a COO matrix of
    10^7 entries and its conversion would hold the data three times. ``owned``: ``amount`` is no one else's (a
    table the caller gave up), so the matrix may take it without a copy.
    """
    n_t = shape[1]
    small = max(shape) < np.iinfo(np.int32).max and amount.size < np.iinfo(np.int32).max
    idx = np.int32 if small else np.int64
    indptr = np.zeros(n_t + 1, dtype=idx)
    np.cumsum(np.bincount(technique, minlength=n_t), out=indptr[1:])
    if technique.size and not np.all(technique[1:] >= technique[:-1]):
        order = np.argsort(technique, kind="stable")
        good, amount = good[order], amount[order]
    elif not (owned and amount.flags.writeable):
        amount = amount.copy()  # it may be a view of the caller's table; the economy owns its matrices
    m = sp.csc_matrix((amount.astype(np.float64, copy=False), good.astype(idx, copy=False), indptr), shape=shape)
    m.sum_duplicates()  # sorts the goods within each technique where they are not sorted
    m.eliminate_zeros()
    m.sort_indices()
    return m


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
"""Characters that print as nothing (zero-width spaces and joiners, a byte-order mark, a soft hyphen)."""


class _Lookalikes:
    """Where an unknown id only looks like a known one of ``ids``, which one and why: another Unicode form of the
    same letters (an accent typed as a letter plus a combining mark, NFD, against one code point, NFC), an
    invisible character, or upper and lower case (fuzzing: "unknown good 'étoffe_café'" beside a good that printed
    the same). The ids' folded forms are built on the first message only."""

    def __init__(self, ids: pd.Index) -> None:
        self.ids = ids
        self._folded: dict[str, str] | None = None

    @staticmethod
    def _fold(text: str) -> str:
        return unicodedata.normalize("NFC", text).translate(_INVISIBLE).casefold()

    def __call__(self, written: object) -> str:
        if self._folded is None:
            self._folded = {}
            for k in self.ids:
                self._folded.setdefault(self._fold(str(k)), str(k))
        text = str(written)
        match = self._folded.get(self._fold(text))
        if match is None:
            return ""
        nfc, nfc_match = unicodedata.normalize("NFC", text), unicodedata.normalize("NFC", match)
        if nfc == nfc_match:
            return f" (it prints as {match!r} but is written in another Unicode form, NFC against NFD: retype one)"
        bare, bare_match = nfc.translate(_INVISIBLE), nfc_match.translate(_INVISIBLE)
        if bare == bare_match:  # in either id (a review: a defined id with a zero-width space was called "case")
            return f" (it differs from {match!r} by an invisible character)"
        if bare.lower() == bare_match.lower():
            hidden = " and an invisible character" if bare != nfc or bare_match != nfc_match else ""
            return f" (it differs from {match!r} in upper and lower case{hidden}: ids are case-sensitive)"
        return f" (it looks like {match!r})"  # casefold alone: 'strasse' and 'straße'


def build_economy(
    tables: Mapping[str, pd.DataFrame | None],
    *,
    name: str,
    description: str = "",
    sources: Mapping[str, TableSource] | None = None,
    origin: str = "",
    provenance: Mapping[str, Any] | None = None,
    check_productive: bool = True,
    consume: bool = False,
) -> Economy:
    """Validate raw tables (columns as in :mod:`needplan.economy.schema`, cells as text or numbers) and build.

    ``tables`` maps table names (``goods``, ``techniques``, ``inputs``, ``outputs``, ``resources``, ``needs``)
    to data frames; a missing optional table may be ``None`` or absent. ``sources`` names each table's rows in
    messages (default: ``goods row 0``...). Raises :class:`needplan.errors.EconomyError` listing every problem.
    ``consume``: ``tables`` is a dict the caller gives up; each frame leaves it once parsed, and the economy may
    keep the inputs' amounts without a copy (:func:`needplan.economy.read_economy`: the 10^7 rows of a large
    inputs table are then not held twice).
    """
    out = _Collector()
    srcs = {t.name: (sources or {}).get(t.name, frame_source(t.name)) for t in TABLES}
    parsed: dict[str, dict[str, np.ndarray]] = {}
    for table in TABLES:
        frame = tables.get(table.name)
        if frame is None:
            if table.required:
                out.add(srcs[table.name].label, "required table is missing")
            else:
                parsed[table.name] = {c.name: np.empty(0, dtype=object if c.type not in ("number", "bool")
                                                       else (np.float64 if c.type == "number" else bool))
                                      for c in table.columns}
            continue
        result = _parse_table(table.name, frame, srcs[table.name], out)
        if result is not None:
            parsed[table.name] = result
        if consume:
            assert isinstance(tables, dict), "consume needs a dict of tables"
            del tables[table.name], frame
    if len(parsed) < len(TABLES):
        out.raise_if_any(origin)  # without every table's columns nothing further can be checked
    # Bad cells were reported and replaced by neutral values: go on, so that one run reports every problem.

    g, te, outp, res, nd = (parsed[k] for k in ("goods", "techniques", "outputs", "resources", "needs"))

    # --- goods ---
    s = srcs["goods"]
    good_ids = g["good"]
    dup = _duplicates([good_ids])
    out.rows(s, dup, lambda i: f"duplicate good id {good_ids[i]!r}")
    kind_code = pd.Index(GOOD_KINDS).get_indexer(g["kind"])
    named = np.asarray(g["kind"], dtype=object) != ""  # (an empty kind is said once, as empty)
    out.rows(s, (kind_code < 0) & named,
             lambda i: f"kind must be one of {', '.join(GOOD_KINDS)}, got {g['kind'][i]!r}")
    if not (kind_code == PRODUCT).any():  # nothing to make, need or analyse
        out.add(s.label, "no good is a product: an economy needs at least one product, and a technique that makes it")
    out.raise_if_any(origin)
    goods = pd.Index(good_ids, dtype=object, name="good")
    kind = kind_code.astype(np.int8)
    like_good = _Lookalikes(goods)

    # --- techniques ---
    s = srcs["techniques"]
    tech_ids = te["technique"]
    out.rows(s, _duplicates([tech_ids]), lambda i: f"duplicate technique id {tech_ids[i]!r}")
    tg = _positions(goods, te["good"]).astype(np.int64, copy=False)
    out.rows(s, tg < 0, lambda i: f"technique {tech_ids[i]!r} makes unknown good {te['good'][i]!r}"
                                  f"{like_good(te['good'][i])}")
    known = tg >= 0
    not_product = np.zeros(len(tg), dtype=bool)
    not_product[known] = kind[tg[known]] != PRODUCT
    out.rows(s, not_product, lambda i: f"technique {tech_ids[i]!r} makes {te['good'][i]!r}, which is "
                                       f"{GOOD_KINDS[kind[tg[i]]]}: only products are made by techniques")
    out.raise_if_any(origin)
    techniques = pd.Index(tech_ids, dtype=object, name="technique")
    like_technique = _Lookalikes(techniques)
    capacity = np.where(np.isnan(te["capacity"]), np.inf, te["capacity"])

    # --- inputs and joint outputs ---
    def pairs(table: str, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p, src = parsed[table], srcs[table]
        t_idx = _positions(techniques, p["technique"])
        g_idx = _positions(goods, p["good"])
        out.rows(src, t_idx < 0, lambda i: f"unknown technique {p['technique'][i]!r}"
                                           f"{like_technique(p['technique'][i])}")
        out.rows(src, g_idx < 0, lambda i: f"unknown good {p['good'][i]!r}{like_good(p['good'][i])}")
        ok = (t_idx >= 0) & (g_idx >= 0)
        out.rows(src, ok & _duplicate_positions(t_idx, g_idx, len(goods)),
                 lambda i: f"{what} {p['good'][i]!r} of technique {p['technique'][i]!r} is listed twice")
        if consume and table == "inputs":  # looked up, every message about them written: the 10^7 ids can go
            del p["technique"], p["good"]
        return t_idx, g_idx, p["amount"]

    it, ig, ia = pairs("inputs", "input")
    ot, og, oa = pairs("outputs", "joint product")
    ok_o = (ot >= 0) & (og >= 0)
    jk = np.zeros(len(ot), dtype=bool)
    jk[ok_o] = kind[og[ok_o]] != PRODUCT
    out.rows(srcs["outputs"], jk, lambda i: f"technique {outp['technique'][i]!r} makes {outp['good'][i]!r} "
                                           f"jointly, which is {GOOD_KINDS[kind[og[i]]]}: only products can be made")
    main = np.zeros(len(ot), dtype=bool)
    main[ok_o] = og[ok_o] == tg[ot[ok_o]]
    out.rows(srcs["outputs"], main, lambda i: f"{outp['good'][i]!r} is the main product of technique "
                                              f"{outp['technique'][i]!r}: set its amount in techniques.output")

    # --- resources ---
    s = srcs["resources"]
    rg = _positions(goods, res["good"])
    out.rows(s, rg < 0, lambda i: f"unknown good {res['good'][i]!r}{like_good(res['good'][i])}")
    out.rows(s, (rg >= 0) & _duplicate_positions(rg), lambda i: f"good {res['good'][i]!r} is listed twice")
    rp = np.zeros(len(rg), dtype=bool)
    rp[rg >= 0] = kind[rg[rg >= 0]] == PRODUCT
    out.rows(s, rp, lambda i: f"{res['good'][i]!r} is a product; only labour and resources have an availability")

    # --- needs ---
    s = srcs["needs"]
    ng = _positions(goods, nd["good"])
    out.rows(s, ng < 0, lambda i: f"unknown good {nd['good'][i]!r}{like_good(nd['good'][i])}")
    out.rows(s, (ng >= 0) & _duplicate_positions(ng), lambda i: f"good {nd['good'][i]!r} is listed twice")
    npk = np.zeros(len(ng), dtype=bool)
    npk[ng >= 0] = kind[ng[ng >= 0]] != PRODUCT
    out.rows(s, npk, lambda i: f"{nd['good'][i]!r} is {GOOD_KINDS[kind[ng[i]]]}, not a product: "
                               f"only products can be needed")
    made = np.zeros(len(goods), dtype=bool)
    made[tg] = True
    unmade_need = np.zeros(len(ng), dtype=bool)
    unmade_need[ng >= 0] = (~made[ng[ng >= 0]]) & (kind[ng[ng >= 0]] == PRODUCT)
    # A product made only as a joint product still needs a technique of its own (the square Leontief system, and
    # the productivity check, take one technique per product): say so rather than "nothing makes it".
    joint_only = np.zeros(len(goods), dtype=bool)
    joint_only[og[ok_o]] = True
    joint_only &= ~made
    only_joint = " as its main product (it is only a joint product: add a technique that makes it, even a costly one)"
    out.rows(s, unmade_need, lambda i: f"product {nd['good'][i]!r} is needed but no technique makes it"
                                       f"{only_joint if joint_only[ng[i]] else ''}")
    needed = np.zeros(len(goods), dtype=bool)
    needed[ng[ng >= 0]] = True
    orphan = (kind == PRODUCT) & ~made & ~needed
    no_maker = " (make it a resource, or add a technique)"
    out.rows(srcs["goods"], orphan, lambda i: f"product {good_ids[i]!r} has no technique that makes it"
                                              f"{only_joint if joint_only[i] else no_maker}")
    out.raise_if_any(origin)

    n_g, n_t = len(goods), len(techniques)
    use = _goods_by_techniques(ia, ig, it, (n_g, n_t), owned=consume)
    del it, ig, ia, parsed["inputs"]  # the inputs table's columns (10^7 rows) are no longer needed
    make = _goods_by_techniques(np.concatenate([te["output"], oa]), np.concatenate([tg, og]),
                                np.concatenate([np.arange(n_t), ot]), (n_g, n_t))
    # Leontief analysis and planning divide each technique's amounts by its output: a tiny output (1e-320) makes
    # them infinite, which no solver can handle.
    with np.errstate(over="ignore", divide="ignore"):
        per_unit = np.maximum(np.maximum(use.max(axis=0).toarray().ravel(), make.max(axis=0).toarray().ravel()),
                              1.0) / te["output"]
    out.rows(srcs["techniques"], ~np.isfinite(per_unit),
             lambda i: f"output {te['output'][i]:g} of technique {tech_ids[i]!r} is too small: its amounts per unit "
                       "of product are beyond double precision (count the product in a smaller unit)")
    out.raise_if_any(origin)
    available = np.zeros(n_g)
    available[kind != PRODUCT] = np.inf
    available[rg] = res["available"]
    target = np.zeros(n_g)
    target[ng] = nd["target"]
    weight = np.zeros(n_g)
    weight[ng] = nd["weight"]
    qw = np.ones(n_g, dtype=bool)
    qw[ng] = nd["quality_weighted"]
    listed = np.zeros(n_g, dtype=bool)
    listed[ng] = True

    # Fresh indexes over the same ids: the ones looked up with above hold hash tables (~75 MiB each at 10^6 ids)
    # that the economy would keep for good; a later lookup builds them again on demand.
    goods, techniques = _unhashed(goods), _unhashed(techniques)
    economy = Economy(
        name=name, description=description, goods=goods, good_kind=kind,
        good_unit=np.asarray(g["unit"], dtype=object), good_name=np.asarray(g["name"], dtype=object),
        techniques=techniques, technique_good=tg.astype(np.int64), technique_output=te["output"],
        technique_capacity=capacity, technique_quality=te["quality"], use=use, make=make, available=available,
        target=target, weight=weight, quality_weighted=qw, need_listed=listed,
        provenance=dict(provenance or {}),
    )
    if check_productive:
        require_productive(economy, origin)
    return economy


def _unhashed(index: pd.Index) -> pd.Index:
    """The same labels (the same array, not a copy) in an index without the lookup table ``index`` has built."""
    return pd.Index(index.to_numpy(), dtype=object, name=index.name, copy=False)


def require_productive(economy: Economy, origin: str = "") -> None:
    """Raise :class:`EconomyError` naming the blocking products unless ``economy`` is productive with each
    product's first technique (see :func:`needplan.leontief.check_productive`)."""
    why = unproductive(economy)
    if why is not None:
        raise EconomyError(Problem(
            "techniques", f"the economy is not productive with each product's first technique: {why}, so no net "
            "surplus is possible (see the inputs table)"), origin)


def unproductive(economy: Economy, choice: Choice = None, tech: Technology | None = None) -> str | None:
    """Why ``economy`` is not productive with the techniques of ``choice`` (each product's first where it names
    none), naming the products that block it, or ``None`` where it is (:func:`needplan.leontief.check_productive`).
    ``tech``: that choice's technology, where the caller has built it already."""
    tech = economy.technology(choice) if tech is None else tech
    productive, blocking = leontief.check_productive(tech.A)
    if productive:
        return None
    names = [str(economy.goods[tech.products[b]]) for b in blocking[:10]]
    more = f" and {len(blocking) - 10} more" if len(blocking) > 10 else ""
    return (f"{names[0]} uses up at least as much of itself as it makes" if len(names) == 1 and not more
            else f"{', '.join(names)}{more} use up at least as much of each other as they make" if names
            else "no plan of them makes a net surplus of every product")

