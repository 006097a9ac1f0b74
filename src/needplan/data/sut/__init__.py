"""Real economies from national supply-use tables: INE (Spain), SCB (Sweden), or any country as CSV.

:func:`import_sut` reads a table, builds an economy under a stated technology assumption, checks that it
reproduces the table (gross output of every product, total labour) and returns it with an
:class:`ImportReport`; :func:`write_import` writes it as an economy folder, atomically.
:func:`shipped_economy` loads a table shipped inside the package (Spain 2019).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from needplan.data.names import FORMATS, LABOUR_MEASURES, Format
from needplan.data.sut.common import (
    MAX_CAPACITY_HEADROOM,
    NEED_WEIGHTS,
    WEIGHTS_DEFINITION,
    Assumption,
    IdentityError,
    ImportReport,
    NeedWeights,
    SupplyUseTable,
    SutError,
    build_from_table,
    headroom_problem,
    need_weights,
)
from needplan.data.sut.sheets import sheet_names
from needplan.economy import read_economy, write_economy
from needplan.economy.model import Economy
from needplan.economy.validate import build_economy
from needplan.errors import Problem

SHIPPED = ("spain_2019",)

__all__ = ["FORMATS", "LABOUR_MEASURES", "MAX_CAPACITY_HEADROOM", "NEED_WEIGHTS", "SHIPPED", "WEIGHTS_DEFINITION",
           "IdentityError", "ImportReport", "SupplyUseTable", "SutError", "detect_format", "headroom_problem",
           "import_sut", "need_weights", "parse_resource_scale", "parse_years", "read_table", "scale_resources",
           "shipped_economy", "write_import", "year_source"]


def read_table(src: str | os.PathLike[str], fmt: Format, *, year: int | None = None,
               labour: str | None = None) -> SupplyUseTable:
    """Read a supply-use table of the given format as domestic output at basic prices (no economics yet)."""
    path = Path(src)
    if fmt == "ine":
        from needplan.data.sut.ine import read_ine

        return read_ine(path, year)
    if fmt == "scb":
        from needplan.data.sut.scb import read_scb

        return read_scb(path, year)
    if fmt == "csv":
        from needplan.data.sut.csv_tables import read_csv_tables

        return read_csv_tables(path, amount_measure=labour or "fte")
    raise SutError(Problem(str(path), f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}"))


def detect_format(src: str | os.PathLike[str], *, series: bool = False) -> str:
    """The format of a table (``series``: of a series' source) from what is there, reading no more than sheet names.

    A workbook whose sheets are all named by years is SCB's (one sheet per year); one with a sheet named
    ``Table...`` (or ``Tabla...``) is INE's. A folder is ``csv`` (a table; for a series, year sub-folders of
    tables), ``economy`` for a series whose year sub-folders are economy folders, and ``ine`` for a series when it
    holds workbooks.
    Raises :class:`SutError` naming what was found when none fits: pass ``--format``.
    """
    path = Path(src)
    if not path.exists():
        raise SutError(Problem(str(path), "no such file or folder"))
    if path.is_dir():
        subs = sorted(p for p in path.iterdir() if p.is_dir() and p.name.isdigit())
        if series and list(path.glob("*.xlsx")):
            return "ine"
        if series and subs:
            return "economy" if (subs[0] / "economy.toml").is_file() else "csv"
        if not series and (path / "supply.csv").is_file():
            return "csv"
        raise SutError(Problem(str(path), "cannot tell the format of this folder (no supply.csv"
                                          + (", no year sub-folders, no workbooks" if series else "")
                                          + "): pass --format"))
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        raise SutError(Problem(str(path), "cannot tell the format: neither a folder nor an .xlsx workbook; "
                                          "pass --format"))
    names = sheet_names(path)
    if names and all(re.fullmatch(r"\d{4}", n.strip()) for n in names):
        return "scb"
    if any(n.strip().lower().startswith(("table", "tabla")) for n in names):  # INE's 2010-2012 name them Tabla1...
        return "ine"
    raise SutError(Problem(str(path), f"cannot tell the format from its sheets ({', '.join(names[:8])}): "
                                      "pass --format"))


def import_sut(src: str | os.PathLike[str], fmt: Format, *, year: int | None = None,
               assumption: Assumption = "industry", labour: str | None = None,
               needs: str | Sequence[str] | None = None,
               resource_scale: Mapping[str, float] | None = None, weights: NeedWeights = "value",
               capacity_headroom: float | None = None) -> tuple[Economy, ImportReport]:
    """Import a supply-use table as an :class:`Economy` (products in the table's currency, million).

    ``fmt``: ``ine`` (an INE workbook; ``year``, if given, must be the one it states), ``scb`` (the SCB workbook;
    ``year`` picks the sheet, default the latest), ``csv`` (a folder, see :mod:`needplan.data.sut.csv_tables`).
    ``assumption``: ``industry`` (market shares, never negative) or ``product`` (negatives removed and reported).
    ``labour``: one of :data:`LABOUR_MEASURES`, or ``None`` for the first of fte, hours, persons, jobs,
    compensation the table has; a measure the table lacks is an error, never invented. ``needs``: final-use
    categories (comma-separated or a list) whose sum of domestic output becomes needs.csv; default all.
    ``resource_scale`` maps labour or resource goods (case-insensitive, e.g. ``{"CO2": 0.7}``) to a factor on
    their availability (see :func:`scale_resources`); the identity check is done before scaling, on the table as
    published. ``weights`` (``value`` or ``equal``) and ``capacity_headroom`` (``None``: unlimited) are those of
    :func:`needplan.data.sut.common.build_from_table`.

    Raises :class:`SutError` (bad table, naming file and cell) or :class:`IdentityError` (the economy does not
    reproduce the table); both are :class:`needplan.errors.NeedplanError`.
    """
    table = read_table(src, fmt, year=year, labour=labour)
    economy, report = build_from_table(table, fmt=fmt, year=year, assumption=assumption, labour=labour, needs=needs,
                                       weights=weights, capacity_headroom=capacity_headroom)
    if resource_scale:
        economy = scale_resources(economy, resource_scale)
    return economy, report


def scale_resources(economy: Economy, factors: Mapping[str, float]) -> Economy:
    """A new economy with the availability of some labour or resource goods multiplied by a factor.

    ``factors`` maps good ids (matched case-insensitively: ``CO2`` finds ``co2``) to factors >= 0, e.g.
    ``{"co2": 0.7}`` for a cap 30% below the table's emissions. Availabilities are in the good's unit per period.
    The manifest records each change (``resource_scale``: good, factor, availability before and after).
    Raises :class:`SutError` naming the good for an unknown or ambiguous name, a product, a negative or
    non-finite factor, a product beyond double precision, or a good with no availability to scale (unlimited).
    """
    tables = economy.tables()
    res = tables["resources"]
    by_lower: dict[str, list[str]] = {}
    for good in economy.goods[economy.primaries]:
        by_lower.setdefault(str(good).lower(), []).append(str(good))
    primaries = ", ".join(map(str, economy.goods[economy.primaries])) or "none"
    records = list(economy.provenance.get("resource_scale", []))
    for name, factor in factors.items():
        where = f"resource scale {name}={factor}"
        goods = [name] if name in economy.goods[economy.primaries] else by_lower.get(name.lower(), [])
        if len(goods) != 1:
            why = "names several goods" if goods else "names no labour or resource good"
            raise SutError(Problem(where, f"{why} of {economy.name} (it has: {primaries})"))
        if not (factor >= 0 and np.isfinite(factor)):
            raise SutError(Problem(where, "the factor must be a finite number >= 0"))
        row = res.index[res["good"] == goods[0]]
        if not len(row):
            raise SutError(Problem(where, f"{goods[0]} is unlimited (not in resources.csv): nothing to scale"))
        before = float(res.loc[row[0], "available"])
        if not np.isfinite(before * factor):  # (else blamed on "resources row 0" of a sheet with no such table)
            raise SutError(Problem(where, f"{goods[0]}'s availability {before:.10g} times {factor:g} is beyond "
                                          "double precision"))
        res.loc[row[0], "available"] = before * factor
        records.append(f"{goods[0]} x {factor:g}: {before:.10g} -> {before * factor:.10g}")
    provenance = {**economy.provenance, "resource_scale": records}
    return build_economy(tables, name=economy.name, description=economy.description,
                         origin=str(economy.provenance.get("source", "")), provenance=provenance)


def parse_resource_scale(items: Sequence[str]) -> dict[str, float]:
    """``["CO2=0.7", "labour_fte=1.1"]`` as ``{"CO2": 0.7, "labour_fte": 1.1}``; :class:`SutError` if malformed."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            factor = float(value)
        except ValueError:
            factor = float("nan")
        if not sep or not name.strip() or not np.isfinite(factor) or factor < 0:
            raise SutError(Problem("--resource-scale", f"expected GOOD=FACTOR with a factor >= 0, got {item!r}"))
        if name.strip().lower() in {k.lower() for k in out}:  # (fuzzing: one was kept, or both applied in turn)
            raise SutError(Problem("--resource-scale", f"{name.strip()!r} is given twice"))
        out[name.strip()] = factor
    return out


def parse_years(text: str) -> list[int]:
    """``"2010-2019"``, ``"2016,2019"`` or ``"2010-2012,2019"`` as a sorted list of distinct years: four ASCII
    digits each, from 1000 (``0019`` was year 19, refused only later by the workbook, and ``٢٠١٩`` read as 2019)."""
    years: set[int] = set()
    for part in text.split(","):
        m = re.fullmatch(r"\s*([1-9][0-9]{3})\s*(?:-\s*([1-9][0-9]{3})\s*)?", part)
        if not m or (m.group(2) and int(m.group(2)) < int(m.group(1))):
            raise SutError(Problem("--years", f"expected years such as 2010-2019 or 2016,2019, got {text!r}"))
        years.update(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))
    return sorted(years)


def year_source(src: str | os.PathLike[str], fmt: Format | Literal["economy"], year: int) -> Path:
    """Where one year of a series lives: ``ine``: the workbook in folder ``src`` whose name holds the year
    (``sut_2019.xlsx``); ``scb``: the workbook ``src`` itself (one sheet per year); ``csv`` and ``economy``: the
    folder ``src/<year>``. Raises :class:`SutError` when it is missing."""
    path = Path(src)
    if fmt == "scb":
        found = path if path.is_file() else None
        if found is not None and str(year) not in (names := sheet_names(path)):
            raise SutError(Problem(str(path), f"no sheet for year {year} (sheets: {', '.join(names)})"))
    elif fmt == "ine":
        hits = sorted(path.glob(f"*{year}*.xlsx")) if path.is_dir() else []
        found = hits[0] if len(hits) == 1 else None
        if len(hits) > 1:
            raise SutError(Problem(str(path), f"several workbooks for {year}: {', '.join(h.name for h in hits)}"))
    else:
        found = path / str(year) if (path / str(year)).is_dir() else None
    if found is None:
        expected = {"scb": "an SCB workbook", "ine": f"a folder with sut_{year}.xlsx"}.get(fmt, f"a folder {year}/")
        raise SutError(Problem(str(path), f"no source for {year} ({fmt}: expected {expected})"))
    return found


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
