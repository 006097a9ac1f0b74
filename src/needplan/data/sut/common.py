"""From a supply-use table of domestic output to a needplan :class:`Economy`, with the identity check built in.

The readers (``ine``, ``scb``, ``csv_tables``) do the country-specific work: find the blocks, strip imports,
margins and taxes, and hand over a :class:`SupplyUseTable` of *domestic output at basic prices*. This module does
the economics that every source shares: the technology assumption, labour and emissions per unit of product,
the needs, the balance check per product and the identity check. It reads no files.

Notation (as in Eurostat's manual of supply, use and input-output tables): ``S`` supply, products x industries
(output of each product by each industry); ``U`` intermediate use of domestic output, products x industries;
``q = S 1`` product output; ``g = S^T 1`` industry output; ``F`` final use of domestic output, products x
categories; ``l`` a primary input (labour, CO2) per industry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from needplan.analysis import analyze
from needplan.data.names import ASSUMPTIONS, LABOUR_MEASURES, NEED_WEIGHTS, Assumption, NeedWeights
from needplan.economy.model import Economy
from needplan.economy.validate import build_economy
from needplan.errors import EconomyError, NeedplanError, Problem

IDENTITY_TOLERANCE = 1e-6
"""Largest relative error allowed between the economy's gross output (or labour) and the table's."""

NEGATIVE_EPS = 1e-12
"""Product-technology coefficients below ``-NEGATIVE_EPS`` count as negative (smaller ones are rounding noise)."""


class SutError(EconomyError):
    """A supply-use table that cannot be imported; each problem names the file and the cell or row."""


class IdentityError(NeedplanError):
    """The imported economy does not reproduce the table it came from (a bug, or a table needplan misread)."""


@dataclass(frozen=True)
class PrimaryInput:
    """A primary input by industry: labour in one measure, or an emission.

    ``amount`` is indexed by industry id, in ``unit`` per period; NaN marks an industry with no figure in the
    table (never filled in).
    """

    good: str
    kind: Literal["labour", "resource"]
    unit: str
    amount: pd.Series
    description: str


@dataclass(frozen=True)
class SupplyUseTable:
    """A supply-use table of domestic output at basic prices, as the readers hand it over.

    ``supply`` and ``use`` are products x industries (``use`` is intermediate use of domestic output),
    ``final_use`` products x final-use categories (domestic output), all in ``unit``. ``labour`` maps each
    measure the table has (a key of :data:`LABOUR_MEASURES`) to its :class:`PrimaryInput`; ``emissions`` lists
    emissions by industry. ``set_aside`` gives the size (in ``unit``) of every item that is not domestic
    output at basic prices and was left out (imports, margins, taxes, purchases by non-residents ...).
    ``totals`` are the table's own totals as published (for the report). ``balance_tolerance`` is how far a
    product's use may differ from its supply before the table counts as unbalanced (relative to its supply),
    and ``balance_absolute`` the same in ``unit``: published tables are rounded. ``notes`` and ``provenance``
    describe what the reader did. ``year`` is the year the table states, where the reader can tell.
    """

    name: str
    source: str
    unit: str
    supply: pd.DataFrame
    use: pd.DataFrame
    final_use: pd.DataFrame
    product_names: Mapping[str, str] = field(default_factory=dict)
    labour: Mapping[str, PrimaryInput] = field(default_factory=dict)
    emissions: Sequence[PrimaryInput] = ()
    set_aside: Mapping[str, float] = field(default_factory=dict)
    totals: Mapping[str, float] = field(default_factory=dict)
    balance_tolerance: float = 0.0
    balance_absolute: float = 0.0
    notes: Sequence[str] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    year: int | None = None


@dataclass(frozen=True)
class ImportReport:
    """What an import did, with every term needed to recompute it.

    ``balance`` has one row per product of the table: ``supply`` (domestic output), ``intermediate`` and
    ``final`` (use of domestic output as published after setting items aside), ``discrepancy`` =
    intermediate + final - supply and ``relative`` = discrepancy / supply; the import scales each product's use
    row so that it matches supply (rounding in the published table), within the table's tolerance.
    ``identity_output`` and ``identity_labour`` are the largest relative errors of the check.
    """

    source: str
    fmt: str
    year: int | None
    unit: str
    assumption: Assumption
    construction: str
    totals: dict[str, float]
    set_aside: dict[str, float]
    balance: pd.DataFrame
    final_use_by_category: dict[str, float]
    needs_categories: tuple[str, ...]
    needs_clipped: tuple[str, ...]
    needs_weights: NeedWeights
    capacity_headroom: float | None
    labour_measure: str | None
    labour_total: float | None
    labour_unit: str
    industries_without_labour: tuple[str, ...]
    emissions_total: dict[str, float]
    dropped_products: tuple[str, ...]
    dropped_industries: tuple[str, ...]
    negative_coefficients: int
    negative_handling: str
    identity_output: float
    identity_labour: float | None
    notes: tuple[str, ...]

    @property
    def largest_discrepancy(self) -> float:
        """Largest |relative| balance discrepancy over products with output (0 when balanced)."""
        rel = self.balance["relative"].to_numpy(dtype=np.float64)
        rel = rel[np.isfinite(rel)]
        return float(np.max(np.abs(rel), initial=0.0))


MAX_CAPACITY_HEADROOM = 1e9
"""The largest capacity headroom taken: a billion times the table's output is no limit (and beyond it the
capacities of large industries would overflow); leave the option out for none."""


def headroom_problem(headroom: float | None) -> str | None:
    """What is wrong with a capacity headroom, or ``None`` (also for no headroom)."""
    if headroom is None or (math.isfinite(headroom) and 0 <= headroom <= MAX_CAPACITY_HEADROOM):
        return None
    return f"must be a number from 0 to {MAX_CAPACITY_HEADROOM:g} (leave it out for no limit), got {headroom:g}"


def off_total(added: np.ndarray, stated: np.ndarray, rounding: float) -> np.ndarray:
    """Where cells ``added`` up disagree with the table's own ``stated`` total by more than ``rounding`` (in the
    table's unit) and 1e-6 of it; a figure that is no finite number disagrees too."""
    return ~(np.abs(added - stated) <= np.maximum(rounding, 1e-6 * np.abs(stated)))


def first_repeated(items: Sequence[str]) -> str | None:
    """The first item that an earlier one repeats (empty items aside), or None."""
    return next((c for i, c in enumerate(items) if c and c in items[:i]), None)


def _fail(source: str, where: str, message: str) -> SutError:
    return SutError(Problem(where, message), source)


DEFAULT_LABOUR_ORDER = ("fte", "hours", "persons", "jobs", "compensation")
"""Without ``--labour``, the first of these measures the table has figures for is imported."""


def _sums_finite(table: SupplyUseTable) -> None:
    """Refuse a table whose rows or columns add up beyond double precision, naming the first (fuzzing: supply cells
    of 1e308 and 1e308, each finite, ended in a traceback, and labour figures of 1e308 in "resources row 0: available
    is not finite"). Cells without a figure (NaN) count as 0."""
    frames = [("supply", "product", "industry", table.supply), ("use", "product", "industry", table.use),
              ("final use", "product", "category", table.final_use)]
    frames += [(p.description, "industry", "", p.amount.to_frame()) for p in [*table.labour.values(),
                                                                            *table.emissions]]
    for what, row_kind, col_kind, frame in frames:
        values = np.nan_to_num(frame.to_numpy(dtype=np.float64), nan=0.0, posinf=np.inf, neginf=-np.inf)
        with np.errstate(over="ignore", invalid="ignore"):
            sums = ((values.sum(axis=1), row_kind, frame.index), (values.sum(axis=0), col_kind, frame.columns))
        for total, kind, labels in sums:
            bad = np.flatnonzero(~np.isfinite(total))
            if bad.size:
                where = f"{what}, {kind} {labels[bad[0]]!r}" if kind else what
                raise _fail(table.source, where, "its figures add up beyond double precision (1.8e308): a figure "
                                                 "is far too large")


def _labour_choice(table: SupplyUseTable, labour: str | None) -> PrimaryInput | None:
    """The labour measure to import: the one asked for, or (``None``) the first of :data:`DEFAULT_LABOUR_ORDER` with a
    figure."""
    if labour is None:
        for measure in DEFAULT_LABOUR_ORDER:
            # a measure without a single figure is no measure (fuzzing: a blank FTE row imported labour as 0)
            if measure in table.labour and table.labour[measure].amount.notna().any():
                return table.labour[measure]
        return None
    if labour not in LABOUR_MEASURES:
        raise _fail(table.source, "", f"unknown labour measure {labour!r}; choose one of {', '.join(LABOUR_MEASURES)}")
    if labour not in table.labour:
        have = ", ".join(table.labour) or "none"
        raise _fail(table.source, "", f"the table has no {labour!r} labour figures (it has: {have}); "
                                      "needplan never invents labour, choose another --labour")
    if not table.labour[labour].amount.notna().any():  # (fuzzing: an empty column imported labour as 0)
        have = ", ".join(m for m, p in table.labour.items() if p.amount.notna().any()) or "none"
        raise _fail(table.source, "", f"the table's {labour!r} labour figures are all empty (it has figures for: "
                                      f"{have}); needplan never invents labour, choose another --labour")
    return table.labour[labour]


def _needs_categories(table: SupplyUseTable, needs: str | Sequence[str] | None) -> tuple[str, ...]:
    categories = tuple(str(c) for c in table.final_use.columns)
    if needs is None:
        return categories
    asked = [c.strip() for c in (needs.split(",") if isinstance(needs, str) else needs) if c.strip()]
    if (twice := first_repeated(asked)) is not None:  # it was summed twice: every need doubled (fuzzing)
        raise _fail(table.source, "", f"final-use category {twice!r} is given twice in needs")
    unknown = [c for c in asked if c not in categories]
    if unknown or not asked:
        raise _fail(table.source, "", f"unknown final-use categor{'ies' if len(unknown) > 1 else 'y'} "
                                      f"{', '.join(map(repr, unknown)) or 'none given'}; "
                                      f"the table has: {', '.join(categories)}")
    return tuple(asked)


def _balance(table: SupplyUseTable) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-product balance; returns (report frame, use and final use scaled so that each row matches supply)."""
    q = table.supply.sum(axis=1)
    inter = table.use.sum(axis=1)
    final = table.final_use.sum(axis=1)
    disc = inter + final - q
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (disc / q).where(q != 0, np.nan)
    frame = pd.DataFrame({"supply": q, "intermediate": inter, "final": final, "discrepancy": disc,
                          "relative": rel})
    # What the table allows, and 1e-9 of the product's flows for the sums' rounding; that share of one unit, as
    # before, let a CSV product of supply 1e-12 be used 500 times over (fuzzing), where the docs say exact.
    allowed = (np.maximum(table.balance_tolerance * q.abs(), table.balance_absolute)
               + 1e-9 * np.maximum(q.abs(), inter.abs() + final.abs()))
    bad = disc.abs() > allowed
    if bad.any():
        problems = []
        for product in q.index[bad.to_numpy()][:5]:
            problems.append(Problem(
                "", f"product {product!r}: supply {q[product]:,.6g} but intermediate use {inter[product]:,.6g} + "
                f"final use {final[product]:,.6g} = {inter[product] + final[product]:,.6g} (difference "
                f"{disc[product]:+,.6g}, allowed {allowed[product]:,.3g}): the table does not balance"))
        if bad.sum() > 5:
            problems.append(Problem("", f"... and {int(bad.sum()) - 5} more unbalanced products"))
        raise SutError(problems, table.source)
    total = inter + final
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = (q / total).where(total != 0, 1.0)
    return frame, table.use.mul(factor, axis=0), table.final_use.mul(factor, axis=0)


def industry_technology(supply: np.ndarray, use: np.ndarray, primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Product-by-product coefficients under the industry-technology assumption (market shares).

    ``supply`` S and ``use`` U are products x industries, ``primary`` P primaries x industries (same units per
    period). Every industry has the same input structure whatever it makes, and each product is made by the
    industries in proportion to their market shares: ``A = U diag(1/g) S^T diag(1/q)`` and
    ``R = P diag(1/g) S^T diag(1/q)``, with ``g = S^T 1``, ``q = S 1`` (all positive). Never negative when the
    inputs are not. Returns (A products x products, R primaries x products), per unit of product output.
    """
    q = supply.sum(axis=1)
    g = supply.sum(axis=0)
    shares = supply.T / q  # industries x products: industry j's share of product k
    return (use / g) @ shares, (primary / g) @ shares


def product_technology(supply: np.ndarray, use: np.ndarray, primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Product-by-product coefficients under the product-technology assumption, before removing negatives.

    Every product has one input structure whichever industry makes it, so an industry's inputs are the sum of
    the structures of what it makes: ``A S = U`` and ``R S = P``. With as many products as industries this is
    ``A = U S^-1``; with more products than industries (Spain: 110 x 81) ``A = U S^+`` with the Moore-Penrose
    pseudo-inverse, the least-norm solution, which still gives ``A S = U`` exactly when S has full column rank.
    Returns (A, R) as for :func:`industry_technology`; entries may be negative.
    """
    pinv = np.linalg.pinv(supply)
    return _without_roundoff(use, pinv), _without_roundoff(primary, pinv)


ROUNDOFF = 1e3
"""An entry of ``M @ pinv(S)`` within ``ROUNDOFF`` times machine epsilon times the norms of its row of ``M`` and its
column of ``pinv(S)`` is round-off of the pseudo-inverse, and set to 0. Measured on every Spanish and Swedish
year: those entries lie at 1e-3 to 1e2 of that bound (imputed rents made by one industry alone got 7 to 57
inputs of 4e-23 to 5e-13 per unit: 4.8e-13 hours of labour beside 4,563, on which HiGHS failed), every other at
1e5 and above."""


def _without_roundoff(m: np.ndarray, pinv: np.ndarray) -> np.ndarray:
    """``m @ pinv`` with the entries within round-off of 0 (:data:`ROUNDOFF`) set to 0."""
    out = m @ pinv
    bound = ROUNDOFF * np.finfo(np.float64).eps * np.outer(_norms(m), _norms(pinv.T))
    out[np.abs(out) <= bound] = 0.0
    return out


def _norms(m: np.ndarray) -> np.ndarray:
    """The Euclidean norm of each row of ``m``, without overflow (fuzzing: a table in units of 1e154 squared its
    entries to inf, so every coefficient counted as round-off)."""
    top = np.max(np.abs(m), axis=1, initial=0.0)
    scale = np.where(top > 0, top, 1.0)
    return scale * np.linalg.norm(m / scale[:, None], axis=1)


def remove_negatives(coeff: np.ndarray, q: np.ndarray, row_totals: np.ndarray) -> tuple[np.ndarray, int]:
    """Set negative coefficients to zero and rescale each row to keep its total ``coeff @ q`` = ``row_totals``.

    This keeps every product's total intermediate use (and every primary input's total) equal to the table's,
    so the identity check still holds; the structure of each row changes where negatives were removed.
    Returns (the new coefficients, how many were negative). Raises ``ValueError`` naming the row when a row
    needs a positive total but has no positive coefficient left.
    """
    negative = coeff < -NEGATIVE_EPS * max(float(np.abs(coeff).max(initial=0.0)), 1.0)
    count = int(negative.sum())
    clipped = np.where(coeff > 0, coeff, 0.0)
    have = clipped @ q
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(have > 0, row_totals / have, 0.0)
    stuck = (have <= 0) & (row_totals > 0)
    if stuck.any():
        raise ValueError(f"row {int(np.flatnonzero(stuck)[0])} has no positive coefficient left")
    return clipped * factor[:, None], count


INDUSTRY_CONSTRUCTION = ("industry-technology assumption (market shares): A = U diag(1/g) S^T diag(1/q), "
                         "R = P diag(1/g) S^T diag(1/q); one technique per product, inputs per unit of product")
PRODUCT_CONSTRUCTION = ("product-technology assumption: A S = U, R S = P solved as A = U pinv(S), R = P pinv(S) "
                        "(least-norm when products outnumber industries); one technique per product")


def build_from_table(
    table: SupplyUseTable,
    *,
    fmt: str,
    year: int | None = None,
    assumption: Assumption = "industry",
    labour: str | None = None,
    needs: str | Sequence[str] | None = None,
    weights: NeedWeights = "value",
    capacity_headroom: float | None = None,
) -> tuple[Economy, ImportReport]:
    """Turn a :class:`SupplyUseTable` into an economy and check it reproduces the table.

    Products with no domestic output are left out (they can only be imported); industries with no output are
    left out (their use and primary inputs must be zero, else :class:`SutError`). Products are goods of kind
    product in ``table.unit``; each gets one technique ``make_<product>`` whose inputs per unit of output come
    from the chosen technology assumption. The labour measure (``None``: the first of fte, hours, persons, jobs,
    compensation the table has) becomes one labour good, emissions become resource goods; ``resources.csv``
    holds the table's totals. ``needs`` selects final-use categories (default all) of domestic output; negative
    sums (inventories drawn down) become 0 in needs.csv and are reported.

    ``weights`` sets the needs' weights (see :func:`need_weights`): ``value`` (in proportion to each target,
    mean 1) or ``equal`` (1 each); only the harmony objective reads them. ``capacity_headroom`` ``h`` >= 0 caps
    each product's technique at ``(1 + h)`` times the table's output of the product (activity per period); ``None``
    (the default) leaves every technique unlimited, as the table itself says nothing of capacity.

    Raises :class:`SutError` for tables that cannot be imported and :class:`IdentityError` when the economy's
    gross output for the table's own final demand differs from the table's output by more than
    :data:`IDENTITY_TOLERANCE` (relative) for any product, or its labour total from the table's. ``year``
    (recorded in the economy's provenance and the report) defaults to the year the table states.
    """
    if year is None:
        year = table.year
    if assumption not in ASSUMPTIONS:
        raise _fail(table.source, "", f"unknown technology assumption {assumption!r} (industry or product)")
    if weights not in NEED_WEIGHTS:
        raise _fail(table.source, "weights", f"unknown need weights {weights!r} ({' or '.join(NEED_WEIGHTS)})")
    if (why := headroom_problem(capacity_headroom)) is not None:
        raise _fail(table.source, "capacity headroom", why)
    src = table.source
    if list(table.supply.index) != list(table.use.index) or list(table.supply.index) != list(table.final_use.index):
        only_s = [p for p in table.supply.index if p not in set(table.use.index)]
        only_u = [p for p in table.use.index if p not in set(table.supply.index)]
        raise _fail(src, "products", "supply and use list different products"
                    + (f"; only in supply: {', '.join(map(str, only_s[:5]))}" if only_s else "")
                    + (f"; only in use: {', '.join(map(str, only_u[:5]))}" if only_u else "")
                    + ("; same products in a different order" if not only_s and not only_u else ""))
    if list(table.supply.columns) != list(table.use.columns):
        only_s = [p for p in table.supply.columns if p not in set(table.use.columns)]
        only_u = [p for p in table.use.columns if p not in set(table.supply.columns)]
        raise _fail(src, "industries", "supply and use list different industries"
                    + (f"; only in supply: {', '.join(map(str, only_s[:5]))}" if only_s else "")
                    + (f"; only in use: {', '.join(map(str, only_u[:5]))}" if only_u else ""))
    neg = table.supply.to_numpy() < 0
    if neg.any():
        i, j = (int(k[0]) for k in np.nonzero(neg))
        raise _fail(src, f"supply, product {table.supply.index[i]!r}, industry {table.supply.columns[j]!r}",
                    f"negative output {table.supply.iat[i, j]:g}")
    _sums_finite(table)
    labour_input = _labour_choice(table, labour)
    categories = _needs_categories(table, needs)
    balance, use, final_use = _balance(table)

    q_all = table.supply.sum(axis=1)
    g_all = table.supply.sum(axis=0)
    primaries: list[PrimaryInput] = ([labour_input] if labour_input is not None else []) + list(table.emissions)
    for primary in primaries:  # (fuzzing: a negative CO2 cell was dropped unseen, a negative labour cell failed the
        amount = primary.amount  # identity check naming no cell)
        negative = amount.index[(amount < 0).to_numpy()]
        if len(negative):
            raise _fail(table.source, f"{primary.good} of industry {negative[0]!r}",
                        f"negative {primary.description}: {float(amount[negative[0]]):g}")
    products_all = {str(p) for p in table.supply.index}
    for k, primary in enumerate(primaries):  # (fuzzing: an emission named like a product failed as "goods row 4")
        if primary.good in products_all or primary.good in [p.good for p in primaries[:k]]:
            owner, rename = (("a product", "the product" if primary.kind == "labour" else "the emission")
                             if primary.good in products_all else ("the labour measure", "the emission"))
            raise _fail(src, "emissions" if primary.kind == "resource" else "labour",
                        f"{primary.description} would take the id {primary.good!r}, which {owner} already has; "
                        f"every good needs an id of its own: rename {rename}")
    dead_ind = g_all.index[(g_all <= 0).to_numpy()]
    for ind in dead_ind:
        used = float(use[ind].abs().sum())
        prim = [p.good for p in primaries if abs(float(np.nan_to_num(p.amount.get(ind, 0.0)))) > 0]
        if used > 0 or prim:
            raise _fail(src, f"industry {ind!r}", f"has no output but uses {used:,.6g} of products"
                        + (f" and {', '.join(prim)}" if prim else "") + ": the table is inconsistent")
    live_ind = g_all.index[(g_all > 0).to_numpy()]
    dead_prod = q_all.index[(q_all <= 0).to_numpy()]
    live_prod = q_all.index[(q_all > 0).to_numpy()]

    S = table.supply.loc[live_prod, live_ind].to_numpy(dtype=np.float64)
    U = use.loc[live_prod, live_ind].to_numpy(dtype=np.float64)
    F = final_use.loc[live_prod].to_numpy(dtype=np.float64)
    P = np.array([p.amount.reindex(live_ind).fillna(0.0).to_numpy(dtype=np.float64) for p in primaries]
                 ).reshape(len(primaries), len(live_ind))
    q = S.sum(axis=1)
    negatives = 0
    rank_note = ""
    if assumption == "industry":
        A, R = industry_technology(S, U, P)
        construction, handling = INDUSTRY_CONSTRUCTION, "none arise under the industry-technology assumption"
    else:
        if S.shape[0] < S.shape[1]:
            raise _fail(src, "supply", f"the product-technology assumption needs at least as many products as "
                                       f"industries with output ({S.shape[0]} < {S.shape[1]}); use industry")
        A, R = product_technology(S, U, P)
        if int(np.linalg.matrix_rank(S)) < S.shape[1]:
            # (fuzzing: two industries making only one product, with other inputs, imported as if A S = U held;
            # the identity check cannot tell, each row being rescaled to its total)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                misfit = float(np.max(np.abs(A @ S - U), initial=0.0)) / max(float(np.max(np.abs(U), initial=0.0)),
                                                                              np.finfo(np.float64).tiny)
            if misfit > 1e-9:
                rank_note = (f"product technology: the supply table's rank is below its {S.shape[1]} industries "
                             f"(some make the same products), so A S = U holds only as a least-squares fit, off by "
                             f"{misfit:.2g} of the largest use; the industry-technology assumption fits exactly")
        try:
            A, neg_a = remove_negatives(A, q, U.sum(axis=1))
            R, neg_r = remove_negatives(R, q, P.sum(axis=1))
        except ValueError as exc:
            raise _fail(src, "supply", f"product technology: {exc}; use the industry-technology assumption"
                        ) from None
        negatives = neg_a + neg_r
        construction = PRODUCT_CONSTRUCTION
        handling = (f"{neg_a} negative input coefficients and {neg_r} negative primary coefficients set to 0; "
                    "each row then rescaled so that the product's total intermediate use (and each primary "
                    "input's total) equals the table's")

    products = [str(p) for p in live_prod]
    notes = list(table.notes)
    if assumption == "product" and rank_note:
        notes.append(rank_note)
    if labour is None and labour_input is not None and labour_input is table.labour.get("compensation"):
        # (fuzzing: an INE workbook with its employment rows blank imported labour in million EUR unannounced)
        notes.append("labour is measured by compensation of employees, in money: the table has no figures of fte, "
                     "hours, persons or jobs")
    per_unit = A.sum(axis=0)  # products used per unit made, in the table's currency
    over = np.flatnonzero(per_unit > 1.0 + 1e-9)
    if over.size:  # (fuzzing: product technology on Spain 2019, p070 used 10.6 EUR of products per EUR made)
        over = over[np.argsort(-per_unit[over], kind="stable")]
        listed = ", ".join(f"{products[k]} {per_unit[k]:.3g}" for k in over[:5])
        notes.append(f"{over.size} {'product takes' if over.size == 1 else 'products take'} more than one unit of "
                     f"products per unit made (value added below 0; {listed}{' ...' if over.size > 5 else ''})"
                     + ("; an artefact of the product-technology construction (the industry-technology "
                        "assumption gives none while every industry's value added is positive)"
                        if assumption == "product" else ""))
    economy = _economy(table, products, A, R, primaries, F, final_use.columns, categories, construction,
                       handling, negatives, fmt, year, assumption, labour_input, weights,
                       None if capacity_headroom is None else q * (1.0 + capacity_headroom), capacity_headroom)
    d = pd.Series(F.sum(axis=1), index=products)
    result = analyze(economy, d, method="direct", allow_negative=True)
    out_err = float(np.max(np.abs(result.gross_output.to_numpy() - q) / q, initial=0.0))
    if not np.isfinite(out_err) or out_err > IDENTITY_TOLERANCE:
        worst = int(np.argmax(np.abs(result.gross_output.to_numpy() - q) / q))
        raise IdentityError(f"{src}: identity check failed: with the table's final demand the economy makes "
                            f"{result.gross_output.iloc[worst]:,.9g} of {products[worst]!r}, the table "
                            f"{q[worst]:,.9g} (relative error {out_err:.2e} > {IDENTITY_TOLERANCE:g})")
    lab_err: float | None = None
    lab_total: float | None = None
    if labour_input is not None:
        lab_total = float(np.nansum(labour_input.amount.to_numpy(dtype=np.float64)))
        embodied = result.embodied[labour_input.good].to_numpy()
        got = float(embodied @ d.to_numpy())
        lab_err = abs(got - lab_total) / abs(lab_total) if lab_total else abs(got)
        if not math.isfinite(lab_err) or lab_err > IDENTITY_TOLERANCE:
            raise IdentityError(f"{src}: identity check failed: the economy uses {got:,.9g} {labour_input.unit} "
                                f"of labour for the table's final demand, the table {lab_total:,.9g}")
    missing = tuple(str(i) for i in labour_input.amount.index[labour_input.amount.isna().to_numpy()]
                    ) if labour_input is not None else ()
    d_needs = final_use.loc[live_prod, list(categories)].sum(axis=1)
    report = ImportReport(
        source=src, fmt=fmt, year=year, unit=table.unit, assumption=assumption, construction=construction,
        totals=dict(table.totals), set_aside=dict(table.set_aside), balance=balance,
        final_use_by_category={str(c): float(v) for c, v in final_use.sum(axis=0).items()},
        needs_categories=categories,
        needs_clipped=tuple(str(p) for p in d_needs.index[(d_needs < 0).to_numpy()]),
        needs_weights=weights, capacity_headroom=capacity_headroom,
        labour_measure=None if labour_input is None else labour_input.good,
        labour_total=lab_total, labour_unit="" if labour_input is None else labour_input.unit,
        industries_without_labour=missing,
        emissions_total={e.good: float(np.nansum(e.amount.to_numpy(dtype=np.float64))) for e in table.emissions},
        dropped_products=tuple(str(p) for p in dead_prod), dropped_industries=tuple(str(i) for i in dead_ind),
        negative_coefficients=negatives, negative_handling=handling,
        identity_output=out_err, identity_labour=lab_err, notes=tuple(notes),
    )
    return economy, report


WEIGHTS_DEFINITION: dict[str, str] = {
    "value": "in proportion to each need's target, mean 1 (a relative shortfall of a large product counts for more "
             "than one of a small product)",
    "equal": "1 for every need",
}


def need_weights(target: np.ndarray, how: NeedWeights) -> np.ndarray:
    """The needs' weights for targets ``target`` (the table's currency, all > 0): ``value`` gives ``target /
    mean(target)``, ``equal`` gives 1.

    The harmony objective sums ``weight_g * H(s_g)`` over relative deviations ``s_g``. With equal weights on a
    table in money, a need of 0.1 million counts as much as one of 90,000 million, and the harmony's optimum
    makes a thousand times the target of small needs while it leaves large ones unmet (on Spain 2019: 11 needs at
    0, the need-weighted quantity index 119,298%). With value weights one more unit of any need is worth
    ``H'(s_g) / mean(target)``, the same scale for every product.
    """
    if how == "equal" or not len(target):
        return np.ones(len(target))
    return target / target.mean()


def _economy(table: SupplyUseTable, products: list[str], A: np.ndarray, R: np.ndarray,
             primaries: list[PrimaryInput], F: np.ndarray, categories_all: pd.Index, categories: tuple[str, ...],
             construction: str, handling: str, negatives: int, fmt: str, year: int | None, assumption: str,
             labour_input: PrimaryInput | None, weights: NeedWeights, capacity: np.ndarray | None,
             headroom: float | None) -> Economy:
    techniques = [f"make_{p}" for p in products]
    goods = pd.DataFrame({
        "good": products + [p.good for p in primaries],
        "kind": ["product"] * len(products) + [p.kind for p in primaries],
        "unit": [table.unit] * len(products) + [p.unit for p in primaries],
        "name": [table.product_names.get(p, p) for p in products] + [p.description for p in primaries],
    })
    ti, pi = np.nonzero(A.T > 0)
    rows = [pd.DataFrame({"technique": np.asarray(techniques, dtype=object)[ti],
                          "good": np.asarray(products, dtype=object)[pi], "amount": A.T[ti, pi]})]
    for k, prim in enumerate(primaries):
        nz = np.flatnonzero(R[k] > 0)
        rows.append(pd.DataFrame({"technique": np.asarray(techniques, dtype=object)[nz], "good": prim.good,
                                  "amount": R[k, nz]}))
    inputs = pd.concat(rows, ignore_index=True)
    resources = pd.DataFrame({"good": [p.good for p in primaries],
                              "available": [float(np.nansum(p.amount.to_numpy(dtype=np.float64)))
                                            for p in primaries]})
    pos = [list(categories_all).index(c) for c in categories]
    target = F[:, pos].sum(axis=1)
    needs = pd.DataFrame({"good": products, "target": np.maximum(target, 0.0)})
    needs = needs[needs["target"] > 0]
    needs = needs.assign(weight=need_weights(needs["target"].to_numpy(), weights))
    technique_table = pd.DataFrame({"technique": techniques, "good": products})
    if capacity is not None:
        technique_table["capacity"] = capacity
    tables = {"goods": goods,
              "techniques": technique_table,
              "inputs": inputs, "resources": resources, "needs": needs}
    provenance: dict[str, Any] = {
        "source": table.source, "source_format": fmt, "unit": table.unit,
        "technology_assumption": assumption, "construction": construction,
        "negative_coefficients": negatives, "negative_handling": handling,
        "needs_categories": list(categories),
        "needs_definition": "final use of domestic output at basic prices over the listed categories; "
                            "negative sums set to 0",
        "needs_weights": WEIGHTS_DEFINITION[weights],
        "capacity_definition": (
            "none: every technique unlimited (the table says nothing of capacity)" if headroom is None
            else f"each technique at most {1.0 + headroom:g} times the table's output of its product"),
        "labour_measure": "" if labour_input is None else labour_input.good,
        "labour_unit": "" if labour_input is None else labour_input.unit,
        "resources_definition": "available = the table's total over industries",
        "identity_check": f"gross output for the table's final demand equals the table's output of every product "
                          f"to {IDENTITY_TOLERANCE:g} relative; labour total likewise",
    }
    if year is not None:
        provenance["year"] = year
    provenance.update({k: v for k, v in table.provenance.items() if k not in provenance})
    desc = f"Imported from {table.name} ({fmt}) with the {assumption}-technology assumption"
    return build_economy(tables, name=table.name, description=desc, origin=table.source, provenance=provenance)
