"""Real economies from national supply-use tables: INE (Spain), SCB (Sweden), or any country as CSV.

:func:`import_sut` reads a table, builds an economy under a stated technology assumption, checks that it
reproduces the table (gross output of every product, total labour) and returns it with an
:class:`ImportReport`; :func:`write_import` writes it as an economy folder, atomically.
:func:`shipped_economy` loads a table shipped inside the package (Spain 2019).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from needplan.data.sut.common import (
    LABOUR_MEASURES,
    Assumption,
    IdentityError,
    ImportReport,
    SupplyUseTable,
    SutError,
    build_from_table,
)
from needplan.economy import read_economy, write_economy
from needplan.economy.model import Economy
from needplan.errors import Problem

Format = Literal["ine", "scb", "csv"]
FORMATS = ("ine", "scb", "csv")
SHIPPED = ("spain_2019",)

__all__ = ["FORMATS", "LABOUR_MEASURES", "SHIPPED", "IdentityError", "ImportReport", "SupplyUseTable", "SutError",
           "import_sut", "read_table", "shipped_economy", "write_import"]


def read_table(src: str | os.PathLike[str], fmt: Format, *, year: int | None = None,
               labour: str | None = None) -> SupplyUseTable:
    """Read a supply-use table of the given format as domestic output at basic prices (no economics yet)."""
    path = Path(src)
    if fmt == "ine":
        from needplan.data.sut.ine import read_ine

        return read_ine(path)
    if fmt == "scb":
        from needplan.data.sut.scb import read_scb

        return read_scb(path, year)
    if fmt == "csv":
        from needplan.data.sut.csv_tables import read_csv_tables

        return read_csv_tables(path, amount_measure=labour or "fte")
    raise SutError(Problem(str(path), f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}"))


def import_sut(src: str | os.PathLike[str], fmt: Format, *, year: int | None = None,
               assumption: Assumption = "industry", labour: str | None = None,
               needs: str | Sequence[str] | None = None) -> tuple[Economy, ImportReport]:
    """Import a supply-use table as an :class:`Economy` (products in the table's currency, million).

    ``fmt``: ``ine`` (an INE workbook), ``scb`` (the SCB workbook; ``year`` picks the sheet, default the
    latest), ``csv`` (a folder, see :mod:`needplan.data.sut.csv_tables`). ``assumption``: ``industry``
    (market shares, never negative) or ``product`` (negatives removed and reported). ``labour``: one of
    :data:`LABOUR_MEASURES`, or ``None`` for the first of fte, hours, persons, jobs, compensation the table has;
    a measure the table lacks is an error, never invented. ``needs``: final-use categories (comma-separated or a
    list) whose sum of domestic output becomes needs.csv; default all.

    Raises :class:`SutError` (bad table, naming file and cell) or :class:`IdentityError` (the economy does not
    reproduce the table); both are :class:`needplan.errors.NeedplanError`.
    """
    table = read_table(src, fmt, year=year, labour=labour)
    return build_from_table(table, fmt=fmt, year=year, assumption=assumption, labour=labour, needs=needs)


def write_import(economy: Economy, out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write an imported economy as a CSV economy folder; atomic (nothing appears at ``out`` on failure)."""
    return write_economy(economy, out, overwrite=overwrite)


def shipped_economy(name: str = "spain_2019") -> Economy:
    """Load an economy folder shipped inside the package (:data:`SHIPPED`), e.g. Spain 2019 (INE, million EUR,
    industry-technology assumption, labour in full-time equivalents)."""
    if name not in SHIPPED:
        raise SutError(Problem(name, f"no shipped economy {name!r}; shipped: {', '.join(SHIPPED)}"))
    folder = resources.files("needplan.data").joinpath("shipped", name)
    with resources.as_file(folder) as path:
        return read_economy(path)
