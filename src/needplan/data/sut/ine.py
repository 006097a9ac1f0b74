"""Reader of the INE (Spain) supply and use workbooks: ``sut_2010.xlsx`` ... ``sut_2019.xlsx``.

Blocks are found by their labels (sheet titles, column headers, row labels), never by cell address: the sheets
are named ``Tabla1`` or ``Table1``, the 2010-2015 workbooks have 64 products x 64 industries with the product
number in a column of its own, the 2016-2019 ones 110 products x 81 industries numbered inside the label.

The only use table at the full detail is at purchasers' prices and includes imports, so the reader turns it
into use of domestic output at basic prices with two stated assumptions, both applied product by product:

1. *Valuation*: every user of a product pays the same shares of trade margins, transport margins and taxes
   less subsidies as the product's totals in the supply table. The margins taken out of goods are handed to
   the trade (resp. transport) products that supply margins (their negative entries in the margin columns), in
   proportion to those entries; the taxes are set aside.
2. *Imports*: every user of a product takes the same share of imports (the import-proportionality assumption),
   ``imports / (output + imports)`` at basic prices, exports included.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from needplan.data.sut.common import PrimaryInput, SupplyUseTable, SutError, off_total
from needplan.data.sut.sheets import Sheet, load_workbook, norm
from needplan.errors import Problem

FINAL_CATEGORIES = (
    ("household", lambda t: t.startswith("final consumption expenditure by households")),
    ("npish", lambda t: t.startswith("final consumption expenditure by non-profit") or "npish" in t),
    ("government", lambda t: t.startswith("final consumption expenditure by public")
     or t.startswith("final consumption expenditure by general government")),
    ("gfcf", lambda t: t.startswith("gross fix")),
    ("inventories", lambda t: t.startswith("changes in inventories")),
    ("exports", lambda t: t == "total exports"),
)
"""Final-use categories of the use table (their sum is the table's 'Final uses' column)."""

_PRODUCT_LABEL = re.compile(r"^(\d+)\s*\.\s*(.*)$")
_SET_ASIDE_ROWS = ("taxes less subsidies on products", "cif/fob adjustments",
                   "purchases on the domestic territory by non-residents", "direct purchases abroad by residents")
_YEAR_TITLE = re.compile(r"supply and use tables (\d{4})\b")
_LABOUR_ROWS = (("jobs", "jobs", "thousand jobs"), ("persons", "employment (persons)", "thousand persons"),
                ("fte", "full-time equivalents", "thousand full-time equivalents"))


def _find_sheet(sheets: dict[str, Sheet], path: Path, *words: str) -> Sheet:
    """The sheet titled 'Table n. ...' with all of ``words``, at current prices: since 2013 INE's workbooks also
    hold the supply and use tables at the previous year's prices (volumes), which are never mixed in (fuzzing:
    with Table 2 deleted, Table 5's use at previous year's prices was read beside Table 1's supply)."""
    for sheet in sheets.values():
        titles = [norm(v) for v in sheet.cells[:12].ravel() if isinstance(v, str)]
        if any(t.startswith("table") and all(w in t for w in words) and "previous year prices" not in t
               for t in titles):
            return sheet
    raise SutError(Problem(str(path), f"no sheet titled like 'Table n. {' ... '.join(words)}' at current prices "
                                      f"(sheets: {', '.join(sheets)})"))


def _header(sheet: Sheet, label: str) -> tuple[int, int]:
    hit = sheet.find_cell(lambda t: t == label, rows=range(min(sheet.shape[0], 30)))
    if hit is None:
        if sheet.shape[0] == 0 or sheet.shape[1] == 0:
            raise sheet.error(0, None, "the sheet is empty")
        raise sheet.error(0, None, f"no column headed {label!r} in the first 30 rows")
    return hit


def _columns(sheet: Sheet, header_row: int, match: str) -> int:
    for c in range(sheet.shape[1]):
        if norm(sheet.cells[header_row, c]).startswith(match):
            return c
    raise sheet.error(header_row, None, f"no column headed {match!r}")


def _stated_year(sheets: dict[str, Sheet]) -> tuple[int, str] | None:
    """The year a workbook says it holds (a title 'Supply and use tables 2019' in a sheet's first 12 rows) and
    the cell saying so, or None."""
    for sheet in sheets.values():
        hit = sheet.find_cell(lambda t: _YEAR_TITLE.match(t) is not None, rows=range(min(sheet.shape[0], 12)))
        if hit is not None:
            m = _YEAR_TITLE.match(norm(sheet.cells[hit]))
            assert m is not None
            return int(m.group(1)), sheet.where(*hit)
    return None


def _layout(sheet: Sheet, total_label: str) -> tuple[int, int, list[int], list[str], list[int], list[str], list[str]]:
    """Header row, label column, industry columns and names, product rows, ids and names of one sheet."""
    hr, c_total = _header(sheet, total_label)
    # 'of which' columns (imputed rents in 2010-2015) are part of the industry before them, not industries.
    ind_cols = [c for c in range(c_total) if isinstance(sheet.cells[hr, c], str) and norm(sheet.cells[hr, c])
                and not norm(sheet.cells[hr, c]).startswith("of which")]
    if not ind_cols:
        raise sheet.error(hr, None, "no industry columns before the total column")
    label_col = max(0, ind_cols[0] - 1)
    # The label column is the one left of the data holding text; the 64-product years put the number there.
    for c in range(ind_cols[0] - 1, -1, -1):
        if any(isinstance(v, str) and len(v) > 12 for v in sheet.cells[hr + 1:, c]):
            label_col = c
            break
    rows: list[int] = []
    ids: list[str] = []
    names: list[str] = []
    stop = sheet.shape[0]
    for r in range(hr + 1, sheet.shape[0]):
        t = norm(sheet.cells[r, label_col])
        if t == "total" or t.startswith(_SET_ASIDE_ROWS) or t.startswith("total uses"):
            stop = r
            break
        if not t or t.startswith("of which"):
            continue
        m = _PRODUCT_LABEL.match(t)
        raw = str(sheet.cells[r, label_col]).strip()
        if m:
            num, name = int(m.group(1)), re.sub(r"^\d+\s*\.\s*", "", raw)
        else:
            num_cell = sheet.cells[r, label_col + 1] if label_col + 1 < ind_cols[0] else None
            if isinstance(num_cell, int | float) and not isinstance(num_cell, bool):
                num = int(num_cell)
            elif isinstance(num_cell, str) and num_cell.strip().isdigit():
                num = int(num_cell)
            else:
                continue  # a sub-item such as '44 bis'
            name = raw
        pid = f"p{num:03d}"
        if pid in ids:  # (fuzzing: a product number given twice ended in an IndexError)
            raise sheet.error(r, label_col, f"product number {num} is also that of row {rows[ids.index(pid)] + 1}")
        rows.append(r)
        ids.append(pid)
        names.append(re.sub(r"\s+", " ", name).strip())
    if not rows:
        raise sheet.error(hr, None, "no product rows below the header")
    del stop
    return hr, label_col, ind_cols, [norm(sheet.cells[hr, c]) for c in ind_cols], rows, ids, names


def _starts(label: str | tuple[str, ...]) -> Callable[[str], bool]:
    return lambda t: t.startswith(label)


def _heads(label: str) -> Callable[[str], bool]:
    return lambda t: t == label or t.startswith(label + " ")


def _row(sheet: Sheet, label_col: int, start: int, label: str, why: str, *, exact: bool = False) -> int:
    """The first row at or below ``start`` labelled ``label...`` (``exact``: ``label`` alone); INE publishes it
    every year, so a workbook without it is refused rather than left unchecked (``why``: what it is needed for)."""
    rows = sheet.find_rows(label_col, (lambda t: t == label) if exact else _starts(label), start)
    if not rows:
        raise sheet.error(start, None, f"no row labelled {label!r} from here down: INE publishes it every year "
                                       f"and {why}")
    return rows[0]


INE_ROW_ROUNDING = 2.0
"""How far (million EUR) a product row's cells may add up away from its own total: INE rounds each cell to 0.1."""


def _check_columns(sheet: Sheet, row: int, cols: list[int], labels: list[str], sums: np.ndarray, table: str,
                   what: str) -> float:
    """Each column's ``sums`` (its cells in ``table`` added up) against its total on ``row`` of ``sheet``, as each
    product's row is checked against its own: the data of two industries' columns swapped imported with only a note
    of 52,100 million EUR (fuzzing). ``labels`` name the columns ("industry 3 ('fishing')"). Returns the largest
    difference."""
    stated = sheet.numbers([row], cols)[0]
    off = off_total(sums, stated, INE_ROW_ROUNDING)
    if off.any():
        j = int(np.argmax(off))
        raise sheet.error(row, cols[j], f"{labels[j]}: its column of {table} adds up to {sums[j]:,.6g}, {what} "
                                        f"says {stated[j]:,.6g}: a cell of the column or its total is wrong")
    return float(np.max(np.abs(sums - stated), initial=0.0))


def _check_row_total(sheet: Sheet, row: int, values: np.ndarray, total_col: int, what: str) -> None:
    """A labour or compensation row's industry cells ``values`` (empty: NaN) against the row's own total, where it
    has one: one full-time-equivalent cell times 10 changed the economy's labour by 31% without a word (a helper's
    fuzzing). The published rows agree to 1e-11."""
    total = float(sheet.numbers([row], [total_col], blank=np.nan)[0, 0])
    if math.isnan(total):
        return
    added = float(np.nansum(values))
    if off_total(np.array(added), np.array(total), INE_ROW_ROUNDING):
        raise sheet.error(row, total_col, f"the industries' cells of {what} add up to {added:,.6g}, the row's "
                                          f"total says {total:,.6g}: a cell of the row or its total is wrong")


def read_ine(path: str | Path, year: int | None = None) -> SupplyUseTable:
    """Read an INE supply-use workbook into use of domestic output at basic prices (million euros).

    Labour: jobs, persons and full-time equivalents (thousands in the table, multiplied by 1000 here) and
    compensation of employees (million euros); INE publishes no hours. A workbook holds one year: ``year``, if
    given, must be the one its title states ('Supply and use tables 2019'). Raises :class:`SutError` naming the
    sheet and cell of anything it cannot read, and for a year other than the workbook's or one it cannot check.
    """
    path = Path(path)
    sheets = load_workbook(path)
    if not sheets:
        raise SutError(Problem(str(path), "the workbook has no sheets"))
    stated = _stated_year(sheets)
    if year is not None:
        if stated is None:
            raise SutError(Problem(str(path), f"year {year} was asked for, but the workbook states no year (no "
                                              "title 'Supply and use tables YYYY') to check it against; leave "
                                              "the year out"))
        if stated[0] != year:
            raise SutError(Problem(stated[1], f"the workbook holds the tables of {stated[0]}, but year {year} "
                                              "was asked for"), str(path))
    sup = _find_sheet(sheets, path, "supply table at basic prices")
    use = _find_sheet(sheets, path, "use table at purchaser")
    src = str(path)

    s_hr, s_lab, s_cols, s_inds, s_rows, s_ids, names = _layout(sup, "total output")
    u_hr, u_lab, u_cols, u_inds, u_rows, u_ids, _ = _layout(use, "total intermediate consumption")
    if s_ids != u_ids:
        only_s = sorted(set(s_ids) - set(u_ids))
        only_u = sorted(set(u_ids) - set(s_ids))
        raise SutError(Problem(f"{sup.name} / {use.name}", "supply and use list different products"
                               + (f"; only in supply: {', '.join(only_s[:5])}" if only_s else "")
                               + (f"; only in use: {', '.join(only_u[:5])}" if only_u else "")), src)
    if s_inds != u_inds:
        k = next((i for i, (a, b) in enumerate(zip(s_inds, u_inds, strict=False)) if a != b), min(len(s_inds),
                                                                                                  len(u_inds)))
        raise SutError(Problem(f"{sup.name} / {use.name}", f"supply has {len(s_inds)} industries, use "
                               f"{len(u_inds)}; they differ from industry {k + 1}"), src)
    industries = [f"i{k + 1:02d}" for k in range(len(s_cols))]

    supply = sup.numbers(s_rows, s_cols)
    neg = np.argwhere(supply < 0)
    if neg.size:
        r, c = neg[0]
        raise sup.error(s_rows[r], s_cols[c], f"negative output {supply[r, c]:g}")
    col = {key: _columns(sup, s_hr, key) for key in ("total output", "total imports", "trade margins",
                                                      "transport margins", "taxes less subsidies on products",
                                                      "total supply at purchaser")}
    layers = {k: sup.numbers(s_rows, [c])[:, 0] for k, c in col.items()}
    q = supply.sum(axis=1)
    imports, trade, transport = layers["total imports"], layers["trade margins"], layers["transport margins"]
    taxes, s_purch = layers["taxes less subsidies on products"], layers["total supply at purchaser"]
    # Each product row against its own totals: the import scales the use rows by the total supply column, so a
    # damaged cell would otherwise pass every later check (fuzzing: a supply cell 1,000 more, or 1e308, imported
    # with "identity check passed").
    for key, total, parts in (("total output", layers["total output"], q),
                              ("total supply at purchaser", s_purch, q + imports + trade + transport + taxes)):
        off = np.abs(parts - total) > np.maximum(INE_ROW_ROUNDING, 1e-6 * np.abs(total))
        if off.any() or not np.all(np.isfinite(parts)):
            r = int(np.argmax(off | ~np.isfinite(parts)))
            raise sup.error(s_rows[r], col[key], f"the row's cells add up to {parts[r]:,.6g}, its {key} cell says "
                                                 f"{total[r]:,.6g}: a cell of the row or its total is wrong")

    ind_labels = [f"industry {j + 1} ({name!r})" for j, name in enumerate(s_inds)]
    s_total = _row(sup, s_lab, s_rows[-1] + 1, "total", "each industry's column of the supply table is checked "
                   "against it", exact=True)  # (a review: without it that check was skipped without a word)
    _check_columns(sup, s_total, s_cols, ind_labels, supply.sum(axis=0), "the supply table",
                   "the supply table's total")

    final_cols = []
    for key, match in FINAL_CATEGORIES:
        hits = [c for c in range(use.shape[1]) if match(norm(use.cells[u_hr, c]))]
        if not hits:
            raise use.error(u_hr, None, f"no final-use column for {key!r}")
        final_cols.append(hits[0])
    cats = [k for k, _ in FINAL_CATEGORIES]
    w = use.numbers(u_rows, u_cols + final_cols)  # purchasers' prices, domestic output and imports
    n_ind = len(u_cols)
    # Each column of the use table against its "Total uses at purchaser's prices": the data of two industries'
    # columns swapped keeps every product row's sum and changed 2,520 coefficients without a word (an audit). The
    # total is the product rows' and the set-aside rows' above it, exactly in every published year (the 2010-2015
    # "of which" row of imputed rents is in neither).
    u_total_row = _row(use, u_lab, u_rows[-1] + 1, "total uses at purchaser",
                       "each column of the use table is checked against it")
    aside_rows = use.find_rows(u_lab, _starts(_SET_ASIDE_ROWS), u_rows[-1] + 1, u_total_row)
    _check_columns(use, u_total_row, u_cols + final_cols,
                   ind_labels + [f"final use {key!r}" for key in cats],
                   w.sum(axis=0) + use.numbers(aside_rows, u_cols + final_cols).sum(axis=0),
                   "the use table (products, taxes, CIF/FOB adjustments, direct purchases)",
                   "the use table's total uses at purchasers' prices")

    # Valuation: take margins and taxes out of every cell of a product's row in the shares of its supply.
    basic_total = q + imports
    neg_margin = np.maximum(-trade, 0) + np.maximum(-transport, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.where(s_purch != 0, 1.0 / s_purch, 0.0)
    direct = w * ((basic_total - neg_margin) * per_unit)[:, None]
    basic = direct.copy()
    for layer in (trade, transport):
        pool = (np.maximum(layer, 0) * per_unit) @ w  # margin paid by each user, over all products it buys
        supplied = np.maximum(-layer, 0)
        if pool.sum() > 0 and supplied.sum() > 0:
            basic += np.outer(supplied, pool / pool.sum())
    tax_paid = (taxes * per_unit) @ w
    # Imports: the same import share for every user of a product.
    with np.errstate(divide="ignore", invalid="ignore"):
        dom_share = np.where(basic_total > 0, q / basic_total, 0.0)
    domestic = basic * dom_share[:, None]
    imported = basic - domestic

    set_aside_vals = {}
    for label in _SET_ASIDE_ROWS[1:]:
        r = sup.find_rows(s_lab, _starts(label), s_hr)
        if r:
            set_aside_vals[f"{label} (supply table, total supply at purchasers' prices)"] = float(
                sup.numbers([r[0]], [col["total supply at purchaser"]])[0, 0])
    for label in _SET_ASIDE_ROWS:
        r = use.find_rows(u_lab, _starts(label), u_hr)
        if r:
            set_aside_vals[f"{label} (use table row, all uses)"] = float(use.numbers([r[0]], u_cols + final_cols
                                                                                   ).sum())
    set_aside = {
        "imports of products (cif)": float(imports.sum()),
        "imported products used (intermediate)": float(imported[:, :n_ind].sum()),
        "imported products used (final)": float(imported[:, n_ind:].sum()),
        "trade margins": float(np.maximum(trade, 0).sum()),
        "transport margins": float(np.maximum(transport, 0).sum()),
        "taxes less subsidies on products": float(taxes.sum()),
        "taxes less subsidies on products paid by industries": float(tax_paid[:n_ind].sum()),
        **set_aside_vals,
    }

    # Labour and compensation by industry, from the rows below the use table, each row's total in the column of
    # total intermediate consumption.
    ind_data_cols = u_cols
    u_total = _header(use, "total intermediate consumption")[1]
    labour: dict[str, PrimaryInput] = {}
    for measure, label, unit in _LABOUR_ROWS:
        head = use.find_rows(u_lab, _heads(label), u_hr)
        if not head:
            continue
        total_rows = use.find_rows(u_lab, lambda t: t == "total", head[0] + 1, head[0] + 3)
        if not total_rows:
            raise use.error(head[0], None, f"no 'Total' row under {label!r}")
        thousands = use.numbers(total_rows, ind_data_cols, blank=np.nan, counts=f"labour ({label}, total)")[0]
        _check_row_total(use, total_rows[0], thousands, u_total, f"{label}, total")
        labour[measure] = PrimaryInput(f"labour_{measure}", "labour", unit.removeprefix("thousand "),
                                       pd.Series(thousands * 1000.0, index=industries),
                                       f"labour, {unit.removeprefix('thousand ')} per year (INE: {label}, total)")
    comp = use.find_rows(u_lab, lambda t: t.startswith("compensation of employees"), u_hr)
    if comp:
        paid = use.numbers(comp[:1], ind_data_cols, blank=np.nan, counts="compensation of employees")[0]
        _check_row_total(use, comp[0], paid, u_total, "compensation of employees")
        labour["compensation"] = PrimaryInput("labour_compensation", "labour", "million EUR",
                                              pd.Series(paid, index=industries),
                                              "compensation of employees, million euros per year")
    out_row = _row(use, u_lab, u_hr, "output at basic prices",
                   "each industry's column of the supply table is checked against it")
    notes = [
        "valuation: each product's trade and transport margins and taxes less subsidies are taken out of every "
        "use in the proportions of its supply at purchasers' prices; margins go to the margin products",
        "imports: import-proportionality assumption, the same import share for every use of a product",
        "jobs, persons and full-time equivalents are published in thousands; multiplied by 1000 (compensation "
        "is in million euros as published)",
    ]
    gap = _check_columns(use, out_row, ind_data_cols, ind_labels, supply.sum(axis=0), "the supply table",
                         "the use table's output at basic prices")
    notes.append(f"industry output in the use table vs column sums of supply: largest difference {gap:.3g} million "
                 "EUR")

    frame = pd.DataFrame
    return SupplyUseTable(
        name=f"spain_{path.stem.split('_')[-1]}" if path.stem.split("_")[-1].isdigit() else path.stem,
        source=src, unit="million EUR",
        supply=frame(supply, index=s_ids, columns=industries),
        use=frame(domestic[:, :n_ind], index=s_ids, columns=industries),
        final_use=frame(domestic[:, n_ind:], index=s_ids, columns=cats),
        product_names=dict(zip(s_ids, names, strict=True)),
        labour=labour,
        set_aside=set_aside,
        totals={
            "output at basic prices (supply table)": float(q.sum()),
            "total supply at purchasers' prices": float(s_purch.sum()),
            "total use at purchasers' prices (product rows)": float(w.sum()),
            "intermediate use at purchasers' prices": float(w[:, :n_ind].sum()),
            "final use at purchasers' prices": float(w[:, n_ind:].sum()),
        },
        # INE rounds to 0.1 million euros; a row of ~90 cells may be off by a few tenths.
        balance_tolerance=1e-3, balance_absolute=2.0,
        notes=notes,
        provenance={"publisher": "INE, Annual Spanish National Accounts, supply and use tables",
                    "valuation": "basic prices (margins and taxes removed proportionally)",
                    "imports_treatment": "import proportionality (same import share for every use)",
                    "industries": "; ".join(f"{i}={n}" for i, n in zip(industries, s_inds, strict=True))},
        year=None if stated is None else stated[0],
    )
