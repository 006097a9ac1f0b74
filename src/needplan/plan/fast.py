"""The fast plan solver: the ray (Kantorovich) LP by column generation over technique choices.

The LP is ``max lam`` s.t. ``net @ x >= lam * target``, ``primary @ x <= available``, ``0 <= x <= capacity``.
Its feasible plans at ``lam = 1`` form the polyhedron ``Q = {x >= 0 : net x >= target}``, whose vertices in a
Leontief substitution system (one main product per technique) are the *pure plans*: one technique per product,
``v_c = B_c^{-1} target`` with ``B_c`` the square block of the chosen techniques. Every plan is ``lam`` times a
mixture of pure plans, so the LP is a Dantzig-Wolfe master over them, with rows only for the primaries and the
capacities (added lazily, when a mixture violates them):

* the master (``lam = sum w_c``, a handful of columns) is a small LP solved by HiGHS;
* its duals price primaries (``pi``) and capacities (``mu``); the cheapest pure plan at those prices is found by
  Leontief substitution (policy iteration: solve ``B_c^T p = cost_c``, switch every product whose alternative is
  cheaper at ``p``, repeat), which is the nonsubstitution theorem made into an algorithm;
* each square solve is a Jacobi/Neumann iteration on the sparse ``net`` (one sparse product per step, no
  factorisation, so no fill-in), or a sparse LU for small systems.

With one technique per good this is one forward and one transposed Leontief solve: ``lam* = min(available_r /
(primary x1)_r, capacity_j / x1_j)``, the closed form of the nonsubstitution theorem. In general the pricing
step gives a dual bound, so the iteration stops at a certified gap.

Whatever the path, the answer is verified on the original LP (:func:`certify`): primal residuals, dual
residuals and the duality gap are recomputed from ``x`` and the duals; "optimal" is returned only when all three
are within ``tol``. Problems outside the structure (a product nothing makes as its main output, a square block
that is not productive, prices that turn negative under joint production) go to HiGHS on the full LP, and the
result says so in ``method``. This module builds no model from an economy and reads no files.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from scipy.optimize import linprog

from needplan.leontief import JacobiDeflation, RowBlocks, abs_matvec, abs_rmatvec, equilibrate
from needplan.plan.lp import (
    IPM_FROM_ROWS,
    ROW_UNIT_SHARE,
    SCALE_BEYOND,
    SCALE_ROUNDS,
    HighsSession,
    LinearProgram,
    LpSolution,
    reference_prices,
)
from needplan.plan.lp import abs_entries as _abs

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Status = Literal["optimal", "infeasible", "unbounded", "stopped"]

DEFLATE = True
"""Whether the square blocks' Jacobi solves take the Perron root out of their error
(:class:`needplan.leontief.PerronDeflation`) when the block has a clear one."""

FLOOR_ABOVE = 1e-12
"""A balance short by more than this share of its flows is judged against ``ROW_UNIT_SHARE`` of one unit of its row
at least (:func:`primal_residual`); the solvers pass their tolerance instead, above which the floor can change a
verdict."""

DIRECT_BELOW = 300
"""Square blocks with fewer products are factorised (sparse LU) instead of iterated."""
_TINY = 1e-300
MASTER_FEASIBILITY = 1e-10
"""HiGHS's primal feasibility tolerance on a column generation's master LP, whose rows are scaled to about 1
(:func:`master_lp`): a share of each row's size."""


@dataclass(frozen=True)
class FastResult:
    """The answer of the fast solver, with the evidence for its status.

    ``x`` is the activity per technique (units of activity per period); ``row_duals`` the price of each net row
    (normalised so that ``target @ row_duals == 1``), ``primary_duals`` of each primary (0 where unlimited),
    ``capacity_duals`` of each technique's capacity (0 where unlimited or slack); all duals are >= 0 and in units
    of ``lam`` per unit of the constraint. ``primal_residual`` is the largest relative violation of the balances,
    primaries and capacities by ``x``; ``dual_residual`` the largest relative violation of dual feasibility
    (``row_duals @ net_j <= primary_duals @ primary_j + capacity_duals_j`` for every technique ``j``); ``gap``
    the relative gap between ``lam`` and the dual objective. All three are recomputed from the returned arrays.
    For "unbounded", ``x`` is a ray (a plan of net output ``>= target`` that uses no limited primary or
    capacity) and ``lam`` is ``inf``; for "infeasible" and when nothing could be computed, ``lam`` is ``nan``
    and ``message`` says why.
    """

    status: Status
    lam: float
    x: FloatArray
    row_duals: FloatArray
    primary_duals: FloatArray
    capacity_duals: FloatArray
    iterations: int
    seconds: float
    primal_residual: float
    dual_residual: float
    gap: float
    method: str
    message: str = ""
    details: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Problem:
    """A ray or pricing problem over the caller's ``net``, which is shared and never copied.

    ``rows`` (optional) selects the rows of ``net`` that this problem has, in that order (the others are
    coupling rows left to a master); ``disposal`` appends one column ``-e_g`` per row (free disposal of a jointly
    made product). Both are applied in the products :meth:`mul` and :meth:`tmul`, so that neither the row subset
    nor the extended matrix nor a transpose is ever held: ``net.T`` is a CSC view of the same arrays.
    """

    net: sp.csr_matrix
    primary: sp.csr_matrix
    available: FloatArray
    capacity: FloatArray
    target: FloatArray
    rows: IntArray | None = None
    disposal: bool = False

    @cached_property
    def net_t(self) -> sp.csc_matrix:
        """``net.T``, a CSC view of the same arrays (built once: scipy makes a new object per ``.T``)."""
        return self.net.T

    @cached_property
    def blocks(self) -> RowBlocks:
        """``net`` for products ``net @ x`` on two threads (views of its arrays)."""
        return RowBlocks(self.net)

    @property
    def shape(self) -> tuple[int, int]:
        m_net, n_net = self.net.shape
        m = int(m_net) if self.rows is None else int(self.rows.size)
        return m, int(n_net) + (m if self.disposal else 0)

    def mul(self, x: FloatArray) -> FloatArray:
        """``net @ x`` over this problem's rows and columns."""
        n_net = self.net.shape[1]
        y = self.blocks.dot(x[:n_net] if self.disposal else x)
        if self.rows is not None:
            y = y[self.rows]
        if self.disposal:
            y -= x[n_net:]
        return y

    def tmul(self, p: FloatArray) -> FloatArray:
        """``net.T @ p`` (one entry per technique) for prices ``p`` of this problem's rows."""
        if self.rows is not None:
            full = np.zeros(self.net.shape[0])
            full[self.rows] = p
        else:
            full = p
        y = np.asarray(self.net_t @ full)
        return np.concatenate([y, -p]) if self.disposal else y

    def flows(self, v: FloatArray, transposed: bool) -> FloatArray:
        """``|net| @ |v|`` (or ``|net|.T @ |v|``) over this problem's rows and columns: the gross flows that a
        product's (or a technique's) residual is measured against (no copy of ``|net|``)."""
        n_net = self.net.shape[1]
        if transposed:
            full = np.zeros(self.net.shape[0])
            full[slice(None) if self.rows is None else self.rows] = np.abs(v)
            y = abs_rmatvec(self.net, full)
            return np.concatenate([y, np.abs(v)]) if self.disposal else y
        y = abs_matvec(self.net, np.abs(v[:n_net] if self.disposal else v))
        y = y if self.rows is None else y[self.rows]
        return y + np.abs(v[n_net:]) if self.disposal else y

    def entries(self, rows: IntArray, cols: IntArray) -> FloatArray:
        """``net[rows[k], cols[k]]`` for each ``k`` (caller's columns only)."""
        actual = rows if self.rows is None else self.rows[rows]
        return np.asarray(self.net[actual, cols], dtype=np.float64).ravel()

    def explicit(self) -> sp.csr_matrix:
        """This problem's matrix, built (for small problems only: the square blocks that are factorised)."""
        N = self.net if self.rows is None else self.net[self.rows]
        if self.disposal:
            m = self.shape[0]
            N = sp.hstack([N, -sp.identity(m, format="csr")], format="csr")
        return sp.csr_matrix(N)


class _OutsideStructure(Exception):
    """The fast path does not apply; the message says why (HiGHS takes over)."""


def master_lp(c: FloatArray, **lp: Any) -> Any:
    """scipy's HiGHS on a column generation's master LP (``c`` and ``lp`` as :func:`scipy.optimize.linprog` takes
    them, activities at least 0); outside the structure where its numbers overflow floating point (fuzzing: a target
    of 1.7e308 made the master's columns infinite, and linprog raised ``ValueError``)."""
    if not all(np.isfinite(v).all() for v in (c, *lp.values()) if isinstance(v, np.ndarray)):
        raise _OutsideStructure("the master LP's numbers overflow floating point")
    A_ub, b_ub = lp.pop("A_ub", None), lp.pop("b_ub", None)
    if A_ub is None:
        return linprog(c, bounds=(0, None), method="highs", **lp)
    # Each inequality row divided by a power of two near its own size (its bound or largest entry), and its price
    # multiplied back: a capacity counted in activities 10^12 larger is a row of 1e-12s, which HiGHS's threshold
    # for small entries (1e-9) read as zeros, and in activities 10^12 smaller a row of 1e12s, a "model error".
    size = np.maximum(np.abs(b_ub), np.max(np.abs(A_ub), axis=1, initial=0.0))
    scale = np.exp2(-np.round(np.log2(np.where(size > 0, size, 1.0))))
    # Scaled, HiGHS's feasibility tolerance is relative to each row: held at 1e-10, so that a mixture using 1e-9
    # more hours than there are is infeasible here as it was unscaled, and phase 1 decides it (``observed_year``).
    res = linprog(c, A_ub=A_ub * scale[:, None], b_ub=b_ub * scale, bounds=(0, None), method="highs",
                  options={"primal_feasibility_tolerance": MASTER_FEASIBILITY}, **lp)
    if res.status == 0:
        res.ineqlin.marginals = res.ineqlin.marginals * scale
    return res


class _Budget(Exception):
    """The time budget ran out."""


# --- verification ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Certificate:
    """Residuals of a primal-dual pair on the original ray LP (see :func:`certify`)."""

    primal_residual: float
    dual_residual: float
    gap: float
    dual_objective: float

    def within(self, tol: float) -> bool:
        """Whether all three residuals are at most ``tol`` (the condition for calling an answer optimal)."""
        return self.primal_residual <= tol and self.dual_residual <= tol and self.gap <= tol

    def settle(self, status: Status, message: str, tol: float) -> tuple[Status, str]:
        """A column generation's status and message, overruled by this certificate: "optimal" without it becomes
        "stopped" (saying why); "stopped" at a limit with it becomes "optimal"."""
        certified = self.within(tol)
        if status == "optimal" and not certified:
            return "stopped", (f"uncertified: residuals above tolerance on the original LP (primal "
                               f"{self.primal_residual:.1e}, dual {self.dual_residual:.1e}, gap {self.gap:.1e})")
        if status == "stopped" and certified:
            return "optimal", ""
        return status, message


def certify(net: sp.csr_matrix, primary: sp.csr_matrix, available: FloatArray, capacity: FloatArray,
            target: FloatArray, lam: float, x: FloatArray, row_duals: FloatArray, primary_duals: FloatArray,
            capacity_duals: FloatArray, floor_above: float = FLOOR_ABOVE) -> Certificate:
    """Recompute the residuals of ``(lam, x)`` and the duals on the ray LP, relative to the size of each side
    (``floor_above``: see :func:`primal_residual`; the caller's tolerance, where it has one).

    * primal: the largest of ``max(0, lam t_g - (net x)_g) / max(lam t_g, (|net| |x|)_g)``,
      ``max(0, (P x)_r - a_r) / a_r``, ``max(0, x_j - u_j) / u_j`` and ``max(0, -x_j) / |x|_inf``;
    * dual: the largest of ``max_j max(0, p net_j - pi P_j - mu_j) / ((|p| + p_ref) |net_j| + (pi + pi_ref) P_j
      + mu_j)``, with the reference prices ``lam / flows`` of each row (:func:`~needplan.plan.lp.reference_prices`),
      of the negative parts of the duals, and of ``|target @ p - 1|``;
    * gap: ``|D - lam| / max(|lam|, |D|, 1e-9)`` with ``D = pi a + mu u`` (only finite limits count; a positive
      price on an unlimited primary or capacity makes ``D`` infinite).
    """
    p, pi, mu = row_duals, primary_duals, capacity_duals
    fa, fu = np.isfinite(available), np.isfinite(capacity)
    value = net.T @ p
    charge = primary.T @ pi + mu
    # Each technique's violation relative to its own value flows: free of the units its activity is counted in
    # (relative to the largest column, a technique counted in tiny units could be mispriced by any share); priced
    # at least at the reference prices of lp.check_solution, so that a technique whose goods are all nearly free
    # is judged by what it could move of lam, not by a share of its own near-zero value.
    gross = abs_matvec(net, np.abs(x))
    use = primary @ np.abs(x) + np.where(fa, np.abs(available), 0.0)
    scale = (abs_rmatvec(net, np.abs(p) + reference_prices(gross + abs(lam) * np.abs(target), abs(lam)))
             + primary.T @ (np.abs(pi) + reference_prices(use, abs(lam))) + np.abs(mu))
    dres = [float(np.max(np.maximum(value - charge, 0.0) / np.maximum(scale, _TINY), initial=0.0)),
            float(np.max(np.maximum(-p, 0.0), initial=0.0)) / max(float(np.max(np.abs(p), initial=0.0)), _TINY),
            float(np.max(np.maximum(-pi, 0.0), initial=0.0)),
            float(np.max(np.maximum(-mu, 0.0), initial=0.0)),
            abs(float(target @ p) - 1.0)]
    if np.any(pi[~fa] > 0) or np.any(mu[~fu] > 0):
        dual_obj = math.inf
    else:
        dual_obj = float(pi[fa] @ available[fa] + mu[fu] @ capacity[fu])
    gap = abs(dual_obj - lam) / max(abs(lam), abs(dual_obj), 1e-9) if math.isfinite(dual_obj) else math.inf
    return Certificate(primal_residual(net, primary, available, capacity, lam * target, x, gross=gross,
                                       floor_above=floor_above), max(dres), gap, dual_obj)


def primal_residual(net: sp.csr_matrix, primary: sp.csr_matrix, available: FloatArray, capacity: FloatArray,
                    required: FloatArray, x: FloatArray, *, gross: FloatArray | None = None,
                    floor_above: float = FLOOR_ABOVE) -> float:
    """The largest relative violation of ``net @ x >= required``, ``primary @ x <= available`` and
    ``0 <= x <= capacity`` (each relative to the size of its side, as in :func:`certify`). ``gross`` (``|net| @
    |x|``) where the caller has it already. A balance short by more than ``floor_above`` of its flows is judged
    against no less than ``ROW_UNIT_SHARE`` of one unit of its row (see below); within it, the share stands (it only
    errs high)."""
    xnorm = max(float(np.max(np.abs(x), initial=0.0)), _TINY)
    nx = net @ x
    # Each row's shortfall relative to its own requirement and gross flows, free of the units its product is
    # counted in (relative to the largest requirement, a product counted in tiny units could fall short by any
    # share of its own).
    if gross is None:
        gross = abs_matvec(net, np.abs(x))
    bal_scale = np.maximum(np.maximum(np.abs(required), gross), _TINY)
    short = np.maximum(required - nx, 0.0)
    m = net.shape[0]
    units: list[FloatArray] = []

    def row_units() -> FloatArray:
        """``ROW_UNIT_SHARE`` of one unit of each row (balances, then primaries) as HiGHS sees it."""
        if not units:
            # Scaled as the LP HiGHS sees: the balances beside the primaries' rows and the requirement's column
            # (lambda's, for ray), which both change the columns' scales and so the rows'.
            whole = sp.vstack([sp.hstack([_abs(net), sp.csr_matrix(np.abs(required).reshape(-1, 1))]),
                               sp.hstack([_abs(primary), sp.csr_matrix((primary.shape[0], 1))])], format="csr")
            units.append(ROW_UNIT_SHARE / equilibrate(whole, SCALE_ROUNDS, beyond=SCALE_BEYOND)[0])
        return units[0]

    if float(np.max(short / bal_scale, initial=0.0)) > floor_above:
        # A row whose flows are all tiny (a technique left at an activity of 1e-15 by HiGHS's crossover uses a
        # product nothing makes: 4.6e-15 short of 0, 100% of its flows) is judged against no less than one unit
        # of it as HiGHS sees it, as lp.check_solution does (1 for rows near unit scale).
        bal_scale = np.maximum(bal_scale, row_units()[:m])
    res = [float(np.max(short / bal_scale, initial=0.0)),
           float(np.max(np.maximum(-x, 0.0), initial=0.0)) / xnorm]
    fa = np.isfinite(available)
    if fa.any():
        over = np.maximum(primary @ x - available, 0.0)[fa]
        scale = np.maximum(np.abs(available[fa]), _TINY)
        if float(np.max(over / scale, initial=0.0)) > floor_above:
            # So is a labour kind or resource available in a tiny amount (or none: a use of 2e-10 over 0 is not
            # an infinite violation), as lp.check_solution judges it.
            scale = np.maximum(scale, row_units()[m:][fa])
        res.append(float(np.max(over / scale, initial=0.0)))
    fu = np.isfinite(capacity)
    if fu.any():
        res.append(float(np.max(np.maximum(x[fu] - capacity[fu], 0.0)
                                / np.maximum(np.abs(capacity[fu]), _TINY), initial=0.0)))
    return max(res)


# --- square Leontief blocks --------------------------------------------------------------------------------

@dataclass
class _Kept:
    """What :func:`keep_deflations` keeps: each square block's Perron pair by the block's content, and each
    matrix's digest by the matrix (held here, so that its identity stays its own)."""

    pairs: dict[bytes, JacobiDeflation] = field(default_factory=dict)
    matrices: dict[int, tuple[sp.csr_matrix, bytes]] = field(default_factory=dict)


_KEPT_DEFLATIONS: ContextVar[_Kept | None] = ContextVar("kept_deflations", default=None)
"""Within :func:`keep_deflations`: what it keeps, for the next solve (a context variable: threads and tasks each see
their own, a review found a module global left on by two threads)."""
KEPT_DEFLATIONS_MOST = 8
"""Blocks whose pairs :func:`keep_deflations` keeps at once (the oldest go first)."""


@contextmanager
def keep_deflations() -> Iterator[None]:
    """Within it, solves share the Perron pair of a square block they have in common (by its content: the same
    matrix, choice and diagonal) instead of finding it again: for a caller that solves one economy many times
    with other bounds and targets, as the conflict search does (a profile at 10^5 goods: the pair's power
    iteration was 40.6 s of the search's 62 s, 75 times the same blocks). A matrix is digested once within it,
    so it must not be changed in place there. Outside it nothing is kept."""
    token = _KEPT_DEFLATIONS.set(_KEPT_DEFLATIONS.get() or _Kept())
    try:
        yield
    finally:
        _KEPT_DEFLATIONS.reset(token)


def _block_key(kept: _Kept, prob: _Problem, choice: IntArray, d: FloatArray) -> bytes:
    """A digest of everything the Jacobi iteration's Perron pair of ``net[:, choice]`` depends on; the matrix's
    own digest is taken once (hashing it for every check was 3.6 s of the 8.4 s the pairs saved at 10^4 goods)."""
    net = prob.net
    held = kept.matrices.get(id(net))
    if held is None or held[0] is not net:
        whole = hashlib.blake2b(digest_size=32)
        for part in (np.asarray(net.shape), net.indptr, net.indices, net.data):
            whole.update(np.ascontiguousarray(part).tobytes())
        held = kept.matrices[id(net)] = (net, whole.digest())
    digest = hashlib.blake2b(held[1], digest_size=32)
    rows = np.zeros(0, dtype=np.int64) if prob.rows is None else prob.rows  # the problem's rows and disposal too
    for part in (np.asarray([prob.disposal, prob.rows is None]), rows, choice, d):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.digest()


class _Square:
    """Solves with the square block ``B_c = net[:, choice]`` (rows = products, diagonal = main outputs)."""

    def __init__(self, prob: _Problem, choice: IntArray, diag: FloatArray, deadline: float,
                 rtol: float = 1e-13) -> None:
        self.prob = prob
        self.rtol = rtol  # relative residual at which the Neumann iteration stops
        self.choice = choice.copy()  # callers mutate their choice arrays; the cache must not follow
        self.d = diag[choice]
        self.deadline = deadline
        self.lu: spla.SuperLU | None = None
        self.iterations = 0
        self._deflation = JacobiDeflation(self.d, enabled=DEFLATE)
        kept = _KEPT_DEFLATIONS.get()
        if kept is not None:
            key = _block_key(kept, prob, self.choice, self.d)
            if key in kept.pairs:
                self._deflation = kept.pairs[key]
            else:
                while len(kept.pairs) >= KEPT_DEFLATIONS_MOST:
                    del kept.pairs[next(iter(kept.pairs))]
                kept.pairs[key] = self._deflation
        m = prob.shape[0]
        if m < DIRECT_BELOW:
            B = sp.csc_matrix(prob.explicit()[:, choice])
            try:
                self.lu = spla.splu(B)
            except RuntimeError as err:  # exactly singular
                raise _OutsideStructure(f"the square block of the chosen techniques is singular ({err})") from err

    def _scatter(self, v: FloatArray) -> FloatArray:
        x = np.zeros(self.prob.shape[1])
        x[self.choice] = v
        return x

    def _b(self, v: FloatArray) -> FloatArray:
        return self.prob.mul(self._scatter(v))

    def _bt(self, p: FloatArray) -> FloatArray:
        return self.prob.tmul(p)[self.choice]

    def forward(self, rhs: FloatArray, v0: FloatArray | None) -> FloatArray:
        """``v`` with ``B_c v = rhs`` (activities of the chosen techniques, per product)."""
        if self.lu is not None:
            return np.asarray(self.lu.solve(rhs), dtype=np.float64)
        return self._jacobi(self._b, rhs, v0, transposed=False)

    def transposed(self, rhs: FloatArray, p0: FloatArray | None) -> FloatArray:
        """``p`` with ``B_c^T p = rhs`` (prices of the products)."""
        if self.lu is not None:
            return np.asarray(self.lu.solve(rhs, trans="T"), dtype=np.float64)
        return self._jacobi(self._bt, rhs, p0, transposed=True)

    def _settled(self, r: FloatArray, rhs: FloatArray, v: FloatArray, transposed: bool) -> bool:
        """Whether each residual of ``B_c v = rhs`` (or ``B_c^T v``) is within ``rtol`` of its own row's flows, for
        an iteration whose largest residual stalls above ``rtol`` of the largest right-hand side: with goods in
        units 10^8 apart, a good's rounding alone can be that large (fuzzing: uniform economies of 300 goods
        declined as "not productive" at residuals of 1e-12 of the largest right-hand side)."""
        flows = (self.prob.flows(v, transposed=True)[self.choice] if transposed
                 else self.prob.flows(self._scatter(v), transposed=False))
        return bool(np.all(np.abs(r) <= self.rtol * np.maximum(flows + np.abs(rhs), _TINY)))

    def _jacobi(self, apply_b: Callable[[FloatArray], FloatArray], rhs: FloatArray, v0: FloatArray | None,
                transposed: bool, max_iter: int = 5000) -> FloatArray:
        # Jacobi on B = D (I - A) is the Neumann iteration v <- D^{-1} rhs + A v, one sparse product per step;
        # it converges whenever the block is productive, at the rate of the spectral radius of A (of the next
        # eigenvalue with the Perron root deflated).
        deflation = self._deflation.pair(transposed, self._b, self._bt)
        rtol = self.rtol
        v = rhs / self.d if v0 is None else v0.copy()
        rscale = max(float(np.max(np.abs(rhs), initial=0.0)), _TINY)
        prev = math.inf
        slow = 0
        for k in range(max_iter):
            r = rhs - apply_b(v)
            if deflation is None:
                v += r / self.d
            else:
                deflation.advance(v, r / self.d)
            nr = float(np.max(np.abs(r), initial=0.0))
            if nr <= rtol * rscale:
                self.iterations += k + 1
                return np.asarray(v)
            if not math.isfinite(nr):
                break
            slow = slow + 1 if nr >= 0.999 * prev else 0
            if (slow >= 20 or k % 100 == 99) and self._settled(r, rhs, v, transposed):
                self.iterations += k + 1
                return np.asarray(v)
            if slow >= 20:
                break
            prev = nr
            if k % 50 == 49 and time.perf_counter() > self.deadline:
                raise _Budget
        if deflation is not None:  # an inexact pair must not cost the answer: the plain iteration decides
            self._deflation.drop()
            return self._jacobi(apply_b, rhs, v0, transposed, max_iter)
        raise _OutsideStructure(f"the Neumann iteration on the chosen techniques does not converge ({k} steps, "
                                f"residual {nr:.1e} of {rscale:.1e}; the chosen block is not productive)")


# --- the solver --------------------------------------------------------------------------------------------

def _prepare(net: sp.spmatrix | sp.sparray, primary: sp.spmatrix | sp.sparray, available: FloatArray,
             capacity: FloatArray, target: FloatArray) -> _Problem:
    # The caller's matrix is used as it is when it is already CSR of floats (it is only read, never copied).
    N = net if isinstance(net, sp.csr_matrix) and net.dtype == np.float64 else sp.csr_matrix(net, dtype=np.float64)
    m, n = N.shape
    P = sp.csr_matrix(primary, dtype=np.float64)
    if P.shape[1] != n:
        raise ValueError(f"primary has {P.shape[1]} columns, net has {n} techniques")
    a = np.asarray(available, dtype=np.float64).reshape(-1)
    u = np.asarray(capacity, dtype=np.float64).reshape(-1)
    t = np.asarray(target, dtype=np.float64).reshape(-1)
    if a.size != P.shape[0]:
        raise ValueError(f"available has {a.size} entries for {P.shape[0]} primaries")
    if u.size != n:
        raise ValueError(f"capacity has {u.size} entries for {n} techniques")
    if t.size != m:
        raise ValueError(f"target has {t.size} entries for {m} net rows")
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("target must be finite and >= 0")
    if P.nnz and float(P.data.min()) < 0:
        raise ValueError("primary inputs must be >= 0")
    if np.any(np.isnan(a)) or np.any(np.isnan(u)):
        raise ValueError("available and capacity must not be NaN (use inf for no limit)")
    return _Problem(N, P, a, u, t)


def _infer_main(N: sp.csr_matrix) -> IntArray:
    """Per technique, the row of its largest positive net output (-1 where it makes nothing)."""
    C = sp.csc_matrix(N)
    n = C.shape[1]
    main = np.full(n, -1, dtype=np.int64)
    data = np.where(C.data > 0, C.data, 0.0)
    if C.nnz:
        lengths = np.diff(C.indptr)
        cols = np.repeat(np.arange(n), lengths)
        order = np.lexsort((-data, cols))
        first = np.searchsorted(cols[order], np.arange(n))
        has = lengths > 0
        best = order[np.minimum(first, C.nnz - 1)]
        ok = has & (data[best] > 0)
        main[ok] = C.indices[best[ok]]
    return main


def _empty_result(prob: _Problem, status: Status, lam: float, method: str, message: str, start: float,
                  x: FloatArray | None = None) -> FastResult:
    m, n = prob.shape
    return FastResult(status, lam, np.zeros(n) if x is None else x, np.zeros(m), np.zeros(prob.primary.shape[0]),
                      np.zeros(n), 0, time.perf_counter() - start, math.nan, math.nan, math.nan, method, message)


def solve_ray(net: sp.spmatrix | sp.sparray, primary: sp.spmatrix | sp.sparray, available: FloatArray,
              capacity: FloatArray, target: FloatArray, *, tol: float = 1e-6, time_limit: float | None = None,
              main: IntArray | None = None, max_iterations: int = 1000,
              fallback: bool = True) -> FastResult:
    """Maximise the fulfilment ``lam`` with ``net @ x >= lam * target``, ``primary @ x <= available``,
    ``0 <= x <= capacity``.

    Shapes: ``net`` rows x techniques (net output per unit of activity, main and joint outputs minus inputs),
    ``primary`` primaries x techniques (>= 0), ``available`` per primary and ``capacity`` per technique (``inf``
    = no limit), ``target`` per row (>= 0; 0 for pure balance rows). ``main`` optionally gives the row of each
    technique's main product (inferred from the largest positive net output otherwise).

    ``tol`` is the relative tolerance on the primal residuals, the dual residuals and the duality gap; the
    status is "optimal" only when the returned arrays meet all three (see :class:`FastResult`). ``time_limit``
    (seconds) and ``max_iterations`` (column-generation rounds) give "stopped", with the best feasible plan found
    and its certified gap. When the structure does not fit (see the module docstring) and ``fallback`` is true,
    HiGHS solves the full LP and ``method`` starts with ``"highs"``; with ``fallback`` false the status is then
    "stopped" and ``message`` says why.
    """
    start = time.perf_counter()
    deadline = start + (time_limit if time_limit is not None else math.inf)
    prob = _prepare(net, primary, available, capacity, target)
    infeasible = _negative_bounds(prob, start)
    if infeasible is not None:
        return infeasible
    if not prob.target.any():
        return _empty_result(prob, "unbounded", math.inf, "bounds",
                             "every target is 0, so any fulfilment is met by doing nothing", start)
    return _drive(prob, main, start, deadline, time_limit, fallback,
                  lambda main_rows: _column_generation(prob, main_rows, tol, deadline, max_iterations, start),
                  lambda remaining, method: _highs_full(prob, tol, remaining, start, method))


def _negative_bounds(prob: _Problem, start: float) -> FastResult | None:
    """The certified "infeasible" answer when an availability or a capacity is negative, else ``None``."""
    if np.any(prob.available < 0) or np.any(prob.capacity < 0):
        bad = "available" if np.any(prob.available < 0) else "capacity"
        return _empty_result(prob, "infeasible", math.nan, "bounds",
                             f"a negative {bad} cannot be met even by doing nothing", start)
    return None


OUTSIDE = "outside the fast structure: "
"""How the message of a result without fallback begins when the structure does not fit (the reason follows)."""


def _drive(prob: _Problem, main: IntArray | None, start: float, deadline: float, time_limit: float | None,
           fallback: bool, column_generation: Callable[[IntArray], FastResult],
           highs: Callable[[float | None, str], FastResult]) -> FastResult:
    """Run a column generation; outside the structure (or uncertified) hand the LP to HiGHS, saying why."""
    n = prob.shape[1]
    main_rows = _infer_main(prob.net) if main is None else np.asarray(main, dtype=np.int64)
    if main_rows.shape != (n,):
        raise ValueError(f"main has {main_rows.size} entries for {n} techniques")
    reason = ""
    try:
        result: FastResult | None = column_generation(main_rows)
    except _Budget:
        return _empty_result(prob, "stopped", math.nan, "leontief-cg", "time limit reached before a first plan",
                             start)
    except _OutsideStructure as why:
        result, reason = None, str(why)
    if result is not None:
        if result.status != "stopped" or not result.message.startswith("uncertified"):
            return result
        reason = result.message
    if not fallback:
        return _empty_result(prob, "stopped", math.nan, "leontief-cg", f"{OUTSIDE}{reason}", start)
    remaining = None if time_limit is None else max(deadline - time.perf_counter(), 0.1)
    return highs(remaining, f"highs (fast path declined: {reason})")


class _Pricer:
    """The Leontief pricing problem of a plan LP: ``min cost @ x`` over ``{x >= 0 : net_s x >= target_s}``.

    ``net_s`` are the rows some technique makes as its main product; the others (a quality-weighted need's
    physical balance, say) are coupling rows (``rows_c``), left to the caller's master like the capacities. With
    joint products every product gets a disposal column ``-e_g`` (cost 0, technique ``n_orig + g``), so that a
    pure plan may leave a jointly made product in surplus instead of running its technique backwards.
    """

    def __init__(self, prob: _Problem, main: IntArray, deadline: float, rtol: float = 1e-13) -> None:
        m_all, n = prob.shape
        if np.any((main < -1) | (main >= m_all)):
            raise ValueError("main has rows out of range")
        valid = main >= 0
        techs = np.flatnonzero(valid)
        counts_all = np.bincount(main[techs], minlength=m_all)
        self.prob0 = prob
        self.m_all = m_all
        self.rows_s = np.flatnonzero(counts_all > 0)
        self.rows_c = np.flatnonzero(counts_all == 0)
        self.t_c = prob.target[self.rows_c]
        if self.rows_c.size:
            # The pricing problem has the rows some technique makes (rows_s); a row index, not a copy of them.
            pos = np.full(m_all, -1, dtype=np.int64)
            pos[self.rows_s] = np.arange(self.rows_s.size)
            main = np.where(valid, pos[np.maximum(main, 0)], -1)
            prob = _Problem(prob.net, prob.primary, prob.available, prob.capacity, prob.target[self.rows_s],
                            rows=self.rows_s)
        m = prob.shape[0]
        diag = np.zeros(n)
        diag[techs] = prob.entries(main[techs], techs)
        if np.any(diag[techs] <= 0):
            raise _OutsideStructure("a technique's net output of its main product is not positive")
        counts = np.bincount(main[techs], minlength=m)
        self.n_orig = n
        # Joint production: a technique with a positive net output in more than one of the pricing rows.
        N0 = prob.net
        positive = N0.data > 0
        if self.rows_c.size:
            positive &= np.repeat(counts_all > 0, np.diff(N0.indptr))
        self.joint = bool(np.any(np.bincount(N0.indices[positive], minlength=n) > 1))
        del positive
        if self.joint:
            P = sp.hstack([prob.primary, sp.csr_matrix((prob.primary.shape[0], m))], format="csr")
            u = np.concatenate([prob.capacity, np.full(m, np.inf)])
            main = np.concatenate([main, np.arange(m)])
            diag = np.concatenate([diag, -np.ones(m)])
            techs = np.concatenate([techs, np.arange(n, n + m)])
            counts = counts + 1
            prob = _Problem(prob.net, P, prob.available, u, prob.target, rows=prob.rows, disposal=True)
        self.prob = prob
        self.main = main
        self.diag = diag
        self.absdiag = np.abs(diag)
        self.alt_techs = techs[counts[main[techs]] > 1]
        self.first_choice = np.full(m, -1, dtype=np.int64)
        rev = techs[::-1]
        self.first_choice[main[rev]] = rev
        self.deadline = deadline
        self.rtol = rtol
        self.stats = {"pricing_rounds": 0.0, "square_iterations": 0.0, "columns": 0.0, "master_rows": 0.0}
        self._squares: dict[bytes, _Square] = {}

    def coupling(self, x: FloatArray) -> FloatArray:
        """``N_c @ x``: the coupling rows' net output of the caller's techniques ``x``."""
        if not self.rows_c.size:
            return np.zeros(0)
        return np.asarray(self.prob0.net @ x)[self.rows_c]

    def coupling_t(self, sigma: FloatArray) -> FloatArray:
        """``N_c.T @ sigma``: what prices ``sigma`` of the coupling rows pay each of the caller's techniques."""
        full = np.zeros(self.m_all)
        full[self.rows_c] = sigma
        return np.asarray(self.prob0.net_t @ full)

    def coupling_rows(self, sel: IntArray) -> sp.csr_matrix:
        """The coupling rows at positions ``sel`` (the few in a master) as their own matrix."""
        return sp.csr_matrix(self.prob0.net[self.rows_c[sel]])

    def square(self, choice: IntArray) -> _Square:
        key = choice.tobytes()
        sq = self._squares.get(key)
        if sq is None:
            if len(self._squares) > 8:
                self._squares.clear()
            sq = self._squares[key] = _Square(self.prob, choice, self.diag, self.deadline, self.rtol)
        return sq

    def refined(self, full_p: FloatArray, choice: IntArray, cost: FloatArray) -> FloatArray:
        """``full_p`` with its prices of the pricing rows (``B_c^T p = cost_c``) refined once: the residual ``r``
        from the matrix, ``B_c^T z = r`` solved as the prices were, ``p + z``; as it was where the time is up.

        The Neumann iteration stops at a residual of ``rtol`` times the largest cost, which leaves goods priced far
        below the dearest ones inexact relative to their own prices. One good counted in units 10^6 times smaller
        in a generated economy of 20,000 goods (its price 10^6 times larger, the fulfilment 1e-6) left reduced
        costs of -3e-17 on basic techniques worth 1.5e-8, and times the activity the labour would allow that
        opened a duality gap of 4.8e-4 in the engine's check: ``stopped``. One round leaves each residual at the
        rounding of its own column's products."""
        sq = self.square(choice)
        p = full_p[self.rows_s]
        r = cost[choice] - sq._bt(p)
        top = float(np.max(np.abs(r), initial=0.0))
        if not (top > 0 and math.isfinite(top)):
            return full_p
        try:
            z = sq.transposed(r / top, None) * top
        except (_Budget, _OutsideStructure):
            return full_p
        out = full_p.copy()
        out[self.rows_s] = p + z
        return out

    def feasible(self, choice: IntArray, v0: FloatArray | None) -> tuple[IntArray, FloatArray]:
        """The pure plan of ``choice``, with disposal where joint products would otherwise need negative runs."""
        n_orig, t = self.n_orig, self.prob.target
        for _ in range(50):
            sq = self.square(choice)
            before = sq.iterations
            v = sq.forward(t, v0)
            self.stats["square_iterations"] += sq.iterations - before
            neg = np.flatnonzero(v < -1e-12 * float(np.max(np.abs(v), initial=1.0)))
            if not neg.size:
                return choice, np.maximum(v, 0.0)
            if not self.joint:
                raise _OutsideStructure("a pure plan needs negative activity (the block is not productive)")
            # A product made jointly beyond its use: dispose of the surplus instead of running it backwards;
            # a disposed product whose joint supply falls short: back to its own (cheapest) technique.
            choice = choice.copy()
            disposed = choice[neg] >= n_orig
            choice[neg[~disposed]] = n_orig + neg[~disposed]
            choice[neg[disposed]] = self.first_choice[neg[disposed]]
            v0 = None
        raise _OutsideStructure("no nonnegative pure plan found with joint products")

    def price(self, cost: FloatArray, choice: IntArray, p0: FloatArray | None,
              v0: FloatArray | None) -> tuple[IntArray, FloatArray, FloatArray | None]:
        """The cheapest pure plan at technique costs ``cost`` (Leontief substitution by policy iteration).

        Returns the choice, the product prices ``p`` (``B_c^T p = cost_c``) and, with joint products, the plan.
        With joint products every step starts from a primal feasible basis (:meth:`feasible`), so that the
        switches are simplex steps of the pricing LP rather than moves between infeasible bases.
        """
        alt_techs, main, absdiag, tmul = self.alt_techs, self.main, self.absdiag, self.prob.tmul
        choice = choice.copy()
        p, v = p0, v0
        for rnd in range(60):
            if self.joint:
                choice, v = self.feasible(choice, v)
            sq = self.square(choice)
            before = sq.iterations
            p = sq.transposed(cost[choice], p)
            self.stats["square_iterations"] += sq.iterations - before
            self.stats["pricing_rounds"] += 1
            if alt_techs.size == 0:
                return choice, p, (v if self.joint else None)
            rc = (cost[alt_techs] - tmul(p)[alt_techs]) / absdiag[alt_techs]
            rows = main[alt_techs]
            order = np.lexsort((rc, rows))
            firsts = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
            best, g = alt_techs[firsts], rows[firsts]
            thresh = 1e-12 * (np.abs(p[g]) + cost[best] / absdiag[best]) + _TINY
            switch = (rc[firsts] < -thresh) & (best != choice[g])
            if not switch.any():
                return choice, p, (v if self.joint else None)
            if rnd >= 20:
                # Switching every product at once (Howard) is monotone without joint products; with them it
                # can cycle, so after a while switch only the product with the most negative reduced cost.
                only = np.argmin(np.where(switch, rc[firsts], np.inf))
                switch = np.zeros_like(switch)
                switch[only] = True
            choice[g[switch]] = best[switch]
        raise _OutsideStructure("Leontief substitution did not settle on a technique choice in 60 rounds "
                                "(joint products need a basis that is not one technique per main product)")


def _column_generation(prob: _Problem, main: IntArray, tol: float, deadline: float, max_iterations: int,
                       start: float) -> FastResult:
    pr = _Pricer(prob, main, deadline)
    prob0, m_all, n_orig, joint = pr.prob0, pr.m_all, pr.n_orig, pr.joint
    rows_s, rows_c, t_c = pr.rows_s, pr.rows_c, pr.t_c
    prob = pr.prob
    P, a, u, t = prob.primary, prob.available, prob.capacity, prob.target
    n = prob.shape[1]
    feasible, price, first_choice, stats = pr.feasible, pr.price, pr.first_choice, pr.stats
    fa = np.flatnonzero(np.isfinite(a))
    capped = np.flatnonzero(np.isfinite(u))

    # Initial prices: each primary at one over its availability (a guess at its scarcity), capacities free.
    pi = np.zeros(P.shape[0])
    pi[fa] = 1.0 / np.maximum(a[fa], _TINY)
    mu = np.zeros(n)

    cols_choice: list[IntArray] = []
    cols_v: list[FloatArray] = []
    cols_prim: list[FloatArray] = []
    cols_cap: list[FloatArray] = []
    cols_cpl: list[FloatArray] = []  # per column, t_c - N_c v: the coupling rows read sum_k w_k (t_c - N_c v_k) <= 0

    def add_column(choice: IntArray, v: FloatArray | None, v0: FloatArray | None) -> tuple[IntArray, FloatArray]:
        if v is None:
            choice, v = feasible(choice, v0)
        x = np.zeros(n)
        x[choice] = v
        cols_choice.append(choice)
        cols_v.append(v)
        cols_prim.append(P[fa] @ x)
        cols_cap.append(x[capped])
        cols_cpl.append(t_c - pr.coupling(x[:n_orig]))
        return choice, v

    def column_x(k: int) -> FloatArray:
        x = np.zeros(n)
        x[cols_choice[k]] = cols_v[k]
        return x

    cost = P.T @ pi
    choice, p, v_new = price(cost, first_choice, None, None)
    choice, v_last = add_column(choice, v_new, None)
    rows_cap = np.zeros(0, dtype=np.int64)  # capacity rows in the master, as positions into ``capped``
    rows_cpl = np.zeros(0, dtype=np.int64)  # coupling rows in the master, as positions into ``rows_c``
    sigma = np.zeros(rows_c.size)
    best: tuple[float, FloatArray, FloatArray, FloatArray] | None = None  # UB and its normalised duals
    best_basis: tuple[IntArray, FloatArray] | None = None  # the choice and normalised costs that priced it
    lam = 0.0
    w = np.zeros(1)
    iterations = 0
    best_seen, last_progress = math.inf, 0
    status: Status = "stopped"
    message = ""
    while True:
        iterations += 1
        # Master: max sum(w) over the columns, rows for limited primaries and the capacities added so far.
        W_prim = np.array(cols_prim).T if fa.size else np.zeros((0, len(cols_v)))
        W_cap = np.array(cols_cap).T[rows_cap] if rows_cap.size else np.zeros((0, len(cols_v)))
        W_cpl = np.array(cols_cpl).T[rows_cpl] if rows_cpl.size else np.zeros((0, len(cols_v)))
        A_ub = np.vstack([W_prim, W_cap, W_cpl])
        b_ub = np.concatenate([a[fa], u[capped[rows_cap]], np.zeros(rows_cpl.size)])
        stats["master_rows"] = float(A_ub.shape[0])
        stats["columns"] = float(len(cols_v))
        if A_ub.shape[0] == 0 or np.all(A_ub.max(axis=0, initial=0.0) <= 0):
            res_status = 3
        else:
            res = master_lp(-np.ones(len(cols_v)), A_ub=A_ub, b_ub=b_ub)
            res_status = res.status
        if res_status == 3:
            # Unbounded with the rows so far: add every capacity that the columns touch, or prove a ray.
            used = np.flatnonzero(np.array(cols_cap).max(axis=0) > 0) if capped.size else np.zeros(0, int)
            new = np.setdiff1d(used, rows_cap)
            if new.size:
                rows_cap = np.union1d(rows_cap, new)
                continue
            for k in range(len(cols_v)):
                if (not fa.size or np.all(cols_prim[k] <= 0)) and (not capped.size or np.all(cols_cap[k] <= 0)):
                    return _ray_result(prob0, column_x(k)[:n_orig], iterations, start, stats)
            raise _OutsideStructure("the master LP is unbounded without a ray among its columns")
        if res_status != 0:
            raise _OutsideStructure(f"the master LP failed: {res.message}")
        w = np.maximum(res.x, 0.0)
        lam = float(w.sum())
        pi, mu, sigma = master_duals(-res.ineqlin.marginals, fa, P.shape[0], capped[rows_cap], n, rows_cpl,
                                     rows_c.size)
        # Coupling rows not yet in the master that the mixture violates: add them and re-solve.
        if rows_c.size:
            short = np.array(cols_cpl).T @ w
            scale_c = np.maximum(np.abs(t_c) * lam, 1e-12 * max(lam, 1e-12))
            new = np.setdiff1d(np.flatnonzero(short > 0.1 * tol * scale_c), rows_cpl)
            if new.size:
                rows_cpl = np.union1d(rows_cpl, new)
                continue
        # Capacities not yet in the master that the mixture violates: add them and re-solve.
        if capped.size:
            use = np.array(cols_cap).T @ w
            over = np.flatnonzero(use > u[capped] * (1 + 0.1 * tol))
            new = np.setdiff1d(over, rows_cap)
            if new.size:
                rows_cap = np.union1d(rows_cap, new)
                continue
        # Pricing: the cheapest pure plan at these prices bounds lam from above (Lagrangian dual bound).
        cost = P.T @ pi + mu
        if rows_cpl.size:
            cost[:n_orig] -= pr.coupling_t(sigma)
            if np.any(cost[:n_orig] < 0):
                # A technique that pays for itself at these prices can run without bound in the pricing problem:
                # its minimum is a ray, which pure plans cannot represent.
                raise _OutsideStructure("the coupling rows' prices make a technique's cost negative (the pricing "
                                        "problem is unbounded along a ray)")
        choice, p, v_new = price(cost, choice, p, v_last)
        z = float(t @ p + t_c @ sigma)
        dual_obj = float(pi[fa] @ a[fa] + mu[capped] @ u[capped])
        if np.all(np.isfinite(p)) and z > 1e-12 * float(np.abs(p).sum()) and z > 0:
            ub = dual_obj / z
            full_p = np.zeros(m_all)
            full_p[rows_s] = p
            full_p[rows_c] = sigma
            with np.errstate(over="ignore"):
                scaled = (full_p / z, pi / z, mu / z)
            if (best is None or ub < best[0]) and all(np.all(np.isfinite(s_)) for s_ in scaled):
                best = (ub, *scaled)
                best_basis = (choice.copy(), cost / z)
        gap = (best[0] - lam) / max(best[0], 1e-9) if best is not None else math.inf
        if gap <= 0.5 * tol:
            status = "optimal"
            break
        if best is not None and best[0] < best_seen - 1e-3 * tol * best[0]:
            best_seen, last_progress = best[0], iterations
        if iterations - last_progress > 100:
            message = "uncertified: column generation stalled (the dual bound did not improve in 100 rounds)"
            break
        message = limit_reached(iterations, max_iterations, deadline)
        if message:
            break
        if any(np.array_equal(choice, c) for c in cols_choice):
            message = "uncertified: column generation repeated a column before closing the gap"
            break
        choice, v_last = add_column(choice, v_new, v_last)

    x = np.zeros(n)
    for k in np.flatnonzero(w > 0).tolist():
        x[cols_choice[k]] += w[k] * cols_v[k]
    x = np.minimum(x, u)  # overshoots of capacity by rounding only; the certificate rechecks everything
    if best is None:
        best = (math.inf, np.zeros(m_all), np.zeros(P.shape[0]), np.zeros(n))
    _, p_, pi_, mu_ = best
    if best_basis is not None:
        p_ = pr.refined(p_, *best_basis)
    # Back to the caller's techniques (disposal columns are surplus, implied by net @ x >= lam * target).
    x, mu_ = x[:n_orig], mu_[:n_orig]
    P, u = P[:, :n_orig] if joint else P, u[:n_orig]
    cert = certify(prob0.net, P, a, u, prob0.target, lam, x, np.maximum(p_, 0.0), pi_, mu_, floor_above=tol)
    status, message = cert.settle(status, message, tol)
    stats["seconds_total"] = time.perf_counter() - start
    return FastResult(status, lam, x, np.maximum(p_, 0.0), pi_, mu_, iterations, time.perf_counter() - start,
                      cert.primal_residual, cert.dual_residual, cert.gap, "leontief-cg", message, stats)


def master_duals(duals: FloatArray, fa: IntArray, n_primaries: int, cap_cols: IntArray, n: int,
                 rows_cpl: IntArray, n_coupling: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The prices (>= 0) of a master LP's rows, stacked primaries ``fa``, then capacities of the techniques
    ``cap_cols``, then coupling rows ``rows_cpl``: per primary, per technique (``n``) and per coupling row."""
    pi = np.zeros(n_primaries)
    pi[fa] = np.maximum(duals[:fa.size], 0.0)
    mu = np.zeros(n)
    mu[cap_cols] = np.maximum(duals[fa.size:fa.size + cap_cols.size], 0.0)
    sigma = np.zeros(n_coupling)
    sigma[rows_cpl] = np.maximum(duals[fa.size + cap_cols.size:], 0.0)
    return pi, mu, sigma


def limit_reached(iterations: int, max_iterations: int, deadline: float) -> str:
    """Why a column generation must stop now (its round or time limit), or ``""`` when it may go on."""
    if iterations >= max_iterations:
        return f"iteration limit {max_iterations} reached"
    if time.perf_counter() > deadline:
        return "time limit reached"
    return ""


def _ray_result(prob: _Problem, ray: FloatArray, iterations: int, start: float,
                stats: dict[str, float]) -> FastResult:
    """An unbounded ray LP, certified by a plan that meets the targets with no limited primary or capacity.

    ``ray`` covers the rows the pricing problem holds; scaled up, it meets the others (a quality-weighted need's
    rows at its makers' lower levels) too where it makes a positive share of each target: it is scaled by the
    largest of those shares' inverses."""
    m, n = prob.shape
    made = prob.net @ ray
    pos = prob.target > 0
    share = float(np.min(made[pos] / prob.target[pos])) if pos.any() else 1.0
    if 0 < share < 1:
        ray, made = ray / share, made / share
    shortfall = float(np.max(np.maximum(prob.target - made, 0.0)) / np.max(prob.target))
    fa = np.isfinite(prob.available)
    use = prob.primary[fa] @ ray if fa.any() else np.zeros(0)
    used_cap = ray[np.isfinite(prob.capacity)]
    bad = max(shortfall, float(np.max(use, initial=0.0)), float(np.max(used_cap, initial=0.0)))
    status: Status = "unbounded" if bad <= 1e-9 else "stopped"
    return FastResult(status, math.inf, ray, np.zeros(m), np.zeros(prob.primary.shape[0]), np.zeros(n), iterations,
                      time.perf_counter() - start, bad, 0.0, 0.0, "leontief-cg",
                      "the targets can be met without using any limited primary or capacity", stats)


def highs_lp(prob: _Problem, cost: FloatArray, ray: bool, tol: float,
             time_limit: float | None) -> tuple[LpSolution, FloatArray, FloatArray, FloatArray]:
    """HiGHS on the whole LP of ``prob``, through :class:`~needplan.plan.lp.HighsSession` (so with its unit-free
    verification, tight re-solve and row scaling): ``net x - lam target >= 0`` with ``lam`` last (``ray``) or
    ``net x >= target``, ``primary x <= available``, ``0 <= x <= capacity``; minimises ``cost`` (over ``x`` and
    ``lam``). Returns the solution and the duals as fast reports them, all >= 0: per net row, per primary and
    per capacity (not yet normalised)."""
    N, P, a, u, t = prob.net, prob.primary, prob.available, prob.capacity, prob.target
    m, n = prob.shape
    fa = np.flatnonzero(np.isfinite(a))
    extra = 1 if ray else 0
    A = sp.vstack([sp.hstack([N, sp.csr_matrix(-t.reshape(-1, 1))]) if ray else N,
                   sp.hstack([P[fa], sp.csr_matrix((fa.size, 1))]) if ray else P[fa]], format="csr")
    lp = LinearProgram(A, np.concatenate([np.zeros(m) if ray else t, np.full(fa.size, -np.inf)]),
                       np.concatenate([np.full(m, np.inf), a[fa]]), cost, np.zeros(n + extra),
                       np.concatenate([u, np.full(extra, np.inf)]), maximize=ray)
    sol = HighsSession(lp, tolerance=tol, time_limit=time_limit, ipm_from_rows=IPM_FROM_ROWS).run()
    if sol.x.size == 0:
        return sol, np.zeros(m), np.zeros(P.shape[0]), np.zeros(n)
    # Minimisation convention: a >= row's dual is >= 0, a <= row's <= 0, an upper-bounded column's <= 0.
    p = np.maximum(sol.row_dual[:m], 0.0)
    pi = np.zeros(P.shape[0])
    pi[fa] = np.maximum(-sol.row_dual[m:], 0.0)
    mu = np.maximum(-sol.col_dual[:n], 0.0)
    mu[~np.isfinite(u)] = 0.0
    return sol, p, pi, mu


def _highs_full(prob: _Problem, tol: float, time_limit: float | None, start: float, method: str) -> FastResult:
    """HiGHS on the full ray LP, with the same certificate (the exact fallback)."""
    N, P, a, u, t = prob.net, prob.primary, prob.available, prob.capacity, prob.target
    n = prob.shape[1]
    cost = np.zeros(n + 1)
    cost[n] = -1.0
    sol, p, pi, mu = highs_lp(prob, cost, True, tol, time_limit)
    if sol.status in ("infeasible", "unbounded"):
        return _empty_result(prob, sol.status, math.nan if sol.status == "infeasible" else math.inf, method,  # type: ignore[arg-type]
                             sol.message, start)
    if sol.status != "optimal" or sol.x.size == 0:
        return _empty_result(prob, "stopped", math.nan, method, sol.message, start)
    lam = float(sol.x[n])
    x = np.clip(sol.x[:n], 0.0, u)
    tp = float(t @ p)
    if tp > 0:
        p, pi, mu = p / tp, pi / tp, mu / tp
    cert = certify(N, P, a, u, t, lam, x, p, pi, mu, floor_above=tol)
    ok = cert.within(tol)
    return FastResult("optimal" if ok else "stopped", lam, x, p, pi, mu, sol.iterations, time.perf_counter() - start,
                      cert.primal_residual, cert.dual_residual, cert.gap, method, fallback_message(sol, ok))


def fallback_message(sol: LpSolution, certified: bool) -> str:
    """What a fallback to HiGHS adds to fast's message: HiGHS's own words where they say more than "Optimal" (which
    method answered), or why a finished answer is not called optimal."""
    if not certified:
        return "HiGHS finished but its answer is not within tolerance on the certificate"
    return "" if sol.message == "Optimal" else f"HiGHS: {sol.message}"
