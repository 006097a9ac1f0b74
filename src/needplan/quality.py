"""Quality delivered to final use: pure functions over sparse matrices, no economy objects, no state.

A product is made by techniques of different quality ``q_j`` and used as an input by others. Inputs are physical
(an intermediate user is indifferent to quality), so the best a plan can deliver to final use is to route the
shoddiest units to intermediate use and the best to the needs. With ``o_j`` the units of the product made by
technique ``j``, ``U`` the units used as inputs and ``F = sum_j o_j - U >= 0`` the units left for final use, the
quality-adjusted final delivery (in standard units) is the value of that allocation,

    V = max { sum_j q_j a_j : 0 <= a_j <= o_j, sum_j a_j <= F },

and by LP duality (the dual's optimum lies at ``gamma = q_k`` for a maker ``k``)

    V = min over the quality levels q_k of the makers of  sum_j max(q_j, q_k) o_j - q_k U.

Each term is linear in the activities, so ``V >= target`` is one linear row per quality level of the product's
makers: the plan engine's need rows. With a single quality level ``q`` this is ``q F`` (every unit delivered is
of quality ``q``); with no intermediate use it is ``sum_j q_j o_j``; with every maker at quality 1 it is the
physical net output ``F``. Counting ``sum_j q_j o_j - U`` instead (quality on everything made, inputs at standard
quality) is not the delivery: a product made at quality above 1 and mostly used as an input then counts the
quality of units that industry consumed, and one made at quality below 1 is charged as if industry took standard
units.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _canonical(M: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """``M`` as CSR with sorted, summed entries; the caller's arrays are shared when already so, never changed."""
    csr = sp.csr_matrix(M)
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    return csr


def _levels(make: sp.csr_matrix, quality: FloatArray, lowest_only: NDArray[np.bool_]) -> tuple[IntArray, FloatArray]:
    """The distinct quality levels of each row's makers, as (row, level) pairs sorted by row then level.

    ``lowest_only`` rows (no intermediate use) keep only their lowest level, which alone gives ``V`` there.
    """
    row = np.repeat(np.arange(make.shape[0], dtype=np.int64), np.diff(make.indptr))
    level = np.asarray(quality, dtype=np.float64)[make.indices]
    order = np.lexsort((level, row))
    row, level = row[order], level[order]
    new_row = np.ones(row.size, dtype=bool)
    new_row[1:] = row[1:] != row[:-1]
    new_level = new_row.copy()
    new_level[1:] |= level[1:] != level[:-1]
    keep = new_level & (new_row | ~lowest_only[row])
    return row[keep], level[keep]


def _level_entries(make: sp.csr_matrix, quality: FloatArray, lowest_only: NDArray[np.bool_]
                   ) -> tuple[IntArray, FloatArray, IntArray, IntArray, FloatArray]:
    """The (row, level) pairs of :func:`_levels` and, for each pair, every entry of ``make`` in its row with its
    weight ``max(quality, level) * make``: ``(row, level, pair, column, weight)``, one per combination."""
    row, level = _levels(make, quality, lowest_only)
    count = np.diff(make.indptr).astype(np.int64)[row]
    pair = np.repeat(np.arange(row.size, dtype=np.int64), count)
    offset = np.arange(pair.size, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    entry = make.indptr[:-1].astype(np.int64)[row][pair] + offset
    cols = make.indices[entry]
    weight = np.maximum(np.asarray(quality, dtype=np.float64)[cols], level[pair]) * make.data[entry]
    return row, level, pair, cols, weight


def delivery_rows(make: sp.spmatrix | sp.sparray, use: sp.spmatrix | sp.sparray,
                  quality: FloatArray) -> tuple[IntArray, FloatArray, sp.csr_matrix]:
    """The linear rows whose minimum is each product's quality-adjusted final delivery ``V`` (module docstring).

    ``make`` and ``use``: products x techniques (units of the product per unit of activity), the same rows;
    ``quality``: per technique (relative to the standard product). Returns ``(owner, level, M)``: row ``p`` of
    ``M`` (products' rows x techniques) is ``max(quality, level[p]) * make[owner[p]] - level[p] * use[owner[p]]``,
    one per distinct quality level of the makers of product ``owner[p]`` (only the lowest where ``use`` has no
    entry in that row), sorted by ``owner``. For activities ``x``, ``V[g] = min over owner == g of (M @ x)``.
    """
    make = _canonical(make)
    use = sp.csr_matrix(use)
    if make.shape != use.shape or np.shape(quality) != (make.shape[1],):
        raise ValueError(f"make {make.shape}, use {use.shape} and quality {np.shape(quality)} do not match")
    row, level, pair, cols, weight = _level_entries(make, quality, np.diff(use.indptr) == 0)
    made = sp.csr_matrix((weight, (pair, cols)), shape=(row.size, make.shape[1]))
    used = sp.csr_matrix(sp.diags(level) @ use[row])
    return row, level, sp.csr_matrix(made - used)


def delivered(make: sp.spmatrix | sp.sparray, quality: FloatArray, x: FloatArray, used: FloatArray) -> FloatArray:
    """Quality-adjusted final delivery ``V`` of every product of ``make`` (standard units per period).

    ``make``: products x techniques (units per unit of activity); ``quality`` and ``x`` (activity): per
    technique; ``used``: units of each product used as inputs by the plan. Where ``V`` is negative the plan uses
    more than it makes (``V = max(quality) * (made - used)`` there). Computed from the plan's flows alone, without
    the rows of :func:`delivery_rows` (no copy of ``use``).
    """
    make = _canonical(make)
    used = np.asarray(used, dtype=np.float64)
    row, level, pair, cols, weight = _level_entries(make, quality, used == 0)
    flow = weight * np.asarray(x, dtype=np.float64)[cols]
    value = np.bincount(pair, weights=flow, minlength=row.size) - level * used[row]
    out = np.zeros(make.shape[0])
    if row.size:
        first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        out[row[first]] = np.minimum.reduceat(value, first)
    # a product nothing makes delivers nothing, less what is used of it
    made_nothing = np.diff(make.indptr) == 0
    out[made_nothing] = -used[made_nothing]
    return out


LEVEL_ONE_TIE = 1e-9
"""A delivery within this share of the product's gross flows of the least of its rows' counts as tied with it."""


def level_one_binds(make: sp.spmatrix | sp.sparray, quality: FloatArray, x: FloatArray,
                    used: FloatArray) -> NDArray[np.bool_]:
    """Per product: whether the delivery row of quality level 1, which the plan engine has only where a maker has
    quality 1, ties the delivery ``V`` of the plan ``x`` while no maker has quality 1.

    One more unit of standard quality from outside raises a level-``q`` row by ``max(1, q)``: industry takes it in
    place of its best unit, which goes to final use. Where this row ties (industry takes none of the product, or
    exactly its units below quality 1) the unit goes to final use itself and counts 1. Arguments as for
    :func:`delivered`.
    """
    make = _canonical(make)
    q = np.asarray(quality, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    used = np.asarray(used, dtype=np.float64)
    at_one = np.maximum(q, 1.0)
    value = make @ (at_one * x) - used
    gross = make @ (at_one * np.abs(x)) + np.abs(used)
    has_one = (make @ (q == 1.0).astype(np.float64)) > 0
    made = np.diff(make.indptr) > 0
    # (relative to the gross flows alone: a floor of one unit made every product counted in units 10^12 smaller
    # read as tied, and a quality-1.2 product's price fell to 1/1.2 of itself; a helper's metamorphic fuzzing)
    return np.asarray(made & ~has_one & (value <= delivered(make, q, x, used) + LEVEL_ONE_TIE * gross))
