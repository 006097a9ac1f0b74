"""Read and write economy folders (``economy.toml`` plus one CSV or Parquet file per table).

Reading names the file and line of every problem; writing goes to a temporary folder beside the target that is
renamed into place only when complete, so a failed write never leaves a half folder.
"""

from __future__ import annotations

import bisect
import csv as csv_module
import datetime
import difflib
import os
import re
import shutil
import stat
import tempfile
import tomllib
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from needplan.economy.model import Economy
from needplan.economy.schema import FORMAT_VERSION, TABLES, TABLES_BY_NAME
from needplan.economy.validate import TableSource, build_economy, require_productive
from needplan.errors import EconomyError, OutputError, Problem

MANIFEST = "economy.toml"
TableFormat = Literal["csv", "parquet"]
PARQUET_ROW_GROUP = 1 << 25
"""Rows per Parquet row group written (Arrow's default is 2^20)."""


def present(path: Path) -> bool:
    """Whether ``path`` is there at all, a link to nothing included (reading it then says why it cannot be read)."""
    return path.exists() or path.is_symlink()


def not_a_file(path: Path) -> Problem | None:
    """Why ``path`` (present) cannot be read as a file: a folder, a link to nothing or links in a loop, or no
    regular file at all (a FIFO waits for a writer for ever, a device has no end: fuzzing); else None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        link = f" (a link to {os.readlink(path)!r})" if path.is_symlink() else ""
        return Problem(path.name, f"cannot read: {exc.strerror or exc}{link}")
    if stat.S_ISDIR(mode):
        return Problem(path.name, "cannot read: Is a directory (a table or manifest is a file, not a folder)")
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if (
            stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) else "a socket" if stat.S_ISSOCK(mode) else "no regular file"
        return Problem(path.name, f"cannot read: it is {kind}, not a regular file")
    return None


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not present(path):
        raise EconomyError(Problem(MANIFEST, "manifest is missing (an economy folder needs economy.toml)"),
                           str(folder))
    if (problem := not_a_file(path)) is not None:
        raise EconomyError(problem, str(folder))
    try:
        # utf-8-sig: a byte-order mark, as some editors write, is accepted as it is in the CSV tables
        manifest = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:  # (fuzzing: a Latin-1 manifest was "not valid TOML: 'utf-8' codec can't ...")
        line, message = not_utf8_at(exc)
        raise EconomyError(Problem(f"{MANIFEST} line {line}", message), str(folder)) from None
    except tomllib.TOMLDecodeError as exc:
        raise EconomyError(Problem(MANIFEST, f"not valid TOML: {exc}"), str(folder)) from None
    except OSError as exc:
        raise EconomyError(Problem(MANIFEST, f"cannot read: {exc.strerror or exc}"), str(folder)) from None
    problems = []
    version = manifest.get("format_version")
    if version is None:
        problems.append(Problem(MANIFEST, "format_version is missing"))
    elif isinstance(version, bool) or not isinstance(version, int):  # 1.0 == 1 and True == 1 in Python
        problems.append(Problem(MANIFEST, f"format_version must be a whole number such as {FORMAT_VERSION}, "
                                          f"got {version!r}"))
    elif version != FORMAT_VERSION:
        problems.append(Problem(MANIFEST, f"unknown format_version {version!r}; this needplan reads version "
                                          f"{FORMAT_VERSION}"))
    name = manifest.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(MANIFEST, "name is missing or empty"))
    if "description" in manifest and not isinstance(manifest["description"], str):
        problems.append(Problem(MANIFEST, "description must be a string"))
    if "tables" in manifest:  # (fuzzing: [tables] goods = "foo.csv" was ignored without a word)
        problems.append(Problem(MANIFEST, "tables: needplan reads each table from its own name in the folder "
                                          "(goods.csv or goods.parquet, and so on), not from the manifest; remove "
                                          "the tables entry and rename the files"))
    if problems:
        raise EconomyError(problems, str(folder))
    return manifest


def csv_records(path: Path, *, empty_rows: bool = False) -> Iterator[tuple[int, list[str]]]:
    """The line on which each record of a CSV file starts (from 1), and its fields; blank lines are skipped, as
    pandas skips them, and so are lines of empty fields only (a spreadsheet's empty rows: ``,,,``), which
    :func:`_read_table` drops, unless ``empty_rows`` (pandas reads them as rows). Pure Python: for messages about a
    file already read, never for the data itself."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv_module.reader(fh, skipinitialspace=True)
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            if any(f.strip() for f in fields) or (empty_rows and fields):
                yield start, fields


_NOT_CSV = ((b"\xff\xfe", "UTF-16 text (a spreadsheet's 'Unicode text')"),
            (b"\xfe\xff", "UTF-16 text (a spreadsheet's 'Unicode text')"),
            (b"PK\x03\x04", "a spreadsheet workbook (.xlsx or .ods), not CSV"),
            (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls), not CSV"))
"""First bytes of files a spreadsheet writes that are not CSV in UTF-8, and what they are."""
_SAVE_AS = "save it as 'CSV UTF-8 (comma delimited)'"


def _foreign(path: Path, head: bytes) -> Problem | None:
    """What a file whose first bytes are ``head`` is, where a spreadsheet wrote it and it is no CSV in UTF-8."""
    for magic, what in _NOT_CSV:
        if head.startswith(magic):
            return Problem(path.name, f"the file is {what}: {_SAVE_AS}")
    if b"\x00" in head:
        return Problem(path.name, f"the file holds NUL bytes (UTF-16 text, or not a text file): {_SAVE_AS}")
    return None


def not_utf8_csv(path: Path) -> Problem | None:
    """Why ``path`` (present) cannot be read as CSV text in UTF-8, as :func:`read_economy` says it for its tables:
    no regular file (:func:`not_a_file`), a spreadsheet's UTF-16 text or workbook, NUL bytes, or the line of its
    first byte that is not UTF-8; else None. For small files: it reads the whole file."""
    if (problem := not_a_file(path)) is not None:
        return problem
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(path.name, f"cannot read: {exc.strerror or exc}")
    return _foreign(path, data[:4096]) or _not_utf8(path, data)


def _csv_preflight(path: Path) -> tuple[Problem | None, list[int]]:
    """What makes a CSV file unreadable before pandas tries (a problem naming the line), and the positions of the
    header's columns that have no name (fuzzing spreadsheet exports: pandas named them 'Unnamed: 4', told a
    UTF-16 or workbook file by a codec's byte position, mangled a repeated column into 'good.1', and blamed a
    decimal comma in a ';'-separated file on a line with "a comma too many")."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None, []  # pandas says why
    if (foreign := _foreign(path, head)) is not None:
        return foreign, []
    try:
        records = csv_records(path)
        first = next(records, None)
        if first is None and b"," in head:  # lines of commas only (an empty sheet; empty files: pandas says so)
            return Problem(path.name, "file holds no header line, only empty lines"), []
        line, header = first or (1, [])
    except UnicodeDecodeError:
        return _not_utf8(path), []
    except csv_module.Error:
        return None, []  # pandas and _open_quote say why
    if first is not None and _blank_line_before(path, line):
        return Problem(f"{path.name} line 1", "holds empty fields only, above the header: delete the empty rows "
                                              "above it (the header must be the first line that is not blank)"), []
    names = [h.strip() for h in header]
    if len(names) == 1 and (sep := next((c for c in ";\t|" if c in names[0]), None)):
        return Problem(f"{path.name} line {line}", f"the fields seem separated by {sep!r}: tables must be "
                                                   f"comma-separated, numbers with a decimal point ({_SAVE_AS})"), []
    repeated = next((n for i, n in enumerate(names) if n and n in names[:i]), None)
    if repeated is not None:
        return Problem(f"{path.name} line {line}", f"column {repeated!r} appears more than once"), []
    return None, [i for i, n in enumerate(names) if not n]


def not_utf8_at(exc: UnicodeDecodeError) -> tuple[int, str]:
    """The line of a text file's first byte that is not UTF-8, and a message naming the byte and its column."""
    before = exc.object[:exc.start]
    line, column = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
    return line, (f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at column {column} (save the file as "
                  "UTF-8)")


def _not_utf8(path: Path, data: bytes | None = None) -> Problem | None:
    """The line of a file's first byte that is not UTF-8, named (pandas told the byte's place within a chunk);
    ``data``: the file's bytes, where the caller has read them."""
    data = path.read_bytes() if data is None else data
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = data[:exc.start].count(b"\n") + 1
        return Problem(f"{path.name} line {where}", f"is not UTF-8 text (byte 0x{data[exc.start]:02x}; written as "
                                                   f"Windows-1252 or Latin-1?): {_SAVE_AS}")
    return None


def _long_empty_line(path: Path) -> Problem | None:
    """The first line of empty fields only with more fields than the header (a sheet's empty row wider than the
    table: pandas cannot tokenize it, csv_records skips it), or None (a review)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv_module.reader(fh, skipinitialspace=True)
            width = None
            for fields in reader:
                if width is None:
                    width = len(fields) if any(f.strip() for f in fields) else None
                elif len(fields) > width and not any(f.strip() for f in fields):
                    return Problem(f"{path.name} line {reader.line_num}", f"holds only empty fields, {len(fields)} "
                                   f"of them where the header has {width}: delete the row")
    except (OSError, UnicodeDecodeError, csv_module.Error):
        pass
    return None


def _blank_line_before(path: Path, header_line: int) -> bool:
    """Whether a line of empty fields (``,,,``) comes before the header on ``header_line``: pandas would take it
    for the header, where :func:`csv_records` skips it (a review)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for number, text in enumerate(fh, start=1):
            if number >= header_line:
                return False
            if "," in text:
                return True
    return False


class CsvLines:
    """The line of each data row (from 0) of a CSV file, found on first use, that is when a problem is reported:
    pandas skips blank lines and reads a quoted line break as part of its cell, so rows and lines drift apart.
    Kept as the rows where the drift changes (few), not one number per row. ``empty_rows``: as
    :func:`csv_records`."""

    def __init__(self, path: Path, *, empty_rows: bool = False) -> None:
        self.path, self.empty_rows = path, empty_rows
        self._rows: list[int] | None = None
        self._drift: list[int] = []

    def __call__(self, row: int) -> int:
        if self._rows is None:
            self._rows = []
            drift = 0
            try:
                for i, (line, _fields) in enumerate(csv_records(self.path, empty_rows=self.empty_rows),
                                                     start=-1):  # row -1: the header
                    if line - (i + 2) != drift:
                        drift = line - (i + 2)
                        self._rows.append(i)
                        self._drift.append(drift)
            except (OSError, UnicodeDecodeError, csv_module.Error):  # read by pandas, yet not here: count evenly
                self._rows, self._drift = [], []
        k = bisect.bisect_right(self._rows, row) - 1
        return row + 2 + (self._drift[k] if k >= 0 else 0)


def _open_quote(path: Path) -> Problem | None:
    """The line where a quote opens that no later quote closes (the cell would run to the end of the file), or
    None."""
    opened, start = False, 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as lines:
            for number, text in enumerate(lines, start=1):
                if text.count('"') % 2:
                    opened, start = not opened, number if not opened else start
    except (OSError, UnicodeDecodeError):
        return None
    return Problem(f"{path.name} line {start}", 'a quote (") is opened and not closed: the cell runs on to the end '
                                                "of the file") if opened else None


def _odd_fields(path: Path) -> Problem | None:
    """The first line of a CSV file with more or fewer fields than its header, or None."""
    try:
        records = csv_records(path)
        _, header = next(records, (1, []))
        for line, fields in records:
            if len(fields) != len(header):
                if (quote := _open_quote(path)) is not None:  # it swallowed the lines after it (fuzzing)
                    return quote
                why = ("a comma too many, or a cell with a comma not in quotes" if len(fields) > len(header)
                       else "a cell left out: an empty cell still needs its comma")
                return Problem(f"{path.name} line {line}", f"has {len(fields)} field{'s' if len(fields) != 1 else ''}, "
                                                           f"the header has {len(header)} ({why})")
    except csv_module.Error:
        return _open_quote(path)
    except (OSError, UnicodeDecodeError):
        pass
    return None


def _nan_cells(table: pa.Table, src: TableSource, most: int = 20) -> list[Problem]:
    """A problem for each NaN (not null) in a floating-point column, as a CSV cell 'nan' is one: pandas reads a
    null and a NaN alike, and a NaN output or quality became its default 1 unseen (fuzzing). A null is an empty
    cell (pandas writes its NaN as one)."""
    problems: list[Problem] = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_floating(column.type):
            continue
        nan = pc.and_(pc.is_nan(column), pc.is_valid(column))
        if pc.any(nan).as_py():
            rows = pc.indices_nonzero(nan).to_numpy()
            problems += [Problem(src.where(int(i)), f"{name} is not finite: nan (an empty cell is a null)")
                         for i in rows[:most - len(problems)]]
            if len(problems) >= most:
                break
    return problems


def _bad_text_cells(table: pa.Table, src: TableSource) -> Problem | None:
    """The first cell of a text column that holds bytes that are no UTF-8 text (fuzzing: a traceback from pandas's
    conversion; Arrow's types promise UTF-8 but do not check it on reading)."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        row = 0
        for chunk in column.chunks:
            values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
            if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                try:
                    values.validate(full=True)
                except pa.ArrowInvalid:
                    raw = values.cast(pa.large_binary()).to_pylist()
                    bad = next(i for i, v in enumerate(raw) if v is not None and not _is_utf8(v))
                    if pa.types.is_dictionary(chunk.type):
                        bad = next((i for i, k in enumerate(chunk.indices.to_pylist()) if k == bad), 0)
                    return Problem(src.where(row + bad), f"{name} holds bytes that are not UTF-8 text: "
                                                         f"{raw[bad]!r}"[:200])
            row += len(chunk)
    return None


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
"""The name pandas gives an unnamed index it stores as a Parquet column."""


def _misnamed(name: str, table: str) -> bool:
    """Whether the file ``name`` looks like ``table``'s under a name a little off (``output.csv``, ``Input.parquet``,
    ``outputs2.csv``: a difflib ratio of at least 0.8), and is no table's own."""
    stem, dot, ext = name.rpartition(".")
    stem = stem.lower()
    return (bool(dot) and ext.lower() in ("csv", "parquet") and stem not in TABLES_BY_NAME
            and difflib.SequenceMatcher(None, stem, table).ratio() >= 0.8)


def _read_table(folder: Path, table: str) -> tuple[pd.DataFrame | None, TableSource]:
    csv, parquet = folder / f"{table}.csv", folder / f"{table}.parquet"
    if present(csv) and present(parquet):
        raise EconomyError(Problem(f"{table}.csv", f"both {table}.csv and {table}.parquet exist; keep one"),
                           str(folder))
    for path in (csv, parquet):
        if present(path) and (problem := not_a_file(path)) is not None:
            raise EconomyError(problem, str(folder))
    if not present(csv) and not present(parquet) and folder.is_dir():
        # (fuzzing: Goods.CSV was only "required table is missing"; an optional table so named would be ignored)
        names = {csv.name.lower(), parquet.name.lower()}
        for other in sorted(p.name for p in folder.iterdir() if p.name.lower() in names):
            raise EconomyError(Problem(other, f"not read: table files are named in lower case ({csv.name} or "
                                              f"{parquet.name})"), str(folder))
        # (a helper's audit: outputs.csv renamed output.csv validated "ok" and the plan lost its joint products)
        for other in sorted(p.name for p in folder.iterdir() if _misnamed(p.name, table)):
            raise EconomyError(Problem(other, f"not read: no table is named so; is it the {table} table "
                                              f"({csv.name} or {parquet.name})? Rename it, or move it out of the "
                                              "folder"), str(folder))
    if present(parquet):
        src = TableSource(parquet.name, 1, "row")
        try:
            columns = pq.read_schema(parquet).names
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise EconomyError(Problem(parquet.name, f"cannot read Parquet: {exc}"), str(folder)) from None
        if repeated := sorted({c for c in columns if columns.count(c) > 1}):
            # (fuzzing: Arrow's "Multiple matches for FieldRef.Name(technique)", where the CSV says this)
            raise EconomyError(Problem(parquet.name, f"column {repeated[0]!r} appears more than once"), str(folder))
        try:
            # Memory-mapped, without pre-buffering: the file is not copied into memory before it is decoded; each
            # Arrow column is freed as soon as pandas has its own copy (self_destruct), so the two never coexist.
            table_ = pq.read_table(parquet, memory_map=True, pre_buffer=False)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise EconomyError(Problem(parquet.name, f"cannot read Parquet: {exc}"), str(folder)) from None
        if nan := _nan_cells(table_, src):
            raise EconomyError(nan, str(folder))
        if (odd := _bad_text_cells(table_, src)) is not None:
            raise EconomyError(odd, str(folder))
        # The columns as stored, without pandas's metadata: it made a column written as the index of a DataFrame
        # (df.set_index("capacity")) the frame's index, unread, so the capacities were silently dropped, and its
        # damaged metadata raised KeyError (fuzzing). An unnamed index pandas stored is no column of the table.
        # (one name for the table, so that self_destruct can free each column as pandas takes it)
        table_ = table_.drop_columns([c for c in table_.column_names if _PANDAS_INDEX.fullmatch(c)]
                                     ).replace_schema_metadata(None)
        try:
            return table_.to_pandas(self_destruct=True, split_blocks=True), src
        except Exception as exc:  # pyarrow raises several types
            raise EconomyError(Problem(parquet.name, f"cannot read Parquet: {exc}"), str(folder)) from None
    src = TableSource(csv.name, 2, "line", CsvLines(csv))
    if not present(csv):
        return None, src
    problem, unnamed = _csv_preflight(csv)
    if problem is not None:
        raise EconomyError(problem, str(folder))
    try:
        # index_col=False: a first data line with one field more than the header would otherwise make pandas take
        # the first column for the index and shift every cell; it warns instead, and the warning is the error.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8",
                                index_col=False)
    except pd.errors.EmptyDataError:
        raise EconomyError(Problem(csv.name, "file is empty (it needs at least a header line)"),
                           str(folder)) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as exc:
        # (a byte that is not UTF-8 past the preflight's first record: a review)
        odd = (_not_utf8(csv) if isinstance(exc, UnicodeDecodeError)
               else _odd_fields(csv) or _open_quote(csv) or _long_empty_line(csv))
        raise EconomyError(odd or Problem(csv.name, f"cannot parse CSV: {exc}"), str(folder)) from None
    except OSError as exc:  # a folder of that name, a file that cannot be opened
        raise EconomyError(Problem(csv.name, f"cannot read: {exc.strerror or exc}"), str(folder)) from None
    # pandas reads the cells a short line leaves out as empty, which is a default: a capacity would then be read
    # as the quality. Such a line leaves the last column empty, so the file is scanned only where one is.
    if frame.shape[1] and (frame.iloc[:, -1] == "").any() and (odd := _odd_fields(csv)) is not None:
        raise EconomyError(odd, str(folder))
    if frame.shape[1] and (first_empty := (frame.iloc[:, 0].str.strip() == "").to_numpy()).any():
        # A spreadsheet's empty rows come as lines of commas: blank lines, as csv_records counts them (by the same
        # test, blanks stripped: a review found a row of no-break spaces counted apart, the lines after it late).
        blank = first_empty.copy()
        blank[first_empty] = frame[first_empty].apply(lambda col: col.str.strip() == "").all(axis=1).to_numpy()
        if blank.any():
            frame = frame[~blank].reset_index(drop=True)
    if unnamed:
        # A column with no name: dropped where it is empty all the way down (a spreadsheet's trailing columns).
        full = [k for k in unnamed if k < frame.shape[1] and (frame.iloc[:, k] != "").any()]
        if full:
            raise EconomyError(Problem(f"{csv.name} line 1", f"column {full[0] + 1} has no name in the header but "
                                       "holds values: name it, or delete it"), str(folder))
        frame = frame.drop(columns=frame.columns[[k for k in unnamed if k < frame.shape[1]]])
    return frame, src


def read_economy(folder: str | os.PathLike[str], *, check_productive: bool = True) -> Economy:
    """Load and validate an economy folder; raises :class:`~needplan.errors.EconomyError` naming every problem."""
    path = Path(folder)
    if not path.is_dir():
        raise EconomyError(Problem(str(path), "is not a folder"))
    manifest = _read_manifest(path)
    frames: dict[str, pd.DataFrame | None] = {}
    sources: dict[str, TableSource] = {}
    unreadable: list[Problem] = []
    for table in TABLES:  # every file's problem at once, not the first file's alone
        try:
            frames[table.name], sources[table.name] = _read_table(path, table.name)
        except EconomyError as exc:
            unreadable += exc.problems
    if unreadable:
        raise EconomyError(unreadable, str(path))
    # Arrow's allocator keeps the buffers freed by decoding (hundreds of MiB for 10^7 rows) for reuse; hand them
    # back before validation allocates its own.
    pa.default_memory_pool().release_unused()
    provenance = {k: v for k, v in manifest.items() if k not in ("format_version", "name", "description")}
    provenance["folder"] = str(path.resolve())  # where it was read, whatever a manifest's own "folder" says
    # consume: each raw table goes as soon as it is parsed (the inputs' 10^7 rows are not held beside the matrix
    # built from them), and all are gone before the productivity check builds its matrix.
    economy = build_economy(frames, name=str(manifest["name"]), description=str(manifest.get("description", "")),
                            sources=sources, origin=str(path), provenance=provenance, check_productive=False,
                            consume=True)
    pa.default_memory_pool().release_unused()  # and those of the string columns cleaned in validation
    if check_productive:
        require_productive(economy, str(path))
    return economy


_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_INT64 = 2**63


def _toml_string(text: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped (a name with a carriage return
    was written raw, and the folder could not be read again: a helper's fuzzing)."""
    return '"' + "".join(_TOML_ESCAPES.get(ch, f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
                         for ch in text) + '"'


def _toml_key(key: str) -> str:
    """A bare key where TOML allows one, else a quoted one ("my key" and "a.b" stay single keys)."""
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and -_INT64 <= value < _INT64:
        return repr(value)
    if isinstance(value, int):  # beyond TOML's 64-bit integers (a seed of 2^64 - 1): as text
        return _toml_string(str(value))
    if isinstance(value, float):
        return repr(value)  # inf, nan and 1e+308 are TOML as repr writes them
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):  # a table of the manifest read back: inline, so that it stays one
        return "{" + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return _toml_string(str(value))


def manifest_text(name: str, description: str = "", extra: Mapping[str, Any] | None = None) -> str:
    """The text of an ``economy.toml``; ``extra`` holds flat keys (provenance, assumptions) kept as metadata."""
    lines = [f"format_version = {FORMAT_VERSION}", f"name = {_toml_value(name)}"]
    if description:
        lines.append(f"description = {_toml_value(description)}")
    for key, value in (extra or {}).items():
        if key in ("format_version", "name", "description", "folder"):
            continue
        lines.append(f"{_toml_key(str(key))} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def holds(folder: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (both resolved), so that replacing ``folder`` deletes it."""
    outer, inner = Path(folder).resolve(), Path(path).resolve()
    return outer == inner or outer in inner.parents


def output_names() -> frozenset[str]:
    """The names of the files needplan's commands write into an output folder: an economy's manifest and tables
    (CSV or Parquet), a plan's tables and ``plan.json``, and what ``sut-series``, ``simulate`` and ``compare``
    write."""
    from needplan.data.names import FIGURE_THEMES, OTHER_OUTPUTS, PLAN_TABLES

    return frozenset({MANIFEST, *(f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "parquet")),
                      *(f"{name}.csv" for name in PLAN_TABLES), *(f"{theme}.png" for theme in FIGURE_THEMES),
                      *OTHER_OUTPUTS})


def economy_names() -> frozenset[str]:
    """The names of the files that mark a folder as an economy: its manifest and its tables, less ``needs.csv``,
    which a plan folder holds too."""
    return frozenset({MANIFEST, *(f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "parquet"))}) - {
        "needs.csv"}


def replace_problem(dest: Path, *, economy: bool = False) -> str | None:
    """Why ``--overwrite`` must not replace the existing ``dest``, or ``None`` when it may: needplan replaces only
    a folder like those it writes, which hold plain files of the names it writes (:func:`output_names`) and
    nothing else. Not a file, a device or a link (a plan written with ``--out /dev/null --overwrite`` as root
    replaced the device with a folder), not a folder holding folders, links or devices (a home folder named by
    mistake), and not a folder holding a file needplan does not write (fuzzing: ``--out my_notes --overwrite``
    deleted the user's thesis.txt there). An economy folder (:func:`economy_names`) is replaced only by what
    writes an economy (``economy=True``): an economy may be written by hand, and ``plan OTHER --out MINE
    --overwrite`` deleted it."""
    if dest.is_symlink() or not dest.is_dir():
        kind = "a link" if dest.is_symlink() else "a file" if dest.is_file() else "not a folder"
        return (f"{dest} exists and is {kind}; --overwrite replaces only a folder of needplan's output: choose "
                "another name")
    with os.scandir(dest) as entries:
        listed = [(e.name, e.is_symlink() or not e.is_file(follow_symlinks=False)) for e in entries]
    other = next((name for name, odd in listed if odd), None)
    if other is not None:
        return (f"{dest} holds {other!r}, which is not a plain file: needplan's outputs hold only files, so "
                "--overwrite will not delete this folder; choose another name or remove it yourself")
    if not economy:
        marker = next((name for name, _ in sorted(listed) if name in economy_names()), None)
        if marker is not None:
            return (f"{dest} holds an economy ({marker}): only generate and import-sut replace an economy, so "
                    "--overwrite will not delete it here; choose another name or remove it yourself")
    known = output_names()
    other = next((name for name, _ in sorted(listed) if name not in known), None)
    if other is not None:
        return (f"{dest} holds {other!r}, which needplan does not write: --overwrite replaces only a folder of "
                "needplan's output; choose another name or remove it yourself")
    return None


def name_problem(target: str | os.PathLike[str]) -> str | None:
    """Why ``target`` cannot be an output folder by its name alone (none of its own, ``""``, ``"."``, ``".."``; or it
    is or holds the current folder, which replacing it would delete), or ``None``."""
    dest = Path(target)
    if dest.name in ("", ".", ".."):
        return f"{str(target)!r} is not a folder name of its own: name the output folder"
    if holds(dest, Path.cwd()):
        return f"{dest} is (or holds) the current folder, which replacing it would delete"
    tables = economy_names() | {"needs.csv"}
    for part in (dest.absolute(), *dest.absolute().parents):
        # (a helper's audit: `plan ECON --out ECON/needs.parquet` wrote a folder there, exit 0, and ECON could
        # no longer be read: "both needs.csv and needs.parquet exist")
        if part.name in tables and not present(part) and any(present(part.parent / name) for name in tables):
            return (f"{dest}: a folder named {part.name} in the economy folder {part.parent} would make that "
                    "economy unreadable (the name is one of its tables'); choose another name")
    return None


@contextmanager
def atomic_folder(target: str | os.PathLike[str], *, overwrite: bool = False,
                  economy: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``target`` that replaces ``target`` only if the block succeeds.

    Refuses (:class:`~needplan.errors.OutputError`) a target without a name of its own (``""``, ``"."``,
    ``".."``), one that is or holds the current folder, which replacing would delete, and one that is not a folder
    of plain files (:func:`replace_problem`; an economy folder only where ``economy``, what is written is an
    economy). The new folder gets the
    permissions of any folder made here (``0o777`` less the umask), not the private ones of a temporary folder.
    The temporary names beside it keep the first 64 characters of its name, so that a name near the system's
    limit (255 bytes) still fits.
    """
    dest = Path(target)
    if (why := name_problem(target)) is not None:
        raise OutputError(why)
    if present(dest):
        if not overwrite:
            raise FileExistsError(f"{dest} exists (pass overwrite=True, on the command line --overwrite, to replace "
                                  "it)")
        if (why := replace_problem(dest, economy=economy)) is not None:
            raise OutputError(why)
    blocking = next((p for p in dest.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise OutputError(f"{dest}: {blocking} is a file, not a folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    short = dest.name[:64]
    tmp = Path(tempfile.mkdtemp(prefix=f".{short}.", suffix=".tmp", dir=dest.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if dest.exists():
        old = dest.with_name(f".{short}.old{os.getpid()}")
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
            if present(old):  # (fuzzing, a file made immutable in it: the old copy stayed, unsaid, and exit 0)
                raise OutputError(f"{dest} is written, but its old copy could not be removed: {old} remains; "
                                  "remove it yourself")
        else:
            old.unlink()


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame], fmt: TableFormat) -> None:
    """Write tidy tables into an existing folder as CSV or Parquet (no manifest, not atomic by itself)."""
    for name, frame in tables.items():
        if fmt == "parquet":
            # One row group up to PARQUET_ROW_GROUP rows: each row group repeats the dictionary of its id columns
            # (up to every good), so Arrow's default of 2^20 rows made a 10^7-row table twice as large and
            # four times slower to read.
            frame.to_parquet(folder / f"{name}.parquet", index=False, row_group_size=PARQUET_ROW_GROUP)
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)


def write_economy(economy: Economy, folder: str | os.PathLike[str], *, fmt: TableFormat = "csv",
                  overwrite: bool = False) -> Path:
    """Write ``economy`` as a folder (atomically). Returns the folder's path."""
    tables = economy.tables()
    if tables["outputs"].empty:
        del tables["outputs"]
    with atomic_folder(folder, overwrite=overwrite, economy=True) as tmp:
        (tmp / MANIFEST).write_text(manifest_text(economy.name, economy.description, economy.provenance),
                                    encoding="utf-8")
        write_tables(tmp, tables, fmt)
    return Path(folder)
