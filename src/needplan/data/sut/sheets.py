"""Worksheets as grids of cells that name themselves in errors (``sut_2019.xlsx Table1!D12``).

The statistics offices' workbooks move their blocks between years, so the readers find rows and columns by
their labels through these helpers and never use fixed cell addresses. This module knows no economics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
from openpyxl.utils import get_column_letter

from needplan.data.sut.common import SutError
from needplan.errors import Problem


def norm(text: object) -> str:
    """A label for matching: lower case, blanks collapsed, no surrounding blanks or trailing dots."""
    return re.sub(r"\s+", " ", str(text)).strip().lower() if text is not None else ""


class Sheet:
    """One worksheet's values, 0-based ``cells[row][col]`` (None for empty), with its file and sheet name."""

    def __init__(self, file: Path, name: str, rows: list[tuple[object, ...]]) -> None:
        self.file = file
        self.name = name
        width = max((len(r) for r in rows), default=0)
        self.cells = np.empty((len(rows), width), dtype=object)
        for i, r in enumerate(rows):
            self.cells[i, : len(r)] = r

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.cells.shape[0]), int(self.cells.shape[1]))

    def where(self, row: int, col: int | None = None) -> str:
        """``Table1!D12`` (or ``Table1 row 12``) for a 0-based cell."""
        if col is None:
            return f"{self.name} row {row + 1}"
        return f"{self.name}!{get_column_letter(col + 1)}{row + 1}"

    def error(self, row: int, col: int | None, message: str) -> SutError:
        return SutError(Problem(self.where(row, col), message), str(self.file))

    def find_rows(self, col: int, match: Callable[[str], bool], start: int = 0, stop: int | None = None) -> list[int]:
        """Rows (0-based) in ``[start, stop)`` whose cell in ``col`` matches (on the :func:`norm` label)."""
        stop = self.shape[0] if stop is None else stop
        return [r for r in range(start, stop) if col < self.shape[1] and match(norm(self.cells[r, col]))]

    def find_cell(self, match: Callable[[str], bool], rows: Iterable[int] | None = None) -> tuple[int, int] | None:
        """The first cell (row-major) whose label matches, or None."""
        for r in rows if rows is not None else range(self.shape[0]):
            for c in range(self.shape[1]):
                v = self.cells[r, c]
                if isinstance(v, str) and match(norm(v)):
                    return r, c
        return None

    def numbers(self, rows: list[int], cols: list[int], *, blank: float = 0.0, counts: str = "") -> np.ndarray:
        """The block ``rows x cols`` as floats; empty cells become ``blank`` (NaN to mark 'no figure').

        Raises :class:`SutError` naming the first non-numeric cell, and, where the cells are ``counts`` (labour, an
        emission: never below 0), the first negative one with its value as written.
        """
        block = self.cells[np.ix_(rows, cols)] if rows and cols else np.empty((len(rows), len(cols)), dtype=object)
        out = np.full(block.shape, blank, dtype=np.float64)
        for (i, j), v in np.ndenumerate(block):
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise self.error(rows[i], cols[j], f"not a number: {v!r}")
            if not np.isfinite(v):
                raise self.error(rows[i], cols[j], f"not a finite number: {v!r}")
            if counts and v < 0:
                raise self.error(rows[i], cols[j], f"negative {counts}: {v!r}")
            out[i, j] = float(v)
        return out


def _open(path: Path) -> Any:
    """The workbook at ``path``, read-only (values, not formulas); errors name the file."""
    if not path.is_file():
        raise SutError(Problem(str(path), "is a folder, not an .xlsx workbook" if path.is_dir() else "no such file"))
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for files that are not workbooks
        raise SutError(Problem(str(path), f"cannot read as an .xlsx workbook: {exc}")) from None


def sheet_names(path: Path) -> list[str]:
    """The names of the sheets of an .xlsx workbook, without reading their cells."""
    wb = _open(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def load_workbook(path: Path, select: Callable[[list[str]], Iterable[str]] | None = None) -> dict[str, Sheet]:
    """The sheets of an .xlsx workbook as :class:`Sheet` (values, not formulas); errors name the file.

    ``select``: given the workbook's sheet names, those to read (all when None); the others are not parsed."""
    wb = _open(path)
    try:
        wanted = None if select is None else set(select(list(wb.sheetnames)))
        sheets = {}
        for ws in wb.worksheets:
            if wanted is not None and ws.title not in wanted:
                continue
            try:
                rows = list(ws.iter_rows(values_only=True))
            except MemoryError:
                raise  # (the command's own line for it: no damage)
            except Exception as exc:  # a damaged sheet inside a readable zip: XML, CRC and zlib errors (fuzzing)
                raise SutError(Problem(str(path), f"cannot read sheet {ws.title!r}, the workbook is damaged: "
                                                  f"{type(exc).__name__}: {exc}")) from None
            sheets[ws.title] = Sheet(path, ws.title, rows)
        return sheets
    finally:
        wb.close()
