"""A linear program in structured form, its HiGHS session, and the checks of a solution against it.

The LP is always held as a minimisation ``min c'x  s.t.  row_lower <= A x <= row_upper, col_lower <= x <=
col_upper`` (a maximisation stores ``-c`` and remembers ``maximize``), so that dual signs follow one convention:
a row dual ``y_i >= 0`` on a row held at its lower bound, ``<= 0`` at its upper bound, and reduced costs
``d = c - A'y``. Checks (primal violations, dual feasibility, the duality gap) are recomputed here from the
matrices, never taken from the solver's own report. This module knows nothing about economies.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan.leontief import abs_matvec, abs_rmatvec, equilibrate, geometric_spread, power2_factor
from needplan.plan.errors import PlanInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
PriceRanges = Callable[[IntArray, IntArray], "tuple[FloatArray, FloatArray] | None"]
"""``ranges(rows, cols)``: how far the upper bounds of those LP rows and columns can rise with a solution's prices
unchanged, as ``(columns, rows)`` over the whole LP (see :meth:`HighsSession.price_ranges`)."""

STATUS = ("optimal", "infeasible", "unbounded", "stopped")

_TINY = 1e-300
BROKEN_RESIDUAL = 0.01
"""A plan whose largest primal residual (a row's violation relative to its size) is above this is no plan, whatever
the solver called it: ``read_back`` reports such a stopped answer without a plan, and Kelley's rounds keep the last
round before one (the demo's harmony at availabilities of 2^64 - 1: HiGHS's "optimal" broke rows by 84% and more)."""
TIGHTEST_HIGHS_TOLERANCE = 1e-10
"""HiGHS's smallest primal and dual feasibility tolerance (used when its first answer fails verification)."""
BEYOND_TIGHTEST = (f"a tolerance below {TIGHTEST_HIGHS_TOLERANCE:g}, HiGHS's tightest, asks more than double precision "
                   "holds on most economies' flows")
"""Said where a plan fails at a tolerance below :data:`TIGHTEST_HIGHS_TOLERANCE`."""
FEASIBLE = int(highspy.SolutionStatus.kSolutionStatusFeasible)
"""HiGHS's primal solution status of a feasible point."""
SCALE_BEYOND = 10
"""Rows and columns whose scale (geometric mean of the largest and smallest entry) is beyond ``2^±SCALE_BEYOND``
are divided by a power of 2 near it before HiGHS sees them (within that, HiGHS's own scaling does the work)."""
LARGE_ACTIVITIES = 20
"""Harmony's LPs (``LinearProgram.large_units``) count the activities in a larger unit (:func:`activity_units`) where
the median bound concerning them is above ``2^LARGE_ACTIVITIES`` (about 10^6; a national table in million EUR has
its median near 10^4)."""
SCALE_ROUNDS = 3
"""Alternating rounds of that column and row scaling."""
ROW_UNIT_SHARE = 1e-3
"""A row's violation is measured against its flows at the plan, but never against less than this share of one unit
of the row as HiGHS sees it (``1 / row scale``): a floor for rows whose flows are rounding noise (activities of
1e-15 left by crossover), at which HiGHS's tightest absolute tolerance (1e-10) is still within 1e-7. A whole unit
let a need delivered 30% short read as 3.2e-4 short when its good was counted in units 10^11 apart from the others
(the unit was 800 times the row's flows). The floor shrinks with the plan: times its largest activity in HiGHS's units
where that is below 1 (:func:`check_solution`)."""
RANGING_PIVOT = 1e-11
"""Basic variables that move by less than this share of the fastest one as a bound rises do not end its price's
range (:meth:`HighsSession.price_ranges`): rounding, not a direction. (Not an absolute threshold: a capacity of
1e15, as HiGHS saw it, moved its degenerate labour row by 9.3e-10 per unit.)"""
IPM_ITERATION_LIMIT = 1_000
"""HiGHS's interior point method stops here (it took 45 to 55 iterations on structured economies of 3,000 to 10^4
goods): on a harmony LP with availabilities of 1.8e19, after its simplex failed, it ran 934,509 iterations in 30 s
on 30 rows, and for more than 15 minutes without a time limit (fuzzing). The answer is then ``stopped``."""
IPM_FROM_ROWS = 6_000
"""A fresh LP of this many rows or more is solved first by HiGHS's interior point method (with crossover), the
re-solves after it by its simplex, warm; below it by the simplex (fast's fallback and ``solver="highs"`` alike).

Measured on generated *structured* economies, ray (docs/benchmarks.md, session 12): 3,000 goods (3,338 rows)
simplex 1.8 s, IPM 3.3 s; 6,000 goods simplex 21.6 s, IPM 18.9 s; 10^4 goods (seeds 1, 2, 3) simplex 115 s,
278 s, 296 s, IPM 69 s, 82 s, 87 s."""
MET_WITHIN = (1 / 16, 15 / 16)
"""A min-labour problem whose targets, lowered by one of these shares of the tolerance (tried in turn), have a
plan has its targets met within the tolerance (``needplan.plan.solve``); its conflict search counts targets met
at the last share too (``needplan.plan.explain.find_conflict``), so that the two agree."""
DUST = 1e-10
"""A reduced cost ``c - A'y`` below this share of its column's value flows (``|c| + |A|'(|y| + y_ref)``, with the
reference prices of :class:`Checks`) is rounding left where it is 0, and counts as 0 in the dual objective:
priced at a bound of 10^15 written for "unlimited", that noise opened a duality gap of 4e-5 on an optimal plan,
and of 4 at 10^20 (fuzzing: 1e-20 absolute on the demo, 3.4e-12 of the value flows on generated economies of
300 goods). Below HiGHS's tightest dual tolerance (1e-10)."""
LARGEST_BOUND = 2.0**20
"""Rows are passed to HiGHS with finite bounds of at most this size (see :func:`bound_scale`): rounding of an
activity that size, about 1e-16 of it per entry, stays below HiGHS's absolute feasibility tolerance of 1e-7."""
SMALLEST_BOUND = 2.0**-SCALE_BEYOND
"""Rows are passed to HiGHS with nonzero finite bounds of at least about this size, where a factor of at most
``2^SCALE_BEYOND`` brings them there (see :func:`bound_scale`)."""
REFINE_ROUNDS = 2
"""Rounds of iterative refinement of HiGHS's duals from its basis (:meth:`HighsSession._refined_duals`)."""
COST_MARGIN = 1
COST_ROUNDS = 3
MOST_COST_SCALE = 30
"""A re-solve of an answer whose prices fail the check passes HiGHS its costs multiplied by ``2^COST_MARGIN`` times
that failure over the tolerance, up to ``COST_ROUNDS`` times, by at most ``2^MOST_COST_SCALE`` in all
(:meth:`HighsSession._resolve_costs_raised`)."""


@dataclass
class LinearProgram:
    """``min cost'x`` over ``col_lower <= x <= col_upper`` and ``row_lower <= A x <= row_upper`` (``A``: rows x cols).

    Infinite bounds are ``±inf``. Mutable on purpose: rows are appended by :meth:`add_rows` (user constraints,
    cutting planes) so that a HiGHS session can take only the new rows.
    """

    A: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    maximize: bool = False
    activities: int | None = None
    """How many leading columns are activities in the economy's units (the rest, the fulfilment, deviations and
    harmony terms, are pure numbers); ``None``: all (see :func:`activity_units`)."""
    large_units: bool = False
    """Whether activities of an economy in large numbers are counted in a larger unit too (harmony's LPs, whose
    deviation columns are pure numbers beside them; see :func:`activity_units`)."""

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def n_cols(self) -> int:
        return int(self.A.shape[1])

    @property
    def n_activities(self) -> int:
        """How many leading columns are activities (:attr:`activities`, all where ``None``)."""
        return self.n_cols if self.activities is None else self.activities

    def add_rows(self, rows: sp.csr_matrix, lower: FloatArray, upper: FloatArray) -> None:
        """Append rows (k x n_cols) with their bounds."""
        if rows.shape[1] != self.n_cols:
            raise ValueError(f"rows have {rows.shape[1]} columns, the LP has {self.n_cols}")
        self.A = sp.csr_matrix(sp.vstack([self.A, rows], format="csr"))
        self.row_lower = np.concatenate([self.row_lower, lower])
        self.row_upper = np.concatenate([self.row_upper, upper])

    def objective(self, x: FloatArray) -> float:
        """The objective in the user's sense (a maximisation's value, not its negation)."""
        value = float(self.cost @ x)
        return -value if self.maximize else value


@dataclass
class LpSolution:
    """What a solver returned, in the minimisation convention of :class:`LinearProgram`.

    ``x`` (n_cols), ``row_dual`` (n_rows) and ``col_dual`` (n_cols) are empty when the status is not optimal
    or stopped with a point. ``iterations`` counts simplex (or first-order) iterations.
    """

    status: str
    x: FloatArray
    row_dual: FloatArray
    col_dual: FloatArray
    iterations: int
    seconds: float
    solver: str
    message: str = ""
    extra: dict[str, float | str] = field(default_factory=dict)
    ranges: PriceRanges | None = None
    """Where known (:meth:`HighsSession.ranges_of`): up to which upper bound of given columns and rows the prices
    hold."""


@dataclass(frozen=True)
class Checks:
    """Verified from the solution: primal violations (absolute, in row units), dual and duality-gap residuals.

    ``dual_residual`` is the largest violation of dual feasibility, measured so that it does not depend on the
    units of the goods (per row) or of the activities (per column): a wrong-signed row dual ``y_i`` counts as
    the objective it moves through the row's flows at ``x``, ``|y_i| (|A| |x|)_i``, relative to ``|c| |x|``; a
    wrong-signed reduced cost of a column (negative without an upper bound, positive without a lower one) counts
    relative to the column's own value flows ``|c_j| + (|A|^T |y|)_j``, priced at least at the reference prices
    ``|c| |x| / (|A| |x|)_i`` (each row's flows worth the objective's): a technique whose goods are all nearly free
    is then judged by what it could move of the objective, not by a share of its own near-zero value, which
    HiGHS's absolute tolerances leave at any share (0.9 of 5e-12 on a generated economy of 300 goods). (An
    absolute measure called a plan 1e-4 short of the optimum optimal when land was counted in hectares instead of
    thousands of hectares.)
    ``duality_gap`` is ``|primal - dual|`` relative to the larger of ``|c| |x|`` and the sum of the magnitudes of the
    dual objective's terms (:func:`dual_size`).

    ``sign_share`` is the largest share of a column's value flows ``|c_j| + (|A|^T |y|)_j`` that wrong-signed row
    multipliers make up, ``(|A|^T w)_j``: how far they move a technique's reduced cost, whatever the plan. It is no
    verdict (a nearly free technique makes it any share of nothing), but the sign of a multiplier that
    ``dual_residual`` cannot see: a good the plan does not make has next to no flows at ``x``, yet a multiplier of
    -8e-8 on its balance, within HiGHS's tolerance, kept a plan of 300 goods 3.2e-5 below the optimum where the
    good's surplus was worth making (:class:`HighsSession` re-solves at its tightest tolerances when it is above
    the tolerance).

    ``primal_residual`` is the largest violation of a row relative to its flows and bounds ``(|A| |x|)_i +
    |bounds_i|``, or of a column bound relative to its bounds, never relative to less than ``row_unit``
    (:data:`ROW_UNIT_SHARE` of one unit of the row, times the plan's largest activity in HiGHS's units where that
    is below 1) or ``col_unit`` (one unit of the column), as HiGHS sees them after
    :func:`~needplan.leontief.equilibrate` (1 near unit scale). A floor of 1 in the user's units instead
    called a plan 10% short of the optimum optimal when electricity was counted in units 10^9 times larger
    (HiGHS's absolute tolerance covered the whole balance). A column beyond a bound also counts by the flows it
    feigns in the rows it enters, ``col_violation_j (|A|^T (1 / max(row size, row unit)))_j`` (``col_flow``): an
    activity of -49.9 against 79.9 of the same product's other technique is 40% of that product's flows, however
    large the column's own unit (with units 10^11 apart HiGHS's tolerance covered it, and the plan claimed a
    fulfilment 18% above the optimum).
    """

    row_violation: FloatArray
    col_violation: FloatArray
    dual_residual: float
    duality_gap: float
    dual_objective: float
    primal_residual: float
    row_unit: FloatArray
    col_unit: FloatArray
    col_flow: FloatArray
    sign_share: float


def as_range(idx: NDArray[np.integer]) -> slice | None:
    """The slice equal to ``idx`` where its entries are consecutive and increasing (the LP's rows come in kinds,
    products and needs are usually ranges), else ``None``: indexing by it gives a view instead of a copy."""
    if idx.size and int(idx[-1]) - int(idx[0]) + 1 == idx.size and bool(np.all(np.diff(idx) == 1)):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return None


def column_entries(A: sp.csr_matrix, rows: np.ndarray, col: int) -> FloatArray:
    """``A[rows, col]`` as a dense vector (one column taken, not a block of rows)."""
    return np.asarray(A[:, col:col + 1].toarray(), dtype=np.float64).ravel()[rows]


def row_flows(lp: LinearProgram, rows: IntArray, x: FloatArray) -> FloatArray:
    """``|A[rows]| |x|``: each of ``rows``' flows at the plan ``x`` (its first ``lp.n_cols`` entries), the size a
    row with a bound of 0 is measured against (a ratio row ``x_a - 0.182 x_b <= 0``)."""
    return abs_matvec(sp.csr_matrix(lp.A[rows]), np.abs(x[:lp.n_cols]))


def abs_entries(A: sp.csr_matrix) -> sp.csr_matrix:
    """``abs(A)`` sharing ``A``'s index arrays (only the values are new: at 10^6 goods that saves 50 MiB)."""
    return sp.csr_matrix((np.abs(A.data), A.indices, A.indptr), shape=A.shape, copy=False)


def check_solution(lp: LinearProgram, x: FloatArray, row_dual: FloatArray) -> Checks:
    """Recompute feasibility and optimality measures of ``(x, row_dual)`` for ``lp``. A measure that overflows
    reads inf and fails (labour weights of 1e307 overflow a plan's total labour: its duality gap is inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _check_solution(lp, x, row_dual)


def _check_solution(lp: LinearProgram, x: FloatArray, row_dual: FloatArray) -> Checks:
    act = lp.A @ x
    row_violation = np.maximum(np.maximum(lp.row_lower - act, act - lp.row_upper), 0.0)
    del act  # (at 10^6 goods each vector here is 8 MB: the check frees them as it goes)
    col_violation = np.maximum(np.maximum(lp.col_lower - x, x - lp.col_upper), 0.0)
    y = row_dual
    # Reduced costs from the matrix itself: an independent check on the solver's duals.
    d = lp.cost - lp.A.T @ y
    has_lo_r, has_hi_r = np.isfinite(lp.row_lower), np.isfinite(lp.row_upper)
    row_wrong = np.where(~has_lo_r, np.maximum(y, 0.0), 0.0) + np.where(~has_hi_r, np.maximum(-y, 0.0), 0.0)
    has_lo_c, has_hi_c = np.isfinite(lp.col_lower), np.isfinite(lp.col_upper)
    col_wrong = np.where(~has_hi_c, np.maximum(-d, 0.0), 0.0) + np.where(~has_lo_c, np.maximum(d, 0.0), 0.0)
    A = sp.csr_matrix(lp.A)  # |A| in products by blocks of rows: no copy of it (100 MiB at 10^6 goods)
    objective_flow = max(float(np.abs(lp.cost) @ np.abs(x)), _TINY)
    # A wrong-signed multiplier presses on a missing bound; it moves the objective through the row's flows and
    # through the finite bound it should be pressing on.
    row_flows = abs_matvec(A, np.abs(x))
    # (Bounds near the largest float sum to inf, which counts only where a multiplier has the wrong sign: fuzzing, a
    # target of 1.7e308; check_solution lets such sums overflow without a warning.)
    row_size = row_flows + np.where(has_lo_r, np.abs(lp.row_lower), 0.0) + np.where(has_hi_r, np.abs(lp.row_upper),
                                                                                     0.0)
    dual_residual = float(np.max(np.where(row_wrong > 0, row_wrong * row_size, 0.0) / objective_flow, initial=0.0))
    # Each column's value flows, its rows priced at least at the reference prices (see Checks).
    worth = np.maximum(np.abs(lp.cost) + abs_rmatvec(A, np.abs(y) + reference_prices(row_size, objective_flow)),
                       _TINY)
    dual_residual = max(dual_residual, float(np.max(col_wrong / worth, initial=0.0)))
    del col_wrong
    # A reduced cost pressing on an upper bound its column lacks lowers the bound the multipliers prove by itself
    # times the activity the column can reach (reach_bound): tiny beside the column's value flows (even below DUST), yet
    # the activity may be huge (two goods each using 0.99999999 of the other: 2x10^8 units each for one unit of
    # net output, where HiGHS's reduced cost of -5e-9 "proved" a fulfilment of 0 optimal against the true 100%).
    # A reduced cost within the rounding of its own sum, (entries + 1) ulps of |c_j| + (|A|'|y|)_j, is no evidence
    # either way: at a fulfilment of 1e-7 (one capacity 10^7 times smaller, 20,000 goods) reduced costs of 0.2 to
    # 0.5 ulps of their columns' value, times the activity the labour allows, made a gap of 1.1e-5 (a helper's sweep).
    value = np.abs(lp.cost) + abs_rmatvec(A, np.abs(y))  # each column's value flows
    ulps = (column_counts(A) + 1.0) * np.finfo(np.float64).eps  # a sum's rounding, per unit of its terms
    rounding = ulps * value
    pressing = np.flatnonzero((d < -rounding) & ~has_hi_c)
    del rounding
    unproven = reach_bound(lp, pressing, -d[pressing]) if pressing.size else 0.0
    del pressing
    valid = None  # the bound the multipliers of the right sign prove, where some have the wrong one
    if np.any(row_wrong > 0):
        # A multiplier of the wrong sign proves nothing: the bound is that of the others, with the reduced costs
        # they leave, each pressing on a bound its column lacks charged its reach. A helper's ray economy (joint
        # product 2416 a unit, labour 6.3e-12 a unit) had -0.021 on a need row whose flows at the plan were 1e-4:
        # within the dual residual, it priced the joint product against the technique that would make the plan
        # 10^7 times larger, and HiGHS's fulfilment of 29.4 read optimal against the optimum of 2.55e8.
        yv = np.where(row_wrong > 0, 0.0, y)
        dv = lp.cost - A.T @ yv
        loose = ulps * (np.abs(lp.cost) + abs_rmatvec(A, np.abs(yv)))
        press = np.flatnonzero((dv < -loose) & ~has_hi_c)
        lacking = bool(np.any((dv > loose) & ~has_lo_c))
        valid = -math.inf if lacking else _priced_bounds(lp, yv, np.where(np.abs(dv) <= loose, 0.0, dv)) - (
            reach_bound(lp, press, -dv[press]) if press.size else 0.0)
        del yv, dv, loose, press
    del ulps
    d[np.abs(d) <= DUST * worth] = 0.0
    del worth
    sign_share = 0.0
    if np.any(row_wrong > 0):
        sign_share = float(np.max(abs_rmatvec(A, row_wrong) / np.maximum(value, _TINY), initial=0.0))
    del row_wrong, value
    dual = _priced_bounds(lp, y, d)
    # The gap relative to the objective's own size: its flows at x, or the dual objective's terms (dual_size). A
    # floor of 1 called a fulfilment of 7.96068e-7 optimal, 3.4e-4 below the optimum (an absolute gap of 6.8e-9;
    # fuzzing: every target far beyond what the labour allows).
    size = max(objective_flow, _priced_bounds(lp, y, d, size=True))
    del d
    primal = float(lp.cost @ x)
    gap = max(abs(primal - dual), abs(primal - (dual - unproven)), 0.0 if valid is None else primal - valid) / size
    r, c = scales_as_passed(lp)  # one unit of each row and column as HiGHS sees it: 1 / r, c
    # The floor is for flows that are noise beside the plan, so it shrinks with a plan that is itself far below one
    # unit as HiGHS sees it: a capacity of 1e-9 beside an hour of labour let B go unmade in a plan that claimed a
    # fulfilment of 1e-9 (the optimum 5e-10), and 1e-6 of a labour kind there is none of was used (a helper's
    # fuzzing), both within a thousandth of a unit of their rows.
    row_unit = ROW_UNIT_SHARE / r * min(1.0, max(largest_activity(lp, x, c), _TINY))
    del r
    col_size = np.where(has_lo_c, np.abs(lp.col_lower), 0.0) + np.where(has_hi_c, np.abs(lp.col_upper), 0.0)
    del row_size
    # A violation against the larger of the row's flows and its bound, not their sum: a need row 0.0448 short by
    # 7e-8 (HiGHS's absolute tolerance; an economy counted in thousands) read 7.9e-7 here and passed, then 1.5e-6
    # in the plan's own balance check, "stopped" (fuzzing).
    bound = np.maximum(np.where(has_lo_r, np.abs(lp.row_lower), 0.0), np.where(has_hi_r, np.abs(lp.row_upper), 0.0))
    # The floor of one unit as HiGHS sees it is for rows of noise-level flows; a row with a bound of its own is
    # measured against that bound (a need of 90 left at 0 read as 6.6e-7 short against a unit of 1.4e8, its row
    # scaled by 2^-37 beside entries of 1e-23 from a product-technology import; fuzzing).
    row_scale = np.maximum(row_flows, np.where(bound > 0, bound, row_unit))
    del row_flows, bound
    col_flow = np.zeros(lp.n_cols)  # untouched pages: no memory where no column is beyond a bound, as usual
    beyond = col_violation > 0
    if beyond.any():
        col_flow[beyond] = col_violation[beyond] * abs_rmatvec(A, 1.0 / row_scale)[beyond]
    primal_residual = max(float(np.max(row_violation / row_scale, initial=0.0)),
                          float(np.max(col_violation / np.maximum(col_size, c), initial=0.0)),
                          float(np.max(col_flow, initial=0.0)))
    # A measure that overflowed to nan proves nothing (and max() and <= would let it pass): it fails.
    dual_residual, gap, primal_residual = (math.inf if math.isnan(v) else v
                                           for v in (dual_residual, gap, primal_residual))
    return Checks(row_violation, col_violation, dual_residual, gap, dual, primal_residual, row_unit, c, col_flow,
                  sign_share)


def largest_activity(lp: LinearProgram, x: FloatArray, col_scale: FloatArray) -> float:
    """The largest activity of ``x`` (in the LP's units) as passed to HiGHS with the column scales ``col_scale``
    (``x = col_scale * x_passed``); 0 for an LP without activities."""
    n_a = lp.n_activities
    return float(np.max(np.abs(x[:n_a]) / col_scale[:n_a], initial=0.0))


def origin_feasible(lp: LinearProgram) -> bool:
    """Whether the point nearest 0 within the column bounds keeps every row (exactly, in floating point): an LP
    with such a point is not infeasible, whatever a solver says (ray and harmony without user rows: nothing
    produced)."""
    x = np.clip(0.0, lp.col_lower, lp.col_upper)
    act = lp.A @ x
    return bool(np.all(np.isfinite(x)) and np.all(act >= lp.row_lower) and np.all(act <= lp.row_upper))


def column_counts(A: sp.csr_matrix, chunk: int = 1 << 21) -> NDArray[np.int64]:
    """The number of entries in each column of ``A``, counted ``chunk`` entries at a time (``np.bincount`` makes a
    64-bit copy of what it counts: 100 MB for the 12.5 million entries of a ray LP of 10^6 goods)."""
    counts = np.zeros(A.shape[1], dtype=np.int64)
    for start in range(0, A.nnz, chunk):
        counts += np.bincount(A.indices[start:start + chunk], minlength=A.shape[1])
    return counts


def reach_bound(lp: LinearProgram, cols: IntArray, weight: FloatArray) -> float:
    """An upper bound on ``sum_j weight_j x_j`` over columns ``cols`` (``weight >= 0``) at every feasible point, from
    the rows whose entries are all >= 0 over columns that are all >= 0 with a finite upper bound ``U_i`` (a labour
    kind's or resource's row): each column is charged to the row that bounds it tightest (``U_i / a_ij``), and the
    columns charged to row ``i`` reach together at most ``U_i`` times their largest ``weight_j / a_ij``, since they
    share it. A column no such row bounds is left out (its caller judges it otherwise). The sum over the columns of
    their own bounds instead called a plan of 10^6 goods, its reduced costs all within 1e-14, 2.3e-4 short."""
    A = sp.csr_matrix(lp.A)
    negative = np.zeros(A.shape[0], dtype=np.int64)
    if A.nnz:  # (reduceat gives an empty row the next row's first entry, and refuses a start at the end)
        negative = np.add.reduceat(A.data < 0, np.minimum(A.indptr[:-1], A.nnz - 1), dtype=np.int64)
        negative[np.diff(A.indptr) == 0] = 0
    below = abs_matvec(A, (lp.col_lower < 0).astype(np.float64)) > 0  # rows reaching a column that can go below 0
    rows = np.flatnonzero((negative == 0) & ~below & np.isfinite(lp.row_upper) & (lp.row_upper >= 0))
    del negative, below
    if not rows.size:
        return 0.0
    sub = A[rows]
    wanted = np.zeros(A.shape[1])
    wanted[cols] = weight
    keep = (wanted[sub.indices] > 0) & (sub.data > 0)
    r = np.repeat(np.arange(rows.size), np.diff(sub.indptr))[keep]
    c, reach = sub.indices[keep], lp.row_upper[rows][r] / sub.data[keep]
    order = np.lexsort((reach, c))  # per column, its tightest row first
    first = order[np.r_[True, c[order][1:] != c[order][:-1]]] if order.size else order
    most = np.zeros(rows.size)
    np.maximum.at(most, r[first], wanted[c[first]] * reach[first])
    return float(most.sum())


def dual_bound(lp: LinearProgram, row_dual: FloatArray, tolerance: float = DUST) -> float:
    """The lower bound on ``lp.cost @ x`` over every feasible ``x`` that the multipliers ``row_dual`` prove (``-inf``
    where they prove none).

    Multipliers of the wrong sign (pressing on a bound their row does not have) are dropped, the reduced costs are
    recomputed from the matrix, and a reduced cost pressing on a bound its column does not have makes the bound
    ``-inf`` unless it is within ``tolerance`` of the column's value flows (``|c| + |A|'|y|``; those count as 0);
    the rest is weak duality. :func:`check_solution`'s ``dual_objective`` prices the same bounds but
    leaves a wrong sign to its ``dual_residual``, which measures it against the plan's flows: at a plan of all
    zeros that is nothing. A conflict search took HiGHS's multipliers of -7.4e-9 and +7.4e-9 on two rows with
    lower bounds only (within its tolerance of 1e-7; the rows' target was 1.35e8) as proof that no target could be
    met at all, and named a target that can be met alone as a conflicting set (fuzzing).
    """
    y = np.asarray(row_dual, dtype=np.float64).copy()
    y[~np.isfinite(lp.row_lower) & (y > 0)] = 0.0
    y[~np.isfinite(lp.row_upper) & (y < 0)] = 0.0
    A = sp.csr_matrix(lp.A)
    d = lp.cost - A.T @ y
    d[np.abs(d) <= tolerance * (np.abs(lp.cost) + abs_rmatvec(A, np.abs(y)))] = 0.0
    if np.any((d > 0) & ~np.isfinite(lp.col_lower)) or np.any((d < 0) & ~np.isfinite(lp.col_upper)):
        return -math.inf
    return _priced_bounds(lp, y, d)


def _priced_bounds(lp: LinearProgram, y: FloatArray, d: FloatArray, size: bool = False) -> float:
    """The dual objective of row multipliers ``y`` and reduced costs ``d``: each prices the finite bound it presses
    on (a multiplier on an infinite one is a dual violation, judged by the caller). With ``size``, the sum of its
    terms' magnitudes instead (:func:`dual_size`)."""
    f = np.abs if size else (lambda v: v)
    return (_dot_finite(f(np.maximum(y, 0.0)), f(lp.row_lower)) + _dot_finite(f(np.minimum(y, 0.0)), f(lp.row_upper))
            + _dot_finite(f(np.maximum(d, 0.0)), f(lp.col_lower))
            + _dot_finite(f(np.minimum(d, 0.0)), f(lp.col_upper)))


def dual_size(lp: LinearProgram, row_dual: FloatArray, col_dual: FloatArray) -> float:
    """The sum of the magnitudes of the dual objective's terms (each multiplier times the bound it presses on): what
    bounds moved by a share ``t`` of themselves can move the optimum by, to first order, at most ``t`` times. An
    optimum that differs from another by less than the tolerance times this is the same within the tolerance,
    however large the difference looks beside the optimum itself."""
    return _priced_bounds(lp, row_dual, col_dual, size=True)


RAY_SLACK = 1e-9
"""How far a direction may stray from a row's or column's bounds, relative to its own flows there, and still prove
the LP unbounded (:func:`ray_proves_unbounded`)."""


def ray_proves_unbounded(lp: LinearProgram, ray: FloatArray,
                         row_name: Callable[[int], str] = lambda i: f"row {i}") -> str:
    """Why ``ray`` does not prove ``lp`` unbounded (``""`` when it does): the cost must fall along it, and no row or
    column may leave a finite bound, each within :data:`RAY_SLACK` of its own flows along the ray. ``row_name``
    words a row's place (the first row left is named with its bound)."""
    size = float(np.max(np.abs(ray), initial=0.0))
    if not (size > 0 and np.isfinite(size)):
        return "it is zero or not finite"
    r = ray / size
    # A column a hair beyond a bound counts at it: its feigned flows may balance a row (-2.1e-14 of a technique
    # cancelled 1.9e-12 hours of another, within the slack, and HiGHS's ray "proved" unbounded a fulfilment whose
    # optimum is 0.139; a helper's fuzzing). Beyond the slack, the column is reported below.
    r = np.where((np.isfinite(lp.col_lower) & (r < 0) & (r >= -RAY_SLACK))
                 | (np.isfinite(lp.col_upper) & (r > 0) & (r <= RAY_SLACK)), 0.0, r)
    fall = float(lp.cost @ r)
    if not fall < -RAY_SLACK * max(float(np.abs(lp.cost) @ np.abs(r)), _TINY):
        return "the objective does not improve along it"
    rows, cols, move = bounds_left(lp, r)
    if rows.any():
        i = int(np.flatnonzero(rows)[0])
        side = f"at most {lp.row_upper[i]:g}" if move[i] > 0 else f"at least {lp.row_lower[i]:g}"
        return f"it leaves the bounds of {int(rows.sum())} rows ({row_name(i)}, {side}, first)"
    if cols.any():
        return f"it leaves the bounds of {int(cols.sum())} columns (column {int(np.flatnonzero(cols)[0])} first)"
    return ""


def bounds_left(lp: LinearProgram, r: FloatArray) -> tuple[NDArray[np.bool_], NDArray[np.bool_], FloatArray]:
    """Along the direction ``r`` (its largest entry of size 1): which rows and which columns leave a finite bound
    by more than :data:`RAY_SLACK` of their own flows, and how each row's activity moves."""
    A = sp.csr_matrix(lp.A)
    move, flows = A @ r, abs_matvec(A, np.abs(r)) * RAY_SLACK
    rows = (np.isfinite(lp.row_lower) & (move < -flows)) | (np.isfinite(lp.row_upper) & (move > flows))
    cols = (np.isfinite(lp.col_lower) & (r < -RAY_SLACK)) | (np.isfinite(lp.col_upper) & (r > RAY_SLACK))
    return rows, cols, move


DIRECTION_ROUNDS = 8
"""How many times :meth:`HighsSession.run` solves the LP of directions (:func:`directions_lp`), each time without
the columns that took the last answer out of a bound, for a ray that proves the LP unbounded."""


def directions_lp(lp: LinearProgram) -> LinearProgram:
    """The LP of ``lp``'s directions of improvement: ``min cost'r`` over the directions ``r`` that keep, from any
    point of ``lp``, each of its finite bounds (a row or column bounded below may not fall along ``r``, one bounded
    above may not rise), each entry of ``r`` within ±1. Its optimum is below 0 where ``lp`` (feasible) is
    unbounded, and then its answer is a ray proving so (:func:`ray_proves_unbounded`); 0 where ``lp`` is bounded.
    Never unbounded itself. (Bounding ``cost'r`` below instead puts the costs in a row, where a harmony LP's, from
    2.9e-39 to 667, are beyond what HiGHS takes.)"""
    def homogeneous(bound: FloatArray, box: float) -> FloatArray:
        return np.where(np.isfinite(bound), 0.0, box)

    return LinearProgram(A=lp.A, row_lower=homogeneous(lp.row_lower, -np.inf),
                         row_upper=homogeneous(lp.row_upper, np.inf), cost=lp.cost.copy(),
                         col_lower=homogeneous(lp.col_lower, -1.0), col_upper=homogeneous(lp.col_upper, 1.0),
                         activities=lp.activities, large_units=lp.large_units)


def reference_prices(row_size: FloatArray, objective_flow: float) -> FloatArray:
    """Per row, the price at which the row's flows ``row_size`` would be worth ``objective_flow`` (0 for a row
    without flows): the floor under a column's value flows in :func:`check_solution` (see :class:`Checks`)."""
    return np.divide(objective_flow, row_size, out=np.zeros_like(row_size), where=row_size > 0)


def _dot_finite(mult: FloatArray, bound: FloatArray) -> float:
    """``mult'bound`` over finite bounds; a multiplier on an infinite bound is a dual violation, counted there."""
    fin = np.isfinite(bound)
    return float(mult[fin] @ bound[fin])


def _passed_matrix(lp: highspy.HighsLp) -> sp.csc_matrix:
    """The matrix of the LP as passed to HiGHS (scaled by the session's row and column scales), as HiGHS holds it."""
    return sp.csc_matrix((np.asarray(lp.a_matrix_.value_, dtype=np.float64), np.asarray(lp.a_matrix_.index_),
                          np.asarray(lp.a_matrix_.start_)), shape=(lp.num_row_, lp.num_col_))


_STATUS_OF = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "unbounded",
    highspy.HighsModelStatus.kModelEmpty: "optimal",
}


class LpScaleError(PlanInputError):
    """HiGHS refused an LP whose entries, even scaled, reach beyond its limit (``large_matrix_value``, 1e15): the
    economy's numbers span more orders of magnitude than a double-precision LP can hold. ``smallest`` and
    ``largest`` are the LP's entries of least and greatest magnitude as ``(row, col, value)``; :meth:`describe`
    words them with the caller's names for rows and columns."""

    def __init__(self, lp: LinearProgram) -> None:
        self.lp = lp
        coo = sp.coo_matrix(lp.A)
        nz = np.flatnonzero(coo.data)
        mags = np.abs(coo.data[nz])
        ends = [int(nz[np.argmin(mags)]), int(nz[np.argmax(mags)])] if nz.size else []
        self.smallest, self.largest = ([(int(coo.row[k]), int(coo.col[k]), float(coo.data[k])) for k in ends]
                                       or [(0, 0, 0.0), (0, 0, 0.0)])
        super().__init__(self.describe(lambda row, col: f"row {row}, column {col}"))

    def describe(self, where: Callable[[int, int], str]) -> str:
        """The message, with ``where(row, col)`` naming an entry's place."""
        (r0, c0, lo), (r1, c1, hi) = self.smallest, self.largest
        span = (f"its coefficients run from {abs(lo):.3g} ({where(r0, c0)}) to {abs(hi):.3g} ({where(r1, c1)})")
        if abs(hi) <= 1e12 * abs(lo):  # not a matter of magnitudes: say what is known, claim no cause
            return f"HiGHS refuses this plan's LP; {span}"
        return (f"HiGHS refuses this plan's LP: {span}, more orders of magnitude than scaling can bring within "
                "HiGHS's limit of 1e15: a target, capacity, availability or amount is far off the others")


SMALL_MATRIX_VALUE = 1e-12
"""Matrix entries HiGHS keeps (its default drops those below 1e-9: real tables have tiny coefficients on huge
activities, 1e-11 of a product per euro of another, which add up to visible balance errors)."""
LAST_RESORT = {"simplex_scale_strategy": 0, "small_matrix_value": 1e-9}
"""HiGHS's options for a run where both its methods failed as set up first: no scaling of its own, and its
default threshold for small entries."""

_FAILED = (highspy.HighsModelStatus.kNotset, highspy.HighsModelStatus.kSolveError,
           highspy.HighsModelStatus.kPostsolveError, highspy.HighsModelStatus.kPresolveError,
           highspy.HighsModelStatus.kUnknown)
"""HiGHS gave up without an answer (its simplex's numerical trouble, not a limit): try its interior point method."""

_banner_shown = False


INTERRUPTIBLE_FROM = 20_000
"""LPs with at least this many matrix entries are solved by HiGHS in a thread of its own (:class:`Interruptible`);
smaller ones, which take milliseconds, directly (a thread costs 1-3 ms a run, 60% of a run at 50 goods)."""


class Interruptible(highspy.Highs):
    """HiGHS whose runs can be stopped by Ctrl-C or a termination signal.

    A run in the calling thread holds Python's main thread inside HiGHS until it ends, so a signal's handler waits
    for it (a helper's audit: ``kill`` left ``needplan plan`` on a structured economy of 20,000 goods running for
    minutes, and Ctrl-C cannot stop a solve in a notebook). From :data:`INTERRUPTIBLE_FROM` entries on, in the main
    thread, HiGHS runs in a thread of its own while the main thread waits, taking signals; an exception there
    (``KeyboardInterrupt``, or the ``SystemExit`` of the command line's termination handler) asks HiGHS to stop at
    its next iteration, waits for it, and is raised again."""

    def run(self) -> highspy.HighsStatus:
        if self.is_solver_running():  # (a run interrupted twice, still stopping: never two runs at once)
            self.wait()
        if self.getNumNz() < INTERRUPTIBLE_FROM or threading.current_thread() is not threading.main_thread():
            self.HandleUserInterrupt = False  # (after an interrupted run: this one is not stopped at once)
            return super().run()
        self.HandleUserInterrupt = True
        self.startSolve()
        try:
            while True:
                done, status = self.wait(0.1)
                if done:  # (no status where the thread's run raised: the callers read the model's status)
                    return highspy.HighsStatus.kError if status is None else status
        except BaseException:
            self.cancelSolve()
            self.wait()
            raise


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance (:class:`Interruptible`). The first one in a process prints a banner on file
    descriptor 1 before any option can be set, which would corrupt ``--json`` output, so that one is built with
    stdout closed."""
    global _banner_shown
    if _banner_shown:
        h = Interruptible()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = Interruptible()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h


def row_scale(A: sp.spmatrix | sp.sparray) -> FloatArray:
    """Per row, 1, or a power of 2 that brings the row's entries (the geometric mean of its largest and smallest)
    near 1 when they are beyond ``2^±SCALE_BEYOND`` (a labour row in hours per thousand tonnes, say).

    Entries that far from 1 are beyond what HiGHS's own scaling evens out, and its absolute tolerances then stop
    meaning what they say; rows nearer 1 are left as the user wrote them.
    """
    return power2_factor(geometric_spread(sp.csr_matrix(A)), SCALE_BEYOND)


def bound_scale(lower: FloatArray, upper: FloatArray) -> FloatArray:
    """Per row, 1, or the power of 2 that brings the row's largest finite bound down to at most ``LARGEST_BOUND``,
    or a nonzero one up toward ``SMALLEST_BOUND`` (by at most ``2^SCALE_BEYOND``: a harmony need row with a target of
    1e-20, scaled up all the way, put its entries beyond HiGHS's limits). (Passed so, a labour row of 2.1e-10 made
    HiGHS's presolve call a ray LP infeasible, which :meth:`HighsSession.run` does not believe of an LP that
    producing nothing keeps; kept to requirements alone, seven of the helper's 603 generated economies, solved right
    with availabilities scaled too, ended "stopped".)

    HiGHS's feasibility tolerance is absolute (1e-7); a row's activity of 1e10 (labour in hours a year) is
    rounded by more than that, so its presolve calls a plan that is feasible to 1e-15 relative infeasible, or
    its simplex fails. A bound of 1e-10 is within that tolerance of 0: min-labour's plan made none of a good with
    that target (beside another of 10; a helper's fuzzing); 2^10 times larger, it is caught at HiGHS's tightest
    tolerance. Rows between the two are left as they are.
    """
    size = np.maximum(np.where(np.isfinite(lower), np.abs(lower), 0.0), np.where(np.isfinite(upper), np.abs(upper),
                                                                                  0.0))
    over = np.ceil(np.log2(np.maximum(size, LARGEST_BOUND) / LARGEST_BOUND))
    under = np.minimum(np.ceil(np.log2(SMALLEST_BOUND / np.where(size > 0, np.minimum(size, SMALLEST_BOUND),
                                                                 SMALLEST_BOUND))), SCALE_BEYOND)
    return np.asarray(np.exp2(under - over), dtype=np.float64)


def activity_units(lp: LinearProgram) -> tuple[FloatArray, FloatArray] | None:
    """Row and column factors ``(P, Q)`` that count the activities in a unit near the median of the finite nonzero
    bounds that concern them (rows with an activity entry, the activities' capacities), when that median or the
    median of the rows' bounds alone is below ``2^-SCALE_BEYOND`` (the unit near the first that is), or
    (``lp.large_units``) when both are above ``2^LARGE_ACTIVITIES`` (the unit near the rows' median): ``Q`` is that
    power of 2 on the activity columns (1 on the rest), ``P`` its inverse on those rows (1 on the rest), so that
    ``P A Q`` keeps the activities' entries. ``None`` otherwise (the usual case).

    Scaling rows and columns by their entries cannot see an economy whose every quantity is small (targets,
    availabilities and capacities all 10^9 times smaller, the amounts per unit as they were): its activities of
    1e-8 were within HiGHS's absolute tolerance and the verification's floor, and "optimal" plans came back up to
    5% above the optimum (metamorphic fuzzing). Nor one whose every quantity is large: 10^9 and 10^12 times larger,
    harmony's LPs, whose deviations are pure numbers beside them, were called unbounded or failed their check
    (9 of 234 cases, all harmony). Pure-number columns (harmony's deviations) keep their scale.
    """
    n_a = lp.n_activities
    on = np.zeros(lp.n_cols)
    on[:n_a] = 1.0
    touch = abs_matvec(sp.csr_matrix(lp.A), on) > 0

    def sized(bound: FloatArray) -> FloatArray:  # finite nonzero ones only (few at 10^6 goods)
        some = np.isfinite(bound) & (bound != 0)
        return np.abs(bound[some])

    rows = np.concatenate([sized(lp.row_lower[touch]), sized(lp.row_upper[touch])])
    sizes = np.concatenate([rows, sized(lp.col_upper[:n_a])])
    if not sizes.size:
        return None
    k = _log2_median(sizes)
    if k > LARGE_ACTIVITIES and lp.large_units:
        # Large by the rows' bounds alone (targets, availabilities): capacities of 1e15 to 1e300 written for
        # "unlimited" are not the activities' size.
        k = _log2_median(rows) if rows.size else 0
        if k <= LARGE_ACTIVITIES:
            return None
    elif k >= -SCALE_BEYOND:
        # Large numbers outside harmony stay as they are: ray and min-labour were right there, and an economy with
        # numbers from 1e-5 to 6e16 (tests/data/highs_zero_ray) went wrong with its activities counted in 2^40.
        # Small ones by the rows' bounds alone count too: min-labour's targets 10^9 times smaller, beside
        # availabilities and capacities as they were, left the needs 0.1% to 3% short of them (fuzzing).
        k = _log2_median(rows) if rows.size else 0
        if k >= -SCALE_BEYOND:
            return None
    unit = 2.0**k
    return np.where(touch, 1.0 / unit, 1.0), np.where(on > 0, unit, 1.0)


def _exponent(k: int) -> int:
    """``k`` within the exponents of double precision (fuzzing: weights of 5e-324, targets of 1.7e308, whose scales
    2^1074 and 2^1024 overflowed)."""
    return min(max(k, -1000), 1000)


def _log2_median(sizes: FloatArray) -> int:
    """The power of 2 nearest the median of ``sizes`` (positive, finite), within the exponents of double precision;
    of their halves, doubled, where the mean of two middle values near the largest float overflows (fuzzing: every
    availability at 1.7e308)."""
    with np.errstate(over="ignore"):
        middle = float(np.median(sizes))
    k = round(math.log2(middle)) if np.isfinite(middle) else round(math.log2(float(np.median(sizes * 0.5)))) + 1
    return _exponent(k)


def scales_as_passed(lp: LinearProgram) -> tuple[FloatArray, FloatArray]:
    """The row and column scales HiGHS's session passes ``lp.A`` with (before each row's bound scale): those of
    :func:`needplan.leontief.equilibrate` on ``P A Q`` (:func:`activity_units`), times ``P`` and ``Q``."""
    return scales_in_units(lp, activity_units(lp))


def scales_in_units(lp: LinearProgram, units: tuple[FloatArray, FloatArray] | None) -> tuple[FloatArray, FloatArray]:
    """:func:`scales_as_passed` with the activity units ``units`` (:func:`activity_units` of ``lp``) given."""
    # A row's scale is that of its activities' entries (the goods' units), not of the fulfilment's or deviations'
    # (the targets: a target of 1e-9 beside flows of 1 put its need row at 2^15, its multiplier below HiGHS's
    # tolerance as HiGHS saw it, and HiGHS stopped 3e-4 short; fuzzing).
    row_by = None if lp.activities is None else np.arange(lp.n_cols) < lp.activities
    if units is None:
        return equilibrate(lp.A, SCALE_ROUNDS, beyond=SCALE_BEYOND, row_by=row_by)
    P, Q = units
    r, c = equilibrate(sp.diags(P) @ lp.A @ sp.diags(Q), SCALE_ROUNDS, beyond=SCALE_BEYOND, row_by=row_by)
    return r * P, c * Q


class HighsSession:
    """One HiGHS instance holding an LP; rows added to the LP later are passed on with :meth:`sync`.

    ``tolerance`` sets HiGHS's primal and dual feasibility tolerances (at most 1e-7, HiGHS's default);
    ``time_limit`` is in seconds (``None``: none); an LP of ``ipm_from_rows`` rows or more has its first run by
    the interior point method (:meth:`first_run_by_interior_point`). With ``verify`` (the default) an optimal
    answer that fails :func:`check_solution` within ``tolerance`` is re-solved (see :meth:`run`); without it,
    HiGHS's answer is returned as it is, for a caller that judges its evidence itself. Without ``persist``, a run
    that HiGHS fails ("Unknown", "Solve error") ends ``stopped`` there, without the interior point method and the
    last-resort settings (:data:`LAST_RESORT`) tried after it, for a caller with an easier LP to turn to.
    """

    def __init__(self, lp: LinearProgram, *, tolerance: float = 1e-6, time_limit: float | None = None,
                 ipm_from_rows: int | None = None, verify: bool = True, persist: bool = True) -> None:
        self.lp = lp
        self.verify = verify
        self.persist = persist
        self.highs = new_highs()
        h = self.highs
        self.set_tolerance(tolerance)
        h.setOptionValue("small_matrix_value", SMALL_MATRIX_VALUE)
        h.setOptionValue("ipm_iteration_limit", IPM_ITERATION_LIMIT)
        self.limit_time(time_limit)
        model = highspy.HighsLp()
        # Rows and columns far from unit scale are passed divided by powers of 2 (exact in floating point; see
        # row_scale), alternating a few rounds: x = col_scale * x_passed, so column bounds are divided and costs
        # multiplied by it; a row's activity and bounds are multiplied by row_scale. An economy in small numbers
        # has its activities counted in a larger unit first (activity_units).
        self.units = activity_units(lp)
        self.row_scale, self.col_scale = scales_in_units(lp, self.units)
        self.row_scale = self.row_scale * bound_scale(lp.row_lower * self.row_scale, lp.row_upper * self.row_scale)
        scaled = sp.csr_matrix(lp.A @ sp.diags(self.col_scale))
        csc = sp.csc_matrix(sp.diags(self.row_scale) @ scaled)
        csc.sort_indices()
        model.num_col_ = lp.n_cols
        model.num_row_ = lp.n_rows
        # The costs too, by one power of 2 bringing the largest to about 1: HiGHS's dual tolerance is absolute, and
        # a ray column scaled down with targets of 10^13 had a cost of 1e-13, below it (fuzzing: "optimal" 4.5%
        # short). The duals come back per unit of cost (_solution).
        cost = lp.cost * self.col_scale
        top = float(np.max(np.abs(cost), initial=0.0))
        self.cost_scale = 2.0 ** _exponent(-round(math.log2(top))) if top > 0 and np.isfinite(top) else 1.0
        self.first_cost_scale = self.cost_scale
        self.plan_unit = 1.0  # how many times larger than first passed every bound is now (_resolve_in_plan_units)
        model.col_cost_ = np.asarray(cost * self.cost_scale, dtype=np.float64)
        model.col_lower_ = np.asarray(lp.col_lower / self.col_scale, dtype=np.float64)
        model.col_upper_ = np.asarray(lp.col_upper / self.col_scale, dtype=np.float64)
        model.row_lower_ = np.asarray(lp.row_lower * self.row_scale, dtype=np.float64)
        model.row_upper_ = np.asarray(lp.row_upper * self.row_scale, dtype=np.float64)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.num_col_ = lp.n_cols
        model.a_matrix_.num_row_ = lp.n_rows
        model.a_matrix_.start_ = csc.indptr.astype(np.int32)
        model.a_matrix_.index_ = csc.indices.astype(np.int32)
        model.a_matrix_.value_ = csc.data.astype(np.float64)
        if h.passModel(model) == highspy.HighsStatus.kError:
            raise LpScaleError(lp)
        self.answer_dual = np.zeros(0)  # the row duals of the answer read last (price_ranges asks for its answer's)
        self.refined = False  # whether the last run's answer has its prices refined from HiGHS's basis
        self.interior_point = ""  # why runs use HiGHS's interior point method (its simplex failed, or asked for)
        self.first_by_ipm = False  # only the next run does (first_run_by_interior_point)
        self.beyond_tightest = False  # whether re-solves failed to verify a tolerance below HiGHS's tightest
        self.last_run_by_ipm = False  # whether the interior point method answered the last run
        if ipm_from_rows is not None and lp.n_rows >= ipm_from_rows:
            self.first_run_by_interior_point(f"chosen from {ipm_from_rows:,} rows on")
        self.n_rows_passed = lp.n_rows
        self.row_name: Callable[[int], str] = lambda i: f"row {i}"  # a row's place in messages (a model's names)
        self.col_lower = lp.col_lower.copy()
        self.col_upper = lp.col_upper.copy()
        self.row_lower = lp.row_lower.copy()
        self.row_upper = lp.row_upper.copy()

    def units_changed(self) -> bool:
        """Whether the LP's bounds, edited since this session was built, now count its activities in another unit
        (:func:`activity_units`) than the one this session passes them in."""
        now = activity_units(self.lp)
        if now is None or self.units is None:
            return now is not self.units
        return not all(np.array_equal(a, b) for a, b in zip(now, self.units, strict=True))

    def sync(self) -> None:
        """Pass rows appended to the LP since the last call, and any changed bounds, without rebuilding."""
        lp, h = self.lp, self.highs
        if lp.n_rows > self.n_rows_passed:
            added = sp.csr_matrix(lp.A[self.n_rows_passed:] @ sp.diags(self.col_scale))
            lower, upper = lp.row_lower[self.n_rows_passed:], lp.row_upper[self.n_rows_passed:]
            scale = row_scale(added)
            scale *= bound_scale(lower * scale, upper * scale)
            new = sp.csr_matrix(sp.diags(scale) @ added)
            new.sort_indices()
            if h.addRows(new.shape[0], lower * scale, upper * scale, new.nnz, new.indptr[:-1].astype(np.int32),
                         new.indices.astype(np.int32), new.data.astype(np.float64)) == highspy.HighsStatus.kError:
                raise LpScaleError(lp)
            self.row_scale = np.concatenate([self.row_scale, scale])
            self.row_lower = np.concatenate([self.row_lower, lp.row_lower[self.n_rows_passed:]])
            self.row_upper = np.concatenate([self.row_upper, lp.row_upper[self.n_rows_passed:]])
            self.n_rows_passed = lp.n_rows
        changed = np.flatnonzero((self.row_lower != lp.row_lower) | (self.row_upper != lp.row_upper))
        if changed.size:
            h.changeRowsBounds(  # type: ignore[attr-defined]
                changed.size, changed.astype(np.int32), lp.row_lower[changed] * self.row_scale[changed],
                lp.row_upper[changed] * self.row_scale[changed])
            self.row_lower, self.row_upper = lp.row_lower.copy(), lp.row_upper.copy()
        changed = np.flatnonzero((self.col_lower != lp.col_lower) | (self.col_upper != lp.col_upper))
        if changed.size:
            h.changeColsBounds(changed.size, changed.astype(np.int32), lp.col_lower[changed] / self.col_scale[changed],
                               lp.col_upper[changed] / self.col_scale[changed])
            self.col_lower, self.col_upper = lp.col_lower.copy(), lp.col_upper.copy()

    def set_tolerance(self, tolerance: float) -> None:
        """Answers from now on are checked to ``tolerance``, HiGHS's feasibility tolerances set from it."""
        self.tolerance = tolerance
        self._feasibility(float(min(1e-7, max(tolerance, TIGHTEST_HIGHS_TOLERANCE))))

    def limit_time(self, seconds: float | None) -> None:
        """The runs from now on stop after ``seconds`` of HiGHS's run time in all (``None``: no limit): the runs of
        one solve share it, retries included, until the next call.

        HiGHS (before its 2.0) compares ``time_limit`` with the run time of all runs of its instance together, so
        the limit is set that far beyond the time its runs have taken so far. Set as given, a model re-solved after
        an edit with ``time_limit=2`` ended every solve after the first "stopped" after 0 pivots, and a conflict
        search's checks were left unchecked long before its own limit.
        """
        limit = np.inf if seconds is None else self.highs.getRunTime() + seconds
        self.highs.setOptionValue("time_limit", float(limit))

    def run(self, *, cold: bool = False) -> LpSolution:
        """Solve (warm-started from the previous basis where there is one, unless ``cold``) and read the solution
        back."""
        self.sync()
        h = self.highs
        start = time.perf_counter()
        if cold:
            h.clearSolver()
        warm = h.getInfo().basis_validity == 1 and not self.first_by_ipm
        h.run()
        ms = h.getModelStatus()
        by_ipm, dropped = self.interior_point, ""
        if ms in _FAILED and warm and not self.interior_point:
            # Seen in a conflict search's 300 warm runs (1,500 goods): one failed ("Unknown") from the last basis
            # and passed from nothing. Once more from nothing before this session leaves its simplex for good.
            h.clearSolver()
            h.run()
            ms = h.getModelStatus()
        if self.first_by_ipm:
            # The interior point method took this first run; the runs after it start from its crossover's basis.
            self.first_by_ipm = False
            self.use_simplex()
            if ms in _FAILED:  # it failed: the simplex takes the LP, as it takes any other first
                by_ipm = ""
                h.run()
                ms = h.getModelStatus()
        if ms in _FAILED and not self.interior_point and self.persist:
            # Seen on infeasible generated economies of 3,000 goods: the dual simplex ends in "Not Set" or "Solve
            # error" (infeasibilities of 1e17 after raising its Markowitz threshold) where the interior point
            # method proves infeasibility in a second. It keeps failing on the same LP with bounds changed, so
            # this session's later runs go straight to the interior point method.
            self.use_interior_point("its simplex failed")
            by_ipm = self.interior_point
            h.run()
            ms = h.getModelStatus()
        if ms in _FAILED and self.persist:
            # Seen on small LPs from fuzzing (an infeasible min-labour LP of 100 goods with entries down to 3e-9,
            # "Unknown"; a harmony LP of 300 goods, an error before its first pivot): both methods fail as set up
            # here, and HiGHS's simplex without its own scaling (the rows and columns come equilibrated by powers
            # of 2 already) and with its own threshold for small entries answers. The rounds after this one keep
            # that setting; any plan is still verified against the whole LP.
            for option, value in LAST_RESORT.items():
                h.setOptionValue(option, value)
            self.use_simplex()
            h.clearSolver()  # from nothing: the failed runs' state does not help
            by_ipm = ""
            dropped = (f" (by HiGHS's simplex unscaled, entries below {LAST_RESORT['small_matrix_value']:g} dropped: "
                       "as set up first, its simplex and interior point method failed)")
            h.run()
            ms = h.getModelStatus()
            if ms in _FAILED:
                # HiGHS 1.16's presolve reduced a harmony LP to nothing (every technique idle: a capacity of 0 on
                # an input of all of them, 500 goods, fuzzing), and its postsolved point missed the dual objective
                # by 0.9%, "Unknown" by every method and option; without presolve its simplex solves it. The
                # rounds after this one keep that setting too.
                h.setOptionValue("presolve", "off")
                h.clearSolver()
                dropped = dropped.replace("dropped:", "dropped, without its presolve:")
                h.run()
                ms = h.getModelStatus()
        iterations = 0
        for retry in (False, True):
            status = _STATUS_OF.get(ms, "stopped")
            if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
                # Presolve may not tell the two apart; a solve without presolve does.
                with self.without_presolve():
                    h.run()
                ms = h.getModelStatus()
                status = _STATUS_OF.get(ms, "stopped")
                if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
                    status = "infeasible" if not h.getInfo().primal_solution_status else "unbounded"
            info = h.getInfo()
            iterations += int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
            # HiGHS's word is checked like its plans: its ray must keep every bound and improve the objective
            # (fuzzing: a harmony LP with a target of 1e-20 of its good's flows, called unbounded, is bounded).
            unproven = self._unproven_ray() if status == "unbounded" and self.verify else ""
            if not (unproven and warm) or retry:
                break
            # A warm run's ray that proves nothing: once more from nothing (fuzzing: four solves of one unchanged
            # model with a user row answered unbounded, stopped, stopped, unbounded).
            h.clearSolver()
            h.run()
            ms = h.getModelStatus()
        if status == "infeasible" and self.verify and origin_feasible(self.lp):
            # Producing nothing keeps every row, so HiGHS's "infeasible" is wrong (a generated ray LP whose labour of
            # 2.1e-10 is passed 2^10 times larger: its presolve said infeasible; a helper's fuzzing). Once more from
            # nothing without its presolve; an answer that still says so is no answer.
            h.clearSolver()
            with self.without_presolve():
                h.run()
            ms = h.getModelStatus()
            info = h.getInfo()
            iterations += int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
            status = _STATUS_OF.get(ms, "stopped")
            if status == "infeasible":
                status = "stopped"
            dropped += (" (re-solved from nothing without HiGHS's presolve: it called the LP infeasible, which "
                        "producing nothing is not)")
        ray_note = ""
        if unproven:
            # HiGHS's ray may carry dust on techniques whose inputs nothing along it makes (1.3e-8 of its largest
            # entry on a generated economy of 200 goods with its labour unlimited: a balance left by 2.2e-9 against
            # flows of 2.2e-9). The LP of directions has a basic answer without it.
            other = self._unproven_directions()
            if other:
                ray_note = f", which its ray does not prove ({unproven}), nor the LP of directions ({other})"
                status = "stopped"
            else:
                ray_note = f" (its own ray did not prove it: {unproven}; a ray from the LP of directions does)"
                unproven = ""
        seconds = time.perf_counter() - start
        self.last_run_by_ipm = bool(by_ipm)
        message = (h.modelStatusToString(ms) + (f" (by HiGHS's interior point method: {by_ipm})" if by_ipm else dropped)
                   + ray_note)
        # A point counts only when HiGHS calls it feasible: a simplex stopped by a limit has one that is not (dual
        # simplex is primal infeasible until the end), and a plan that breaks its balances is no "best plan found".
        has_point = (info.primal_solution_status == FEASIBLE if status == "stopped"
                     else bool(info.primal_solution_status))
        broken = unverified = False
        if status in ("optimal", "stopped") and has_point:
            self.refined = False
            if status == "optimal" and self.verify:
                x, y, d, checks = self._answer()
            else:
                (x, y, d), checks = self._solution(), None
            if checks is not None and self._passes(checks) and checks.sign_share > self.tolerance and self.tighten():
                # Verified, but a multiplier of the wrong sign (within HiGHS's tolerance) moves some technique's
                # reduced cost by more than the tolerance (Checks.sign_share): once, resume tighter and take that
                # answer where it is verified. On a generated structured economy of 300 goods this found a plan
                # 3.2e-5 better in 1 pivot (one of 200 goods: 2.7e-6).
                h.run()
                if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                    *tight, tight_checks = self._answer()
                    if self._passes(tight_checks):
                        x, y, d = tight
                        message += " (re-solved with HiGHS's tightest tolerances: a multiplier of the wrong sign)"
                info = h.getInfo()
                iterations += int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
                seconds = time.perf_counter() - start
            elif checks is not None and not self._passes(checks) and self.beyond_tightest:
                # Once re-solves have failed to verify a tolerance below HiGHS's tightest, they fail again: Kelley's
                # rounds at 1e-12 on a uniform economy of 300 goods re-solved from nothing in every round after the
                # 13th, 2.4-3.6 s each against 0.1 s, and none passed (rows kept to 3e-10 to 9e-10).
                message += (f" (the answer failed verification at a tolerance below {TIGHTEST_HIGHS_TOLERANCE:g}, "
                            "HiGHS's tightest, as an earlier one did after every re-solve; not re-solved)")
                broken = checks.primal_residual > BROKEN_RESIDUAL
                unverified = True
            elif checks is not None and not self._passes(checks):
                # HiGHS's tolerances are absolute; in the units of a real table (hours of labour, hectares) its
                # "optimal" can be off by more than our relative tolerance. Resume from its basis, tighter (by the
                # simplex: the interior point method would start again from nothing). Where they are tight already,
                # or that answer fails too, solve again from nothing: a warm start after added rows was seen to
                # leave row activities 2e-5 away from its own matrix times its own plan (Kelley's second round on
                # 300 goods), which a fresh factorisation does not.
                again = "re-solved with HiGHS's tightest tolerances"
                raised = self._resolve_costs_raised(checks)
                if raised > 1:
                    again += f" and its costs 2^{round(math.log2(raised))} times larger"
                elif not self.tighten() or not self._resolve(cold=False):
                    again = "re-solved from scratch"
                    if not self._resolve(cold=True):
                        # HiGHS 1.16's presolve, on a ring of 30 capacitated products with no labour (fuzzing),
                        # gave back a plan 3.5e-4 short of a need's row while reporting no infeasibility, from any
                        # start; without presolve the same simplex is exact.
                        again = "re-solved from scratch without HiGHS's presolve"
                        if not self._resolve(cold=True, presolve=False):
                            # HiGHS's tolerances hold in its own scaling: a balance row holding a technique's
                            # output of 1 beside inputs of 1e-10 it scaled by 2^-18, so that a product used 5.8e-8
                            # beyond what was made (twice its output) read 2e-13 infeasible to it, from any start
                            # and at any tolerance (generated, material shares of 1e-9). Without its scaling (the
                            # session's equilibration stays) its simplex keeps that row to 1.8e-9.
                            again = "re-solved from scratch without HiGHS's own scaling"
                            if not self._resolve(cold=True, scaled=False):
                                again = self._resolve_in_plan_units(x) or again
                seconds = time.perf_counter() - start
                info = h.getInfo()
                iterations += int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
                final = checks  # the first answer's, where it stands
                if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                    x, y, d, final = self._answer()
                    message += f" ({again}: the first answer failed verification)"
                elif (h.getModelStatus() == highspy.HighsModelStatus.kInfeasible
                      and checks.primal_residual > self.tolerance):
                    # The first answer broke its rows and HiGHS from nothing finds no plan: infeasible, for the
                    # caller to confirm as any other (fuzzing: a warm re-solve after a user row was added said
                    # "optimal" 0.0033 off a row; read back as "stopped" with bottlenecks, where a fresh model and
                    # scipy's HiGHS said infeasible).
                    status, message = "infeasible", (f"{h.modelStatusToString(h.getModelStatus())} ({again}: a "
                                                     f"first answer {message} broke its rows by "
                                                     f"{checks.primal_residual:.2g})")
                    x = y = d = np.zeros(0)
                else:  # the first answer stands, for the caller's verification to judge
                    message += (f" (the first answer failed verification; {again}, HiGHS answered "
                                f"{h.modelStatusToString(h.getModelStatus())})")
                broken = status != "infeasible" and final.primal_residual > BROKEN_RESIDUAL
                unverified = status != "infeasible" and not self._passes(final)
                self.beyond_tightest = unverified and self.tolerance < TIGHTEST_HIGHS_TOLERANCE
            if self.refined:
                message += " (its prices refined from its basis)"
        else:
            x = y = d = np.zeros(0)
        extra: dict[str, float | str] = {"unproven_unbounded": 1.0} if unproven else {}
        if broken:  # (an "optimal" answer that breaks its rows even after the re-solves: Kelley keeps its last round)
            extra["broken"] = 1.0
        if unverified:  # (still "optimal", for a caller that verifies plans itself; any other must not take it)
            extra["unverified"] = 1.0
        return LpSolution(status, x, y, d, iterations, seconds, "highs", message, extra)

    def _resolve(self, *, cold: bool, presolve: bool = True, scaled: bool = True) -> bool:
        """Run HiGHS's simplex again, from the last basis or (``cold``) from nothing, with or without its presolve
        and its own scaling; whether the answer is optimal and passes verification."""
        h = self.highs
        if cold:
            h.clearSolver()
        with (self.simplex_once(), self.without_presolve() if not presolve else nullcontext(),
              self.without_scaling() if not scaled else nullcontext()):
            h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal and self._passes(self._answer()[3])

    def _resolve_in_plan_units(self, x: FloatArray) -> str:
        """For a plan ``x`` (in the LP's units) that failed verification after every other re-solve: where its
        largest activity as passed is below ``SMALLEST_BOUND`` (or this session passes its bounds larger already and
        the plan is far from 1), pass every bound that power of 2 nearer 1 times larger, so that the plan is about
        one unit as HiGHS sees it, and re-solve from nothing. How the re-solve went, for the message, where it
        answered optimal and passes verification (the bounds stay so for the later runs); ``""`` otherwise, with
        the bounds back as they were and HiGHS's answer as before this call.

        HiGHS's feasibility tolerance is absolute, and a plan far below it keeps no row: an economy whose lab_a
        allows 8.5e-8 hours (fulfilment 6.2e-6, its activities down to 1e-7 of a unit as passed) came back with a
        need row 61% short from every re-solve, and "stopped"; with every bound 2^23 times larger, HiGHS's plan
        is the exact optimum to 1e-16. Of a helper's 3,906 fuzzing runs, 106 of the 135 that ended "stopped"
        where an optimum exists end so at the optimum (to 2e-12 of it)."""
        size = largest_activity(self.lp, x, self.col_scale)
        if not (0.0 < size < math.inf) or (size >= SMALLEST_BOUND and self.plan_unit == 1.0):
            return ""
        # (never below the bounds as first passed: a large plan is no failure of this kind)
        k = _exponent(max(round(-math.log2(size)), -round(math.log2(self.plan_unit))))
        if k == 0:
            return ""
        self._pass_bounds_larger(2.0**k)
        if self._resolve(cold=True):
            return f"re-solved from scratch with every bound passed 2^{k} times larger"
        self._pass_bounds_larger(2.0**-k)
        self._resolve(cold=True, scaled=False)
        return ""

    def _pass_bounds_larger(self, factor: float) -> None:
        """Pass every bound to HiGHS ``factor`` (a power of 2) times larger: the activities are counted in a unit
        that many times smaller (the column scales divided by it), the rows and costs in one that many times larger
        (their scales multiplied by it), so that the matrix and costs as passed stay as they are, and so do the
        duals read back."""
        self.col_scale = self.col_scale / factor
        self.row_scale = self.row_scale * factor
        self.cost_scale *= factor
        self.first_cost_scale *= factor
        self.plan_unit *= factor
        n, m = self.lp.n_cols, self.n_rows_passed
        with np.errstate(over="ignore"):  # bounds written large for "unlimited" may pass as infinite
            self.highs.changeColsBounds(n, np.arange(n, dtype=np.int32), self.col_lower / self.col_scale,
                                        self.col_upper / self.col_scale)
            self.highs.changeRowsBounds(  # type: ignore[attr-defined]
                m, np.arange(m, dtype=np.int32), self.row_lower * self.row_scale, self.row_upper * self.row_scale)

    def _resolve_costs_raised(self, checks: Checks) -> float:
        """For an answer that keeps its rows and bounds but whose prices fail the check (``checks``: its dual
        residual or duality gap above the tolerance), resume from its basis by HiGHS's simplex at its tightest
        tolerances with the costs ``2^COST_MARGIN`` times that failure over the tolerance larger, at most
        ``COST_ROUNDS`` times while the answers fail that way and the costs stay within ``2^MOST_COST_SCALE`` of
        those passed first. The factor the costs were raised by, which they keep for this session's later runs,
        where an answer is optimal and verified; 1 (the costs put back) where none is.

        HiGHS's dual tolerance is absolute, and the prices of an economy's goods may span many powers of 10
        beneath its costs. On ``generate_economy(2000, family="structured", seed=1)``, limited by capacities
        alone, most goods were priced near 1e-10 against a fulfilment's cost of 1: techniques whose net output
        was worth 25% more than their inputs at those prices (reduced costs of -9e-11) were left idle as
        "optimal", which proves nothing where labour would let them run 6x10^5 units; every re-solve at HiGHS's
        tightest tolerances ended the same way, so the plan came back ``stopped``. With the costs 2^6 to 2^19
        times larger, the same basis took 800 to 1,700 more pivots to a plan 1.25e-8 better with a duality gap of
        1e-10 to 5e-8; at 2^17 one answer broke a balance by 6e-9 where its flows were 0 (within HiGHS's
        tolerance, 6e-6 of the row's unit), hence a margin of 2 over the failure, not more."""
        h, first = self.highs, self.cost_scale
        for _ in range(COST_ROUNDS):
            fail = max(checks.dual_residual, checks.duality_gap)
            room = MOST_COST_SCALE - math.log2(self.cost_scale / self.first_cost_scale)
            if checks.primal_residual > self.tolerance or not fail > self.tolerance or room < 1:
                break
            self.tighten()
            over = math.ceil(math.log2(min(fail / self.tolerance, 2.0**MOST_COST_SCALE))) + COST_MARGIN
            self._set_costs(self.cost_scale * 2.0 ** min(over, math.floor(room)))
            with self.simplex_once():
                h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            checks = self._answer()[3]
            if self._passes(checks):
                return self.cost_scale / first
        if self.cost_scale != first:
            self._set_costs(first)
        return 1.0

    def _set_costs(self, scale: float) -> None:
        """Pass the LP's costs to HiGHS multiplied by ``scale`` (and the column scales); :meth:`_solution`
        divides the duals by it."""
        self.cost_scale = scale
        cost = self.lp.cost * self.col_scale * scale
        self.highs.changeColsCost(self.lp.n_cols, np.arange(self.lp.n_cols, dtype=np.int32),
                                  np.asarray(cost, dtype=np.float64))

    def limit_reached(self) -> bool:
        """Whether HiGHS's last run ended at its time or iteration limit (rather than in failure)."""
        return self.highs.getModelStatus() in (highspy.HighsModelStatus.kTimeLimit,
                                               highspy.HighsModelStatus.kIterationLimit)

    def _unproven_ray(self) -> str:
        """Why the ray of HiGHS's last run does not prove the LP unbounded (``""`` when it does)."""
        _, has_ray, values = self.highs.getPrimalRay()  # type: ignore[attr-defined]
        if not has_ray:
            return "HiGHS gave no ray"
        return ray_proves_unbounded(self.lp, np.asarray(values, dtype=np.float64) * self.col_scale, self.row_name)

    def _unproven_directions(self) -> str:
        """Why no answer of :func:`directions_lp`, solved within the time left, proves the LP unbounded (``""``
        when one does). A basic answer may keep dust of 1e-10 on a technique whose input nothing else along it
        makes (a balance left by all of its flows there, 3e-11); the columns that take a row or column out of its
        bounds are held at 0 and it is solved again, at most :data:`DIRECTION_ROUNDS` times."""
        left = float(self.highs.getOptionValue("time_limit")[1]) - self.highs.getRunTime()
        if not left > 0:
            return "no time was left to solve it"
        directions = directions_lp(self.lp)
        session = HighsSession(directions, tolerance=TIGHTEST_HIGHS_TOLERANCE,
                               time_limit=None if np.isinf(left) else left)
        held = np.zeros(self.lp.n_cols, dtype=bool)
        why = ""
        for _ in range(DIRECTION_ROUNDS):
            found = session.run()
            if found.status != "optimal":
                return f"it ended {found.status}"
            if not np.any(found.x):
                return "its optimum is 0" + (f" with the {int(held.sum())} columns its answers took out of a bound "
                                             "held at 0" if held.any() else ": no direction improves the objective")
            why = ray_proves_unbounded(self.lp, found.x, self.row_name)
            if not why or "leaves the bounds" not in why:
                return why
            r = found.x / np.max(np.abs(found.x))
            rows, cols, move = bounds_left(self.lp, r)
            # (the columns moving a row out the way it left: held at 0, with those leaving their own bounds)
            push = sp.csr_matrix(sp.diags(np.sign(move[rows])) @ sp.csr_matrix(self.lp.A)[rows] @ sp.diags(r))
            held |= cols
            held[push.indices[push.data > 0]] = True
            directions.col_lower[held] = directions.col_upper[held] = 0.0
        return why

    def use_interior_point(self, why: str) -> None:
        """Run HiGHS's interior point method (with crossover, so a basic solution) from now on; ``why`` goes into
        the solution's message."""
        self.interior_point = why
        self.highs.setOptionValue("solver", "ipm")

    def use_simplex(self) -> None:
        """Back to HiGHS's own choice (its simplex, warm-started from the last basis) for the runs from now on."""
        self.interior_point = ""
        self.highs.setOptionValue("solver", "choose")

    def first_run_by_interior_point(self, why: str) -> None:
        """The next run by HiGHS's interior point method (with crossover), the runs after it by its simplex, warm
        from the crossover's basis: for a large LP solved from nothing (its dual simplex pivots through dense
        factors of the Leontief structure) that is re-solved after small changes. Where the interior point method
        fails, the simplex takes that run."""
        self.use_interior_point(why)
        self.first_by_ipm = True

    def ranges_of(self, sol: LpSolution) -> PriceRanges:
        """:meth:`price_ranges` for ``sol`` (a function holding its duals, not ``sol`` itself: no reference cycle
        through the solution)."""
        optimal, row_dual = sol.status == "optimal", sol.row_dual
        return lambda rows, cols: self.price_ranges(row_dual, rows, cols) if optimal else None

    def price_ranges(self, row_dual: FloatArray, rows: IntArray,
                     cols: IntArray) -> tuple[FloatArray, FloatArray] | None:
        """How far the upper bound of each of ``cols`` and ``rows`` (LP columns and rows) can rise with the prices
        of HiGHS's last optimal answer unchanged, in the LP's own units: ``(columns, rows)`` over the whole LP,
        ``inf`` where no limit comes (a bound that does not bind), ``nan`` where not asked. A binding limit whose
        range ends at itself has a degenerate price: one more unit of it gains at most that price. ``None`` when
        that answer is not the one with ``row_dual`` (the session has solved again since) or has no basis.

        The range of the optimal basis, as HiGHS's ranging gives it, for the limits asked only: one solve with
        HiGHS's factors of the basis per binding limit (the direction in which the basic variables move as the
        bound rises), then a ratio test against their bounds. HiGHS's own ranging of every row and column cost
        0.8 s beside a 1.8 s solve at 3,000 structured goods; this costs 0.03 s for its 72 binding limits."""
        h = self.highs
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        if not np.array_equal(self.answer_dual, row_dual):  # an earlier answer of this session
            return None
        basis = h.getBasis()
        if not basis.valid:
            return None
        if self.last_run_by_ipm:
            # HiGHS's interior point method (its crossover) leaves a basis but no factors of it, and asking for the
            # basic variables then crashed the process (fuzzing: uniform economies of 500 to 8,000 goods). Its
            # simplex from that basis factorises it; an optimal basis takes no pivot.
            with self.simplex_once():
                h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or h.getInfo().simplex_iteration_count:
                return None
            self.last_run_by_ipm = False
        col_to, row_to = np.full(self.lp.n_cols, np.nan), np.full(self.lp.n_rows, np.nan)
        col_to[cols], row_to[rows] = np.inf, np.inf
        upper = int(highspy.HighsBasisStatus.kUpper)
        col_up = np.fromiter((int(s) == upper for s in basis.col_status), dtype=bool, count=self.lp.n_cols)
        row_up = np.fromiter((int(s) == upper for s in basis.row_status), dtype=bool, count=self.lp.n_rows)
        lp = h.getLp()
        cu, ru = np.asarray(lp.col_upper_, dtype=np.float64), np.asarray(lp.row_upper_, dtype=np.float64)
        cols = np.asarray(cols)[col_up[cols] & np.isfinite(cu[cols])]
        rows = np.asarray(rows)[row_up[rows] & np.isfinite(ru[rows])]
        if not (cols.size or rows.size):
            return col_to, row_to
        # The basic variables, their values and bounds as HiGHS sees them. HiGHS's basis matrix has the column of
        # a basic structural and a unit column for a basic row (whose variable is minus the row's activity).
        basic = np.asarray(h.getBasicVariables()[1], dtype=np.int64)  # type: ignore[attr-defined]
        is_row = basic < 0
        index = np.where(is_row, -basic - 1, basic)
        solution = h.getSolution()
        value, lower, upper_b = (np.empty(basic.size) for _ in range(3))
        for out, col_side, row_side in ((value, solution.col_value, solution.row_value),
                                        (lower, lp.col_lower_, lp.row_lower_), (upper_b, cu, ru)):
            out[~is_row] = np.asarray(col_side, dtype=np.float64)[index[~is_row]]
            out[is_row] = np.asarray(row_side, dtype=np.float64)[index[is_row]]

        def room(rhs: FloatArray) -> float:
            """How far the bound can rise while the basic variables, moving by ``B^-1 rhs`` per unit, stay within
            their bounds."""
            move = np.asarray(h.getBasisSolve(rhs)[1], dtype=np.float64)  # type: ignore[attr-defined]
            move[is_row] = -move[is_row]
            least = RANGING_PIVOT * float(np.max(np.abs(move), initial=0.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                steps = np.where(move > least, (upper_b - value) / move,
                                 np.where(move < -least, (lower - value) / move, np.inf))
            return max(float(np.min(steps, initial=np.inf)), 0.0)

        unit = np.zeros(lp.num_row_)
        for i in rows:
            unit[i] = 1.0
            row_to[i] = ru[i] + room(unit)
            unit[i] = 0.0
        if cols.size:  # the matrix as HiGHS holds it (scaled), for the columns of the capacities asked
            a_start, a_index, a_value = (np.asarray(a) for a in (lp.a_matrix_.start_, lp.a_matrix_.index_,
                                                                 lp.a_matrix_.value_))
        for j in cols:  # the column's activity rises with its bound: the basic variables move by -B^-1 a_j
            column = np.zeros(lp.num_row_)
            column[a_index[a_start[j]:a_start[j + 1]]] = -a_value[a_start[j]:a_start[j + 1]]
            col_to[j] = cu[j] + room(column)
        return col_to * self.col_scale, row_to / self.row_scale

    def _solution(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """HiGHS's last answer ``(x, y, d)`` in the LP's units (the duals of the rows and columns as passed, per unit
        of the LP's own rows and columns and of its costs)."""
        sol = self.highs.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64) * self.col_scale
        # The duals of the rows as passed price one passed unit; per unit of the LP's own row, times the scale.
        y = (np.asarray(sol.row_dual, dtype=np.float64) * (self.row_scale / self.cost_scale) if sol.dual_valid
             else np.zeros(self.lp.n_rows))
        d = (np.asarray(sol.col_dual, dtype=np.float64) / (self.col_scale * self.cost_scale) if sol.dual_valid
             else np.zeros(self.lp.n_cols))
        self.answer_dual = y
        return x, y, d

    def _answer(self) -> tuple[FloatArray, FloatArray, FloatArray, Checks]:
        """HiGHS's last answer ``(x, y, d)`` in the LP's units and its check; where that fails on the prices alone,
        the prices refined from HiGHS's basis (:meth:`_refined_duals`) in their place if they pass."""
        x, y, d = self._solution()
        checks = check_solution(self.lp, x, y)
        if checks.primal_residual > self.tolerance:
            plan = self._refined_primal()
            if plan is not None:
                again = check_solution(self.lp, plan, y)
                if again.primal_residual < checks.primal_residual:
                    x, checks = plan, again
        if not self._passes(checks) and checks.primal_residual <= self.tolerance:
            refined = self._refined_duals()
            if refined is not None:
                again = check_solution(self.lp, x, refined[0])
                if self._passes(again):
                    (y, d), checks = refined, again
                    self.answer_dual, self.refined = y, True
        return x, y, d, checks

    def _refined_primal(self) -> FloatArray | None:
        """The plan of HiGHS's last basis, in the LP's units, solved from the basis again by iterative refinement:
        the nonbasic columns at their bounds, and each round solves ``B z = -r`` with HiGHS's factors for the
        residual ``r`` of the nonbasic rows from their bounds (0 on the basic rows, whose activities follow),
        computed from the matrix as passed; ``None`` where that basis has no factors.

        Kelley's cuts for harmony make near-parallel rows, and HiGHS's plan of their basis, even at its tightest
        tolerances and from nothing, left a product used 3.4e-6 beyond what was made (5.4e-8 of its flows; uniform
        300 goods, seed 7, tolerance 1e-9), where fast's plan was verified (fuzzing)."""
        h = self.highs
        if self.last_run_by_ipm or h.getInfo().basis_validity != 1:
            return None
        lp, basis = h.getLp(), h.getBasis()
        A = _passed_matrix(lp)
        x = np.asarray(h.getSolution().col_value, dtype=np.float64).copy()
        lower, upper = int(highspy.HighsBasisStatus.kLower), int(highspy.HighsBasisStatus.kUpper)
        col_status = np.array([int(v) for v in basis.col_status])
        row_status = np.array([int(v) for v in basis.row_status])
        x = np.where(col_status == lower, np.asarray(lp.col_lower_), x)
        x = np.where(col_status == upper, np.asarray(lp.col_upper_), x)
        bound = np.where(row_status == lower, np.asarray(lp.row_lower_), np.asarray(lp.row_upper_))
        held = (row_status == lower) | (row_status == upper)
        basic = np.asarray(h.getBasicVariables()[1], dtype=np.int64)  # type: ignore[attr-defined]
        cols = basic >= 0
        for _ in range(REFINE_ROUNDS):
            rhs = np.where(held, bound - A @ x, 0.0)
            top = float(np.max(np.abs(rhs), initial=0.0))
            if not top > 0:
                break
            z = np.asarray(h.getBasisSolve(rhs / top)[1], dtype=np.float64) * top  # type: ignore[attr-defined]
            x[basic[cols]] += z[cols]
        return x * self.col_scale

    def _refined_duals(self) -> tuple[FloatArray, FloatArray] | None:
        """The row duals and reduced costs of HiGHS's last basis, in the LP's units, solved from the basis again by
        iterative refinement: each round solves ``B' z = r`` with HiGHS's factors for the residual ``r = c_B - B'
        y`` (``y`` 0 on the basic rows), computed from the matrix as passed; ``None`` where that basis has no
        factors (an interior point method's crossover leaves none).

        HiGHS's duals solve its basis to about 1e-12 of their size, and a reduced cost that far below 0 on a
        column with no upper bound counts times the activity the labour would allow (:func:`reach_bound`). With
        one good's unit 10^6 times smaller in a generated economy of 500 goods, its price 10^6 times larger, and
        a fulfilment of 1e-6, HiGHS's basic columns kept reduced costs of -1e-14 (1e-10 of their value flows),
        which opened a duality gap of 0.004 at an optimal plan. Two rounds brought the residual from 7e-13 to
        2e-16 and the gap to 2e-9. (The residual goes to HiGHS divided by its largest entry: HiGHS drops entries
        below 1e-14 of a right-hand side, and the first correction came back 0.)"""
        h = self.highs
        if self.last_run_by_ipm or h.getInfo().basis_validity != 1:
            return None
        lp = h.getLp()
        A = _passed_matrix(lp)
        cost = np.asarray(lp.col_cost_, dtype=np.float64)
        basic = np.asarray(h.getBasicVariables()[1], dtype=np.int64)  # type: ignore[attr-defined]
        cols = basic[basic >= 0]
        y = np.asarray(h.getSolution().row_dual, dtype=np.float64).copy()
        y[-basic[basic < 0] - 1] = 0.0
        rhs = np.zeros(basic.size)
        for _ in range(REFINE_ROUNDS):
            rhs[basic >= 0] = cost[cols] - A[:, cols].T @ y
            top = float(np.max(np.abs(rhs), initial=0.0))
            if not top > 0:
                break
            y += np.asarray(h.getBasisTransposeSolve(rhs / top)[1], dtype=np.float64) * top  # type: ignore[attr-defined]
        d = cost - A.T @ y
        d[cols] = 0.0
        return y * (self.row_scale / self.cost_scale), d / (self.col_scale * self.cost_scale)

    def _passes(self, checks: Checks) -> bool:
        """Whether residuals, dual residual and duality gap are all within the tolerance."""
        return max(checks.dual_residual, checks.primal_residual, checks.duality_gap) <= self.tolerance

    def tighten(self) -> bool:
        """Set HiGHS's feasibility tolerances to their smallest (1e-10); false when they already are."""
        if self.feasibility_tolerance <= TIGHTEST_HIGHS_TOLERANCE:
            return False
        self._feasibility(TIGHTEST_HIGHS_TOLERANCE)
        return True

    def run_tightest(self) -> LpSolution:
        """One run from this session's basis at HiGHS's tightest tolerances; the later runs keep the tolerances
        they had (at the tightest, HiGHS was seen to fail later runs of a conflict search)."""
        before = self.feasibility_tolerance
        self.tighten()
        try:
            return self.run()
        finally:
            self._feasibility(before)

    def run_costs_raised(self, factor: float) -> LpSolution:
        """One run from this session's basis at HiGHS's tightest tolerances with the costs ``factor`` times larger,
        so that its absolute dual tolerance is smaller beside the prices (which come back in the costs' own units);
        the later runs have the costs and tolerances as before."""
        first = self.cost_scale
        self._set_costs(first * factor)
        try:
            return self.run_tightest()
        finally:
            self._set_costs(first)

    def run_exact(self) -> LpSolution:
        """One run from nothing at HiGHS's tightest tolerances and without its presolve, for an answer the engine's
        own check refused; the later runs keep the session's settings."""
        before = self.feasibility_tolerance
        self.tighten()
        try:
            with self.without_presolve():
                return self.run(cold=True)
        finally:
            self._feasibility(before)

    @contextmanager
    def _option(self, name: str, inside: str | int) -> Iterator[None]:
        """HiGHS's option ``name`` set to ``inside`` for the runs inside the block, back to its value before once it
        ends."""
        before = self.highs.getOptionValue(name)[1]
        self.highs.setOptionValue(name, inside)
        try:
            yield
        finally:
            self.highs.setOptionValue(name, before)

    def without_presolve(self) -> AbstractContextManager[None]:
        """HiGHS's runs inside the block without its presolve."""
        return self._option("presolve", "off")

    def without_scaling(self) -> AbstractContextManager[None]:
        """HiGHS's runs inside the block without its own scaling of rows and columns (the session's equilibration
        stays)."""
        return self._option("simplex_scale_strategy", 0)

    def simplex_once(self) -> AbstractContextManager[None]:
        """HiGHS's runs inside the block by its simplex."""
        return self._option("solver", "simplex")

    def _feasibility(self, tolerance: float) -> None:
        self.feasibility_tolerance = tolerance
        self.highs.setOptionValue("primal_feasibility_tolerance", tolerance)
        self.highs.setOptionValue("dual_feasibility_tolerance", tolerance)
