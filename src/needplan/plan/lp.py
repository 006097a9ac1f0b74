"""A linear program in structured form, its HiGHS session, and the checks of a solution against it.

The LP is always held as a minimisation ``min c'x  s.t.  row_lower <= A x <= row_upper, col_lower <= x <=
col_upper`` (a maximisation stores ``-c`` and remembers ``maximize``), so that dual signs follow one convention:
a row dual ``y_i >= 0`` on a row held at its lower bound, ``<= 0`` at its upper bound, and reduced costs
``d = c - A'y``. Checks (primal violations, dual feasibility, the duality gap) are recomputed here from the
matrices, never taken from the solver's own report. This module knows nothing about economies.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

STATUS = ("optimal", "infeasible", "unbounded", "stopped")


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

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def n_cols(self) -> int:
        return int(self.A.shape[1])

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


@dataclass(frozen=True)
class Checks:
    """Verified from the solution: primal violations (absolute, in row units), dual and duality-gap residuals.

    ``dual_residual`` is the largest violation of dual feasibility (wrong-signed row duals, negative reduced
    costs of columns without an upper bound, nonzero reduced costs of free columns), relative to
    ``max(1, |cost|_inf)``; ``duality_gap`` is ``|primal - dual| / max(1, |primal|)``.
    """

    row_violation: FloatArray
    col_violation: FloatArray
    dual_residual: float
    duality_gap: float
    dual_objective: float


def check_solution(lp: LinearProgram, x: FloatArray, row_dual: FloatArray) -> Checks:
    """Recompute feasibility and optimality measures of ``(x, row_dual)`` for ``lp``."""
    act = lp.A @ x
    row_violation = np.maximum(np.maximum(lp.row_lower - act, act - lp.row_upper), 0.0)
    col_violation = np.maximum(np.maximum(lp.col_lower - x, x - lp.col_upper), 0.0)
    y = row_dual
    # Reduced costs from the matrix itself: an independent check on the solver's duals.
    d = lp.cost - lp.A.T @ y
    has_lo_r, has_hi_r = np.isfinite(lp.row_lower), np.isfinite(lp.row_upper)
    viol = np.zeros(0)
    viol = np.concatenate([viol, np.where(~has_lo_r, np.maximum(y, 0.0), 0.0),
                           np.where(~has_hi_r, np.maximum(-y, 0.0), 0.0)])
    has_lo_c, has_hi_c = np.isfinite(lp.col_lower), np.isfinite(lp.col_upper)
    viol = np.concatenate([viol, np.where(~has_hi_c, np.maximum(-d, 0.0), 0.0),
                           np.where(~has_lo_c, np.maximum(d, 0.0), 0.0)])
    scale = max(1.0, float(np.max(np.abs(lp.cost), initial=0.0)))
    dual_residual = float(np.max(viol, initial=0.0)) / scale
    # Dual objective: each multiplier prices the bound it presses on.
    y_lo, y_hi = np.maximum(y, 0.0), np.minimum(y, 0.0)
    d_lo, d_hi = np.maximum(d, 0.0), np.minimum(d, 0.0)
    dual = (_dot_finite(y_lo, lp.row_lower) + _dot_finite(y_hi, lp.row_upper)
            + _dot_finite(d_lo, lp.col_lower) + _dot_finite(d_hi, lp.col_upper))
    primal = float(lp.cost @ x)
    gap = abs(primal - dual) / max(1.0, abs(primal))
    return Checks(row_violation, col_violation, dual_residual, gap, dual)


def _dot_finite(mult: FloatArray, bound: FloatArray) -> float:
    """``mult'bound`` over finite bounds; a multiplier on an infinite bound is a dual violation, counted there."""
    fin = np.isfinite(bound)
    return float(mult[fin] @ bound[fin])


_STATUS_OF = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "unbounded",
    highspy.HighsModelStatus.kModelEmpty: "optimal",
}


_banner_shown = False


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance. The first one in a process prints a banner on file descriptor 1 before any
    option can be set, which would corrupt ``--json`` output, so that one is built with stdout closed."""
    global _banner_shown
    if _banner_shown:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h


class HighsSession:
    """One HiGHS instance holding an LP; rows added to the LP later are passed on with :meth:`sync`.

    ``tolerance`` sets HiGHS's primal and dual feasibility tolerances (at most 1e-7, HiGHS's default);
    ``time_limit`` is in seconds (``None``: none).
    """

    def __init__(self, lp: LinearProgram, *, tolerance: float = 1e-6, time_limit: float | None = None) -> None:
        self.lp = lp
        self.highs = new_highs()
        h = self.highs
        feas = float(min(1e-7, max(tolerance, 1e-10)))
        h.setOptionValue("primal_feasibility_tolerance", feas)
        h.setOptionValue("dual_feasibility_tolerance", feas)
        # HiGHS drops matrix entries below 1e-9 by default; real tables have tiny coefficients on huge
        # activities (1e-11 of a product per euro of another), which add up to visible balance errors.
        h.setOptionValue("small_matrix_value", 1e-12)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        model = highspy.HighsLp()
        csc = sp.csc_matrix(lp.A)
        csc.sort_indices()
        model.num_col_ = lp.n_cols
        model.num_row_ = lp.n_rows
        model.col_cost_ = np.asarray(lp.cost, dtype=np.float64)
        model.col_lower_ = np.asarray(lp.col_lower, dtype=np.float64)
        model.col_upper_ = np.asarray(lp.col_upper, dtype=np.float64)
        model.row_lower_ = np.asarray(lp.row_lower, dtype=np.float64)
        model.row_upper_ = np.asarray(lp.row_upper, dtype=np.float64)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.num_col_ = lp.n_cols
        model.a_matrix_.num_row_ = lp.n_rows
        model.a_matrix_.start_ = csc.indptr.astype(np.int32)
        model.a_matrix_.index_ = csc.indices.astype(np.int32)
        model.a_matrix_.value_ = csc.data.astype(np.float64)
        h.passModel(model)
        self.n_rows_passed = lp.n_rows
        self.col_lower = lp.col_lower.copy()
        self.col_upper = lp.col_upper.copy()
        self.row_lower = lp.row_lower.copy()
        self.row_upper = lp.row_upper.copy()

    def sync(self) -> None:
        """Pass rows appended to the LP since the last call, and any changed bounds, without rebuilding."""
        lp, h = self.lp, self.highs
        if lp.n_rows > self.n_rows_passed:
            new = lp.A[self.n_rows_passed:]
            new.sort_indices()
            h.addRows(new.shape[0], lp.row_lower[self.n_rows_passed:], lp.row_upper[self.n_rows_passed:],
                      new.nnz, new.indptr[:-1].astype(np.int32), new.indices.astype(np.int32),
                      new.data.astype(np.float64))
            self.row_lower = np.concatenate([self.row_lower, lp.row_lower[self.n_rows_passed:]])
            self.row_upper = np.concatenate([self.row_upper, lp.row_upper[self.n_rows_passed:]])
            self.n_rows_passed = lp.n_rows
        changed = np.flatnonzero((self.row_lower != lp.row_lower) | (self.row_upper != lp.row_upper))
        if changed.size:
            h.changeRowsBounds(  # type: ignore[attr-defined]
                changed.size, changed.astype(np.int32), lp.row_lower[changed], lp.row_upper[changed])
            self.row_lower, self.row_upper = lp.row_lower.copy(), lp.row_upper.copy()
        changed = np.flatnonzero((self.col_lower != lp.col_lower) | (self.col_upper != lp.col_upper))
        if changed.size:
            h.changeColsBounds(changed.size, changed.astype(np.int32), lp.col_lower[changed], lp.col_upper[changed])
            self.col_lower, self.col_upper = lp.col_lower.copy(), lp.col_upper.copy()

    def run(self) -> LpSolution:
        """Solve (warm-started from the previous basis where there is one) and read the solution back."""
        self.sync()
        h = self.highs
        start = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - start
        ms = h.getModelStatus()
        status = _STATUS_OF.get(ms, "stopped")
        if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            # Presolve may not tell the two apart; a solve without presolve does.
            h.setOptionValue("presolve", "off")
            h.run()
            h.setOptionValue("presolve", "choose")
            ms = h.getModelStatus()
            status = _STATUS_OF.get(ms, "stopped")
            if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
                status = "infeasible" if not h.getInfo().primal_solution_status else "unbounded"
        info = h.getInfo()
        iterations = int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
        message = h.modelStatusToString(ms)
        if status in ("optimal", "stopped") and info.primal_solution_status:
            sol = h.getSolution()
            x = np.asarray(sol.col_value, dtype=np.float64)
            y = np.asarray(sol.row_dual, dtype=np.float64) if sol.dual_valid else np.zeros(self.lp.n_rows)
            d = np.asarray(sol.col_dual, dtype=np.float64) if sol.dual_valid else np.zeros(self.lp.n_cols)
        else:
            x = y = d = np.zeros(0)
        return LpSolution(status, x, y, d, iterations, seconds, "highs", message)
