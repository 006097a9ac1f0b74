"""Reader of the Statistics Sweden (SCB) input-output workbook: one sheet per year, Swedish labels, million SEK.

Each sheet stacks blocks introduced by a title in the first column: the domestic use table ("Insatsmatris -
inhemsk - produkt x bransch") with the final use of domestic output beside it ("Slutlig användning - inhemsk
produktion"), the industry variables ("Övriga variabler bransch": output, imports, taxes, wages, persons
employed, hours worked, CO2), the import use table and the supply of domestic output ("Tillförselmatris -
inhemsk produktion - produkt x bransch"). Use is already of domestic output at basic prices, so nothing is
assumed about imports or margins. Blocks, rows and columns are found by their labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from needplan.data.sut.common import PrimaryInput, SupplyUseTable, SutError, off_total
from needplan.data.sut.sheets import Sheet, load_workbook, norm
from needplan.errors import Problem

FINAL_CATEGORIES = (
    ("household", "hushållens konsumtionsutgifter"),
    ("npish", "hio:s konsumtionsutgifter"),
    ("government", "offentliga konsumtionsutgifter"),
    ("gfcf_business", "näringslivets fasta bruttoinvesteringar"),
    ("gfcf_government", "offentliga fasta bruttoinvesteringar"),
    ("inventories", "lagerinvestering"),
    ("valuables", "investering i värdeföremål"),
    ("exports", "export"),
)
_STOP = ("koldioxid", "co2", "summa")
_CO2 = "koldioxid (kton)"


def _block(sheet: Sheet, title: str) -> tuple[int, int]:
    """(row, column) of a block title."""
    hit = sheet.find_cell(lambda t: t.startswith(title))
    if hit is None:
        if sheet.shape[0] == 0 or sheet.shape[1] == 0:
            raise sheet.error(0, None, "the sheet is empty")
        raise sheet.error(0, None, f"no block titled {title!r}")
    return hit


def _matrix(sheet: Sheet, title: str) -> tuple[list[int], list[str], list[int], list[str]]:
    """Product rows and industry columns of a 'produkt x bransch' block: codes in the row under the title."""
    r0, c0 = _block(sheet, title)
    hr = r0 + 1
    label_col = c0 + 1
    cols, codes = [], []
    for c in range(label_col + 1, sheet.shape[1]):
        t = sheet.cells[hr, c]
        if t is None or norm(t) == "summa":
            break
        cols.append(c)
        codes.append(str(t).strip())
    rows, products = [], []
    for r in range(hr + 1, sheet.shape[0]):
        t = norm(sheet.cells[r, label_col])
        if not t or t.startswith(_STOP):
            break
        rows.append(r)
        products.append(str(sheet.cells[r, label_col]).strip())
    if not rows or not cols:
        raise sheet.error(hr, None, f"block {title!r} has no product rows or no industry columns")
    return rows, products, cols, codes


def _row(sheet: Sheet, start: int, col: int, label: str, *, required: bool = True) -> int | None:
    rows = sheet.find_rows(col, lambda t: t.startswith(label), start, min(start + 40, sheet.shape[0]))
    if not rows and required:
        raise sheet.error(start, None, f"no row labelled {label!r} in the block")
    return rows[0] if rows else None


def _industry_row(sheet: Sheet, industries: list[str], label: str) -> tuple[np.ndarray, int, list[int]]:
    """An industry variable as the industry block states it (each industry's output, "Produktionsvärde"), with its
    row and columns. Refused when the block lists other industries or lacks the row: SCB publishes it every year,
    and the blocks' columns are checked against it (without Produktionsvärde the supply block went unchecked)."""
    r0, c0 = _block(sheet, "övriga variabler bransch")
    cols = [c for c in range(c0 + 2, sheet.shape[1]) if str(sheet.cells[r0 + 1, c]).strip() in industries]
    if [str(sheet.cells[r0 + 1, c]).strip() for c in cols] != industries:
        raise sheet.error(r0 + 1, None, "the industry block lists different industries than the supply block")
    r = _row(sheet, r0 + 2, c0 + 1, label)
    assert r is not None
    return sheet.numbers([r], cols)[0], r, cols


SCB_COLUMN_ROUNDING = 2.0
"""How far (million SEK) an industry's column of the supply block may add up away from its stated output, and its
columns of the use blocks from its stated intermediate consumption, beyond 1e-6 of it: SCB rounds each cell to a
million (the published sheets agree exactly, the L68A column of 2016 once restored)."""


_INTERMEDIATE_PARTS = ("import", "svenskars direktköp utomland", "utländska direktköp i sverige", "tull",
                       "produktskatter", "produktsubventioner", "moms")
"""The industry block's rows that, with the domestic use block, make up each industry's intermediate consumption at
purchasers' prices ("Insatsförbrukning, marknadspris"). Imports are taken from the block's "Import" row, not the
import use block: they agree in every published year except 2016, whose import column of L68A is empty."""


def _check_intermediate_consumption(sheet: Sheet, use: np.ndarray, u_rows: list[int], u_cols: list[int],
                                    industries: list[str]) -> None:
    """Each industry's column of the domestic use block ``use`` (as published, an empty column restored) plus its
    imports, direct purchases and taxes less subsidies on products against its stated intermediate consumption at
    purchasers' prices: they agree exactly in every published year, and the data of two industries' columns swapped
    in the domestic use block imported without a word (an audit)."""
    stated, row, cols = _industry_row(sheet, industries, "insatsförbrukning")
    r0, c0 = _block(sheet, "övriga variabler bransch")
    added = use.sum(axis=0)
    for label in _INTERMEDIATE_PARTS:
        part = _row(sheet, r0 + 2, c0 + 1, label, required=False)
        if part is not None:
            added = added + sheet.numbers([part], cols)[0]
    _check_industry_columns(sheet, added, stated, row, cols, industries, u_rows[0], u_cols,
                            "the domestic use block", " with its imports, direct purchases and taxes on products",
                            "intermediate consumption (Insatsförbrukning, marknadspris)", "total")


def _check_industry_columns(sheet: Sheet, sums: np.ndarray, stated: np.ndarray, row: int, cols: list[int],
                            industries: list[str], first_row: int, block_cols: list[int], block: str, with_: str,
                            what: str, total: str) -> None:
    """Each industry's column ``sums`` (of ``block``, whose data start at ``first_row``, ``block_cols``) against
    its ``stated`` total on ``row`` of the industry block (``cols``): refused naming the cell where one is off by
    more than SCB's rounding."""
    off = off_total(sums, stated, SCB_COLUMN_ROUNDING)
    if off.any():
        j = int(np.argmax(off))
        raise sheet.error(row, cols[j], f"industry {industries[j]}: its column of {block} "
                                        f"({sheet.where(first_row, block_cols[j])} down){with_} adds up to "
                                        f"{sums[j]:,.6g}, its {what} is {stated[j]:,.6g}: a cell of the column or "
                                        f"its {total} is wrong")


def _restore_empty_industry(sheet: Sheet, block: np.ndarray, rows: list[int], cols: list[int],
                            industries: list[str], output: np.ndarray, what: str,
                            notes: list[str], candidates: list[int] | None = None) -> np.ndarray:
    """Fill an industry column left empty in a block from the block's own 'Summa' column, and say so.

    The 2016 sheet has the column of L68A (imputed rents of owner-occupied dwellings) empty in the domestic use
    and supply blocks while their 'Summa' column and the industry's output include it. When exactly one
    industry with output has an empty column, the per-product differences 'Summa' minus row sum are its
    column: nothing is invented, the published totals are split back. Otherwise the block is left as it is
    (and the balance check reports it). ``candidates`` limits the industries considered.
    """
    summa_col = cols[-1] + 1
    if norm(sheet.cells[rows[0] - 1, summa_col]) != "summa":
        return block
    residual = sheet.numbers(rows, [summa_col])[:, 0] - block.sum(axis=1)
    if np.max(np.abs(residual)) <= 2.0 * len(cols) ** 0.5:
        return block
    empty = [j for j in (range(len(cols)) if candidates is None else candidates)
             if not block[:, j].any() and output[j] > 0]
    if len(empty) != 1 or residual.min() < -2.0:
        return block
    j = empty[0]
    out = block.copy()
    out[:, j] = np.maximum(residual, 0.0)  # all of Summa's difference (fuzzing: 2 of A01 taken as rounding left the
    # table 2 short where it balances exactly), none where the other industries already exceed it by rounding
    notes.append(f"{sheet.name}: the {what} column of industry {industries[j]} ({sheet.where(rows[0], cols[j])} "
                 f"down) is empty although the block's Summa column and the industry's output include it; "
                 f"restored from Summa minus the other industries ({out[:, j].sum():,.0f} million SEK)")
    return out


def read_scb(path: str | Path, year: int | None = None) -> SupplyUseTable:
    """Read one year of the SCB workbook (``year`` None: the only sheet, or the latest) in million SEK.

    Labour: persons employed ("Antal sysselsatta"), hours worked ("Arbetade timmar (10K)", multiplied by
    10,000) and compensation of employees (wages plus employers' social contributions, million SEK); SCB gives
    no full-time equivalents or jobs. CO2 ("Koldioxid (KTon)" of the industry block) becomes resource ``co2``
    in kilotonnes; CO2 emitted directly by households is reported and set aside.
    """
    path = Path(path)

    def one_year(names: list[str]) -> list[str]:  # the year's sheet alone is parsed (all nine: 2.4 s a year)
        if not names:
            raise SutError(Problem(str(path), "the workbook has no sheets"))
        if year is None:
            years = [s for s in names if s.strip().isdigit()]
            return [max(years, key=int) if years else names[0]]
        if str(year) not in names:
            raise SutError(Problem(str(path), f"no sheet for year {year} (sheets: {', '.join(names)})"))
        return [str(year)]

    ((name, sh),) = load_workbook(path, one_year).items()
    src = str(path)

    u_rows, u_prod, u_cols, u_ind = _matrix(sh, "insatsmatris - inhemsk")
    s_rows, s_prod, s_cols, s_ind = _matrix(sh, "tillförselmatris - inhemsk")
    if u_prod != s_prod:
        only_s = [p for p in s_prod if p not in u_prod]
        only_u = [p for p in u_prod if p not in s_prod]
        raise SutError(Problem(f"{name}", "the supply and use blocks list different products"
                               + (f"; only in supply: {', '.join(only_s[:5])}" if only_s else "")
                               + (f"; only in use: {', '.join(only_u[:5])}" if only_u else "")
                               + ("" if only_s or only_u else "; same products, different order")), src)
    if u_ind != s_ind:
        raise SutError(Problem(f"{name}", "the supply and use blocks list different industries"), src)
    supply = sh.numbers(s_rows, s_cols)
    use = sh.numbers(u_rows, u_cols)
    output, out_row, out_cols = _industry_row(sh, s_ind, "produktionsvärde")
    notes: list[str] = []
    restored = _restore_empty_industry(sh, supply, s_rows, s_cols, s_ind, output, "supply", notes)
    # Each industry's column against its stated output, as each product's row is checked against supply: two
    # industries' columns swapped imported with a note of 8,910 million SEK (fuzzing).
    sums = restored.sum(axis=0)
    output_gap = float(np.max(np.abs(sums - output), initial=0.0))
    _check_industry_columns(sh, sums, output, out_row, out_cols, s_ind, s_rows[0], s_cols, "the supply block", "",
                            "output (Produktionsvärde)", "output")
    # An industry without intermediate inputs is plausible (households as employers): only an industry whose
    # supply column was also missing is restored in the use block.
    fixed = [j for j in range(len(s_ind)) if not supply[:, j].any() and restored[:, j].any()]
    supply = restored
    if fixed:
        use = _restore_empty_industry(sh, use, u_rows, u_cols, u_ind, output, "domestic use", notes, fixed)
    _check_intermediate_consumption(sh, use, u_rows, u_cols, u_ind)
    # SCB publishes a few small negative secondary outputs (2009, 2013, 2014, 2016). The usual treatment:
    # a negative output is a use of that product by that industry, which keeps both balances.
    negative = np.argwhere(supply < 0)
    moved = [f"{sh.where(s_rows[r], s_cols[c])} ({s_prod[r]} by {s_ind[c]}: {supply[r, c]:g})" for r, c in negative]
    use = use + np.where(supply < 0, -supply, 0.0)
    supply = np.where(supply < 0, 0.0, supply)

    # Final use of domestic output: a block beside the use table, its own product labels in its first column.
    f_r0, f_c0 = _block(sh, "slutlig användning - inhemsk")
    f_hr = f_r0 + 1
    f_label = f_c0
    f_cols = []
    for key, label in FINAL_CATEGORIES:
        hit = [c for c in range(f_c0, sh.shape[1]) if norm(sh.cells[f_hr, c]) == label]
        if not hit:
            raise sh.error(f_hr, None, f"no final-use column {label!r} ({key})")
        f_cols.append(hit[0])
    f_labels = [str(sh.cells[r, f_label]).strip() for r in u_rows]
    if f_labels != u_prod:
        bad = next(i for i, (a, b) in enumerate(zip(f_labels, u_prod, strict=True)) if a != b)
        raise sh.error(u_rows[bad], f_label, f"final-use block lists product {f_labels[bad]!r} where the use "
                                             f"block has {u_prod[bad]!r}")
    final = sh.numbers(u_rows, f_cols)
    summa_row = u_rows[-1] + 1
    if norm(sh.cells[summa_row, f_label]) == "summa":
        # The 2016 sheet also leaves the final use of product L68A empty; the block's Summa row includes it.
        residual = sh.numbers([summa_row], f_cols)[0] - final.sum(axis=0)
        q_sup = supply.sum(axis=1)
        empty = [i for i in range(len(u_rows)) if q_sup[i] > 0 and not final[i].any() and not use[i].any()]
        if len(empty) == 1 and np.abs(residual).sum() > 2.0 * len(u_rows) ** 0.5:
            i = empty[0]
            final[i] = np.maximum(residual, 0.0)  # all of Summa's difference, as for an empty industry column
            notes.append(f"{name}: the final use of product {u_prod[i]} ({sh.where(u_rows[i], f_cols[0])} on) is "
                         f"empty although the block's Summa row includes it; restored from Summa minus the other "
                         f"products ({final[i].sum():,.0f} million SEK)")

    # Industry variables.
    v_r0, v_c0 = _block(sh, "övriga variabler bransch")
    v_label = v_c0 + 1
    v_cols = out_cols  # the industry block lists the supply block's industries (checked reading their output)
    v_all = [c for c in range(v_label + 1, sh.shape[1]) if sh.cells[v_r0 + 1, c] is not None
             and norm(sh.cells[v_r0 + 1, c]) != "summa"]

    def var(label: str, *, blank: float = 0.0, required: bool = True) -> np.ndarray | None:
        r = _row(sh, v_r0 + 2, v_label, label, required=required)
        return None if r is None else sh.numbers([r], v_cols, blank=blank, counts=f"{label!r}")[0]

    def var_final(label: str) -> float:
        r = _row(sh, v_r0 + 2, v_label, label, required=False)
        return 0.0 if r is None else float(sh.numbers([r], v_all).sum())

    industries = s_ind
    labour: dict[str, PrimaryInput] = {}
    persons = var("antal sysselsatta", blank=np.nan, required=False)
    if persons is not None:
        labour["persons"] = PrimaryInput("labour_persons", "labour", "persons",
                                         pd.Series(persons, index=industries), "persons employed (SCB)")
    hours = var("arbetade timmar", blank=np.nan, required=False)
    if hours is not None:
        labour["hours"] = PrimaryInput("labour_hours", "labour", "hours", pd.Series(hours * 1e4, index=industries),
                                       "hours worked per year (SCB: tens of thousands, multiplied by 10,000)")
    wages = var("egentlig lön", blank=np.nan, required=False)
    contrib = var("arbetsgivares sociala avgifter", required=False)
    if wages is not None:
        comp = wages + (contrib if contrib is not None else 0.0)
        labour["compensation"] = PrimaryInput("labour_compensation", "labour", "million SEK",
                                              pd.Series(comp, index=industries),
                                              "compensation of employees (wages plus employers' contributions)")
    emissions = []
    co2_row = _row(sh, v_r0 + 2, v_label, _CO2, required=False)
    household_co2 = 0.0
    if co2_row is not None:
        co2 = sh.numbers([co2_row], v_cols, blank=np.nan, counts="CO2 emissions")[0]
        emissions.append(PrimaryInput("co2", "resource", "kt CO2", pd.Series(co2, index=industries),
                                      "carbon dioxide emitted by industries, kilotonnes per year"))
        others = [c for c in v_all if c not in v_cols]
        household_co2 = float(sh.numbers([co2_row], others).sum()) if others else 0.0

    _imp_r0, _ = _block(sh, "insatsmatris - import")
    imp_rows, _imp_prod, imp_cols, _ = _matrix(sh, "insatsmatris - import")
    imp_final_r0, imp_final_c0 = _block(sh, "slutlig användning - importerad")
    imp_final_cols = [c for c in range(imp_final_c0, sh.shape[1]) if norm(sh.cells[imp_final_r0 + 1, c])
                      in {lab for _, lab in FINAL_CATEGORIES}]
    imp_inter = float(sh.numbers(imp_rows, imp_cols).sum())
    imp_final = float(sh.numbers(imp_rows, imp_final_cols).sum())
    taxes = sum(var_final(k) for k in ("tull", "produktskatter", "produktsubventioner", "moms"))
    set_aside = {
        "imported products used (intermediate)": imp_inter,
        "imported products used (final)": imp_final,
        "taxes less subsidies on products (customs, product taxes, subsidies, VAT)": taxes,
        "direct purchases abroad by residents": var_final("svenskars direktköp utomland"),
        "purchases in Sweden by non-residents": var_final("utländska direktköp i sverige"),
    }
    notes += ["use and final use are of domestic output at basic prices as published; imports are a separate "
             "block and are set aside",
             "hours worked are published in tens of thousands; multiplied by 10,000"]
    notes.append(f"industry output (Produktionsvärde) vs column sums of supply as published: largest difference "
                 f"{output_gap:.3g} million SEK")
    if moved:
        notes.append("negative outputs in the supply block moved to use with the opposite sign (the usual "
                     "treatment; balances unchanged): " + "; ".join(moved))
    if co2_row is not None:
        notes.append(f"CO2 emitted directly by households ({household_co2:,.1f} kt) is not an industry's and is "
                     "left out of the co2 resource")
    frame = pd.DataFrame
    return SupplyUseTable(
        name=f"sweden_{name}", source=f"{src} sheet {name}", unit="million SEK",
        supply=frame(supply, index=s_prod, columns=industries),
        use=frame(use, index=u_prod, columns=industries),
        final_use=frame(final, index=u_prod, columns=[k for k, _ in FINAL_CATEGORIES]),
        product_names={p: f"products of industry {p} (NACE)" for p in s_prod},
        labour=labour, emissions=tuple(emissions),
        set_aside={**set_aside, **({"CO2 emitted by households directly (kt)": household_co2} if co2_row else {})},
        totals={"output at basic prices (supply block)": float(supply.sum()),
                "intermediate use of domestic output": float(use.sum()),
                "final use of domestic output": float(final.sum()),
                "total output of industries (Produktionsvärde)": float(output.sum())},
        # SCB publishes whole million kronor; a product row of ~70 cells may be off by a few units.
        balance_tolerance=1e-3, balance_absolute=5.0,
        notes=notes,
        provenance={"publisher": "Statistics Sweden (SCB), national input-output tables", "sheet": name,
                    "valuation": "basic prices as published", "imports_treatment": "separate block, set aside"},
        year=int(name) if name.strip().isdigit() else None,
    )
