"""The Leontief core: pure functions over sparse matrices, no economy objects, no files, no state.

Notation (products x products, one chosen technique per product, amounts per unit of the product's gross output):

* ``A``: the net technology matrix, ``A[i, j]`` = product ``i`` used minus product ``i`` made jointly, per unit of
  product ``j``. Without joint products ``A >= 0`` and the economy is productive iff the spectral radius of ``A``
  is below one.
* ``R``: primary inputs (kinds of labour, resources) per unit of each product, primaries x products.

Systems are solved, never inverted. ``solve`` runs the Neumann iteration ``x <- d + A x`` (one sparse
matrix-vector product per step, converging whenever the economy is productive) with a residual test, and falls
back to a sparse LU factorisation for small systems or when the iteration converges too slowly or diverges.
Large products run on two threads (:class:`RowBlocks`). For solvers that solve one square block many times,
:class:`JacobiDeflation` takes the block's Perron root out of the Jacobi iteration's error.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from scipy.optimize import linprog

Method = Literal["auto", "neumann", "direct"]
FloatArray = NDArray[np.float64]

RATE_WINDOW = 8
"""Steps over which the Neumann iteration measures its contraction rate before deciding to hand over."""

DIRECT_LIMIT = 50_000
"""Above this many products a sparse LU of a random-structured economy fills in beyond memory: never try it."""

LP_CHECK_LIMIT = 20_000
"""Up to this many products, an economy with joint products that fails the quick tests is checked by an LP."""

EQUILIBRATION_ROUNDS = 8
"""Rounds of row and column scaling (geometric means) before that LP."""

PERRON_ACCURACY = 1e-3
"""Relative eigen-residual at which :func:`perron_deflation` accepts its pair: the Perron component of the error
then shrinks by about this much per step instead of by ``rho``."""

PERRON_STEPS = 60
"""Power-iteration steps :func:`perron_deflation` allows itself before doing without the pair."""

_TINY_NORM = 1e-300

PARALLEL_FROM = 400_000
"""Sparse products over at least this many stored entries run as two row blocks on two threads
(:class:`RowBlocks`; scipy's product releases the GIL). Measured on this 2-core box at 10^6 entries: 0.61 ms
against 0.97 ms for one product."""

_POOL: list[tuple[int, ThreadPoolExecutor]] = []  # (the process that made it, the pool)

SMALL_SYSTEM = 200
"""Below this many products ``auto`` factorises directly: the LU costs less than a few iterations."""


@dataclass(frozen=True)
class SolveReport:
    """How a Leontief system was solved.

    ``method`` is ``"neumann"``, ``"direct"`` or ``"neumann->direct"`` (the iteration gave up and the direct
    solve finished the job); ``residual`` is the largest relative residual of any product's equation, against
    that equation's own flows: ``|((I - A) x - d)_i| / max(|x_i|, (|A| |x|)_i, |d_i|)``, over the right-hand sides,
    recomputed from the returned solution (free of the products' units: measured against the largest final demand,
    a good counted in grams beside others in kilotonnes let the rest stop 0.27% short, and multipliers of 10^9
    read as unsolved); ``converged`` says whether it is within the solve's tolerance; ``seconds`` is wall time.
    """

    method: str
    iterations: int
    residual: float
    seconds: float
    converged: bool

    def combine(self, other: SolveReport) -> SolveReport:
        """The report of two solves done one after the other (methods joined, iterations and time added)."""
        method = self.method if self.method == other.method else f"{self.method}+{other.method}"
        return SolveReport(
            method,
            self.iterations + other.iterations,
            max(self.residual, other.residual),
            self.seconds + other.seconds,
            self.converged and other.converged,
        )


class NotProductiveError(ValueError):
    """The system ``(I - A) x = d`` has no nonnegative solution: the economy cannot produce a net surplus."""

    def __init__(self, message: str, products: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.products = products


def _relative_residual(A: sp.csr_matrix, x: FloatArray, d: FloatArray, r: FloatArray | None = None) -> float:
    """The largest ``|((I - A) x - d)_i|`` relative to product ``i``'s own flows (see :class:`SolveReport`); ``r``,
    the residual ``d - (I - A) x`` where the caller has it already."""
    if r is None:
        r = d - x + A @ x
    ax = np.abs(x)
    used = (abs_matvec(A, ax) if ax.ndim == 1
            else np.column_stack([abs_matvec(A, c) for c in ax.T]) if ax.shape[1] else np.zeros_like(ax))
    return _worst_share(r, np.maximum(np.maximum(ax, used), np.abs(d)))  # (a sum could overflow near 1e308)


def _worst_share(r: FloatArray, scale: FloatArray) -> float:
    """``max |r_i| / scale_i``, where a zero residual counts 0 whatever its scale (an unused product)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(r != 0, np.abs(r) / scale, 0.0)
    return float(np.max(share, initial=0.0)) if np.all(np.isfinite(r)) else math.inf


DIRECT_REFINE_ROUNDS = 3
"""Rounds of iterative refinement after a direct solve at most (each kept only where it lowers the residual)."""


def _direct(A: sp.csr_matrix, d: FloatArray) -> FloatArray:
    """``(I - A)^{-1} d`` by a sparse LU; raises :class:`NotProductiveError` where ``I - A`` is singular (a
    product that uses as much of itself as it makes: no gross output delivers a net surplus of it)."""
    n = A.shape[0]
    M = (sp.identity(n, format="csc") - A.tocsc()).tocsc()
    try:
        lu = spla.splu(M)
    except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
        raise NotProductiveError(f"I - A is singular ({exc}): some products use up exactly as much of each other "
                                 "as they make") from None
    d = np.ascontiguousarray(d, dtype=np.float64)
    x = np.asarray(lu.solve(d), dtype=np.float64)
    # Iterative refinement with the same factors, kept while it lowers the residual relative to each product's
    # flows: goods counted in units 10^8 apart left 1.1e-11 after the solve, "too ill-conditioned for double
    # precision", and one round brings it to 4e-16 (a helper's fuzzing; 400 products, spectral radius 0.99).
    worst = _relative_residual(A, x, d)
    for _ in range(DIRECT_REFINE_ROUNDS):
        if not worst > 0:
            break
        better = x + np.asarray(lu.solve(d - M @ x), dtype=np.float64)
        now = _relative_residual(A, better, d)
        if not now < worst:
            break
        x, worst = better, now
    return x


def solve(
    A: sp.spmatrix | sp.sparray,
    d: FloatArray,
    *,
    transpose: bool = False,
    tol: float = 1e-12,
    max_iter: int = 2000,
    method: Method = "auto",
) -> tuple[FloatArray, SolveReport]:
    """Solve ``(I - A) x = d`` (or ``(I - A)^T x = d`` with ``transpose``) for one or several right-hand sides.

    ``A`` is n x n; ``d`` has shape (n,) or (n, k) in the units of the products (or, transposed, of whatever the
    right-hand side measures per unit of product). Returns ``x`` with the shape of ``d`` and a
    :class:`SolveReport`. The Neumann iteration stops when the relative residual is at most ``tol``; it hands
    over to the direct solve when its observed contraction rate says that ``max_iter`` steps will not do, or when
    it diverges (a direct solve of a non-productive system still returns the unique solution, which may be
    negative: use :func:`check_productive` to refuse such systems). Raises :class:`NotProductiveError` where
    ``I - A`` is singular. A solution beyond double precision (a huge ``d``) comes back with infinite or NaN
    entries and a report that is not converged, without a warning.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # overflow shows in x and the report, not as a warning
        return _solve(A, d, transpose=transpose, tol=tol, max_iter=max_iter, method=method)


def _solve(A: sp.spmatrix | sp.sparray, d: FloatArray, *, transpose: bool, tol: float, max_iter: int,
           method: Method) -> tuple[FloatArray, SolveReport]:
    start = time.perf_counter()
    Acsr = sp.csr_matrix(A.T if transpose else A, dtype=np.float64)
    n = Acsr.shape[0]
    if Acsr.shape != (n, n):
        raise ValueError(f"A must be square, got shape {Acsr.shape}")
    rhs = np.asarray(d, dtype=np.float64)
    if rhs.shape[0] != n:
        raise ValueError(f"d has {rhs.shape[0]} rows, A has {n}")
    if not np.all(np.isfinite(rhs)):
        raise ValueError("d has non-finite entries")
    if method == "auto" and n < SMALL_SYSTEM:
        method = "direct"
    accepted = max(tol * 10, 1e-14)  # the converged report's residual, whoever solved it
    if method == "direct":
        x = _direct(Acsr, rhs)
        res = _relative_residual(Acsr, x, rhs)
        return x, SolveReport("direct", 0, res, time.perf_counter() - start, res <= accepted)

    # Neumann: x_k = sum_{i<=k} A^i d. Whatever the current x, its residual r = d - (I - A) x moves to A r when r
    # is added to x, so the residual is carried along for free: one sparse product per step. The steps are judged
    # against the largest final demand (cheap, and steady enough for the contraction rate); each round's end against
    # every product's own flows (the report's residual), and where that falls short the next round aims lower.
    norm_d = np.max(np.abs(rhs), axis=0) if rhs.ndim == 2 else np.max(np.abs(rhs), initial=0.0)
    norm_d = np.where(norm_d > 0, norm_d, 1.0)

    def relative(v: FloatArray) -> float:
        nv = np.max(np.abs(v), axis=0) if v.ndim == 2 else np.max(np.abs(v), initial=0.0)
        return float(np.max(nv / norm_d, initial=0.0))

    x = rhs.copy()
    products = RowBlocks(Acsr)  # two threads for a large A
    r = products.dot(rhs)
    it = 1
    history: list[float] = []
    gave_up = False
    aim = tol
    res = math.inf
    for refinement in range(4):
        while True:
            rel = relative(r)
            history.append(rel)
            if rel <= aim or not np.isfinite(rel):
                break
            # The contraction rate is judged over a window, not one step: with joint products A has negative
            # entries and the residual may rise for a step or two in a run that converges.
            if len(history) > RATE_WINDOW and history[-1 - RATE_WINDOW] > 0:
                rate = (rel / history[-1 - RATE_WINDOW]) ** (1.0 / RATE_WINDOW)
                needed = math.log(aim / rel) / math.log(rate) if rate < 1 else math.inf
                if it + needed > max_iter:
                    gave_up = refinement == 0  # (later, the rounding floor of the aim, not the economy)
                    break
            if it >= max_iter:
                gave_up = refinement == 0
                break
            x += r
            r = products.dot(r)
            it += 1
        if gave_up or not np.isfinite(rel):
            break
        x += r  # the last residual is below its aim; adding it is one more Neumann term for free
        # The carried residual drifts from the true one by rounding (more so with the negative entries of joint
        # products): recompute it, and refine from it when it is not yet small enough.
        r = rhs - x + products.dot(x)
        res = _relative_residual(Acsr, x, rhs, r)
        if res <= accepted:
            break
        # A good in grams beside goods in kilotonnes: a step 1e-12 of the largest demand is 1e-3 of the others.
        aim = min(aim, relative(r)) * max(0.5 * accepted / res, 1e-8)
        history.clear()
    failed = gave_up or not np.isfinite(rel)
    if not failed and res <= accepted:
        return x, SolveReport("neumann", it, res, time.perf_counter() - start, True)
    if failed:  # (otherwise res is the last round's, of this x)
        res = _relative_residual(Acsr, x, rhs)
    if method == "neumann" or (not failed and n > DIRECT_LIMIT):
        # (Refined four times and still short of it: said so, where the direct solve is not asked for or too big.)
        return x, SolveReport("neumann", it, res, time.perf_counter() - start, False)
    if n > DIRECT_LIMIT:
        raise NotProductiveError(
            f"the Neumann iteration does not converge within {max_iter} steps (the economy is not productive "
            f"or barely so) and {n} products are too many for a direct solve")
    x = _direct(Acsr, rhs)  # the iteration gave up, or its refinements fell short of the tolerance
    res = _relative_residual(Acsr, x, rhs)
    return x, SolveReport("neumann->direct", it, res, time.perf_counter() - start, res <= accepted)


def gross_output(A: sp.spmatrix | sp.sparray, final_demand: FloatArray, *, tol: float = 1e-12,
                 method: Method = "auto") -> tuple[FloatArray, SolveReport]:
    """Gross output ``x`` (units of each product per period) that delivers ``final_demand``: ``(I - A) x = d``."""
    return solve(A, final_demand, tol=tol, method=method)


def embodied_inputs(A: sp.spmatrix | sp.sparray, R: sp.spmatrix | sp.sparray | FloatArray, *,
                    tol: float = 1e-12, method: Method = "auto") -> tuple[FloatArray, SolveReport]:
    """Primary inputs embodied in one unit of each product ("labour values"), directly and indirectly.

    ``R`` is primaries x products (primary units per unit of product). Returns products x primaries:
    ``v = (I - A)^{-T} R^T``, in primary units per unit of product.
    """
    Rd = sp.csr_matrix(R).toarray() if sp.issparse(R) else np.asarray(R, dtype=np.float64)
    rhs = np.ascontiguousarray(Rd.T, dtype=np.float64)
    return solve(A, rhs, transpose=True, tol=tol, method=method)


def output_multipliers(A: sp.spmatrix | sp.sparray, *, tol: float = 1e-12,
                       method: Method = "auto") -> tuple[FloatArray, SolveReport]:
    """Type I output multipliers: the column sums of the Leontief inverse, ``1^T (I - A)^{-1}``.

    Entry ``j`` is the total gross output of all products (summed in their own units, so meaningful when the
    units are commensurable, e.g. money) needed per unit of final demand for product ``j``.
    """
    n = A.shape[0]
    return solve(A, np.ones(n), transpose=True, tol=tol, method=method)


def leontief_inverse_dense(A: sp.spmatrix | sp.sparray | FloatArray, *, max_size: int = 2000) -> FloatArray:
    """The dense Leontief inverse ``(I - A)^{-1}``, for teaching and small tables only (n <= ``max_size``).

    Computed by solving against the identity, column by column in one factorisation; never use it to compute
    gross output (use :func:`gross_output`).
    """
    Ad = sp.csr_matrix(A).toarray() if sp.issparse(A) else np.asarray(A, dtype=np.float64)
    n = Ad.shape[0]
    if n > max_size:
        raise ValueError(f"a dense inverse of {n} x {n} is refused (max {max_size}); solve instead")
    return np.asarray(np.linalg.solve(np.eye(n) - Ad, np.eye(n)), dtype=np.float64)


class RowBlocks:
    """``M @ v`` for a CSR matrix ``M`` (rows x cols) on two threads, as the products of the two halves of its rows
    (views of its arrays, no copy) stacked: every row is summed as in one product, so the result has the same bits.
    Below :data:`PARALLEL_FROM` entries, one product. (Transposed products split this way need their two partial
    sums added, which cost more than the threads saved at 10^5 goods: measured, not offered.)"""

    def __init__(self, M: sp.csr_matrix) -> None:
        self.M = M
        self.halves: list[sp.csr_matrix] = []
        if M.nnz >= PARALLEL_FROM and M.shape[0] >= 2:
            cut = int(np.searchsorted(M.indptr, M.nnz // 2))
            for r0, r1 in ((0, cut), (cut, M.shape[0])):
                self.halves.append(rows_view(M, r0, r1))

    def dot(self, v: FloatArray) -> FloatArray:
        """``M @ v`` (one vector or one per column)."""
        if not self.halves:
            return np.asarray(self.M @ v)
        first, second = _threads().map(lambda half: np.asarray(half @ v), self.halves)
        return np.concatenate([first, second])


def _threads() -> ThreadPoolExecutor:
    """The two worker threads, made on first use, and again in a forked child (which inherits none of them)."""
    if not _POOL or _POOL[0][0] != os.getpid():
        _POOL[:] = [(os.getpid(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="needplan-spmv"))]
    return _POOL[0][1]


@dataclass(frozen=True)
class PerronDeflation:
    """The dominant (Perron) eigenpair of a Neumann/Jacobi iteration matrix ``G >= 0``, to take out of its error.

    The iteration ``v <- v + delta`` with ``delta = D^{-1} (rhs - B v)`` (``G = I - D^{-1} B``) shrinks its error
    ``e`` to ``G e`` per step, at the rate of ``G``'s spectral radius ``rho``. With ``G phi = rho phi`` and
    ``psi' G = rho psi'`` (``psi' phi = 1``), :meth:`advance` adds ``rho / (1 - rho) (psi' delta) phi`` as well, which
    removes the error's component along ``phi`` in one step and leaves the rest to shrink at the rate of the next
    eigenvalue (``e <- G e - rho (psi' e) phi``): in a sparse random economy the Perron root stands alone (uniform
    family: 0.57 against 0.26 for the next, so 2.4x fewer steps to 1e-10). Dimensionless; ``phi`` and ``psi`` in
    the units of ``v`` and of its inverse.
    """

    rho: float
    right: FloatArray
    left: FloatArray

    def advance(self, v: FloatArray, delta: FloatArray) -> None:
        """Add the deflated update for the Jacobi update ``delta`` to ``v`` in place (one vector, or one per
        column)."""
        v += delta
        # einsum, not BLAS: a threaded dot of one vector costs more in waking threads than in arithmetic
        # (measured: 155 us against 39 us a step at 5x10^4 goods on two cores).
        gain = self.rho / (1.0 - self.rho)
        if delta.ndim == 1:
            v += (gain * float(np.einsum("i,i", self.left, delta))) * self.right
        else:
            v += np.outer(self.right, gain * np.einsum("i,ij->j", self.left, delta))

    def transposed(self, scale: FloatArray) -> PerronDeflation:
        """The pair of the transposed iteration ``I - D^{-1} B^T`` (``scale`` = ``D``'s diagonal): the same
        ``rho``, with right vector ``D^{-1} psi`` and left vector ``D phi``."""
        return PerronDeflation(self.rho, self.left / scale, self.right * scale)


def perron_deflation(apply_g: Callable[[FloatArray], FloatArray], apply_gt: Callable[[FloatArray], FloatArray],
                     n: int, *, accuracy: float = PERRON_ACCURACY, max_steps: int = PERRON_STEPS
                     ) -> PerronDeflation | None:
    """The Perron pair of ``G`` (n x n, nonnegative, given by its products ``G v`` and ``G' w``) by power
    iteration, or ``None`` where it is not worth having: no pair within ``accuracy`` (relative eigen-residual) in
    ``max_steps``, ``rho`` not in ``(0, 1)`` (the iteration would not converge anyway), or vectors that are not
    positive in sum. The accuracy asked for tightens to ``(1 - rho) / 10`` near ``rho = 1``, where the deflation's
    gain ``rho / (1 - rho)`` would magnify an inexact pair's error. Costs up to ``2 max_steps`` products, paid
    once per matrix."""
    right, left = np.ones(n), np.ones(n)
    for _ in range(max_steps):
        g_right, g_left = apply_g(right), apply_gt(left)
        rho = float(np.linalg.norm(g_right)) / max(float(np.linalg.norm(right)), _TINY_NORM)
        rho_left = float(np.linalg.norm(g_left)) / max(float(np.linalg.norm(left)), _TINY_NORM)
        if not (math.isfinite(rho) and math.isfinite(rho_left) and rho > 0.0 and rho_left > 0.0):
            return None
        # (an estimate on the way may exceed 1 where the root does not: only the settled one is judged)
        error = max(float(np.linalg.norm(g_right - rho * right)) / (rho * float(np.linalg.norm(right))),
                    float(np.linalg.norm(g_left - rho_left * left)) / (rho_left * float(np.linalg.norm(left))))
        if error <= accuracy and rho >= 1.0:
            return None  # settled at or above 1: not productive
        done = error <= min(accuracy, 0.1 * (1.0 - rho))
        right, left = g_right / np.linalg.norm(g_right), g_left / np.linalg.norm(g_left)
        if done:
            overlap = float(left @ right)
            if overlap <= 0.0 or abs(rho - rho_left) > accuracy * rho:
                return None
            return PerronDeflation(rho, right, left / overlap)
    return None


class JacobiDeflation:
    """The Perron pair of the Jacobi iteration on one square ``B`` with diagonal ``diag`` (> 0),
    ``G = I - D^{-1} B``, found on first use (:func:`perron_deflation`) and kept; the pair for ``B'`` is derived
    from it when asked for (:meth:`PerronDeflation.transposed`).

    :meth:`pair` is ``None`` where the block has no clear Perron root, where ``enabled`` is false, and after
    :meth:`drop` (a solver whose deflated iteration failed goes on without it). The products ``B v`` and ``B' w``
    are passed to :meth:`pair`, not kept: a solver holding this object and handing it its own bound methods would
    make a reference cycle, which frees the solver's arrays only when the garbage collector next runs (measured,
    with the transposed pair kept as well: 120 MiB more at the peak of ``needplan plan`` at 10^6 goods)."""

    def __init__(self, diag: FloatArray, *, enabled: bool = True) -> None:
        self._diag = diag
        self._pair: PerronDeflation | bool | None = False if enabled else None

    def pair(self, transposed: bool, apply_b: Callable[[FloatArray], FloatArray],
             apply_bt: Callable[[FloatArray], FloatArray]) -> PerronDeflation | None:
        """The pair for ``B v = rhs`` (``transposed=False``) or ``B' p = rhs``; ``apply_b`` and ``apply_bt`` give
        ``B v`` and ``B' w``."""
        d = self._diag
        if self._pair is False:
            self._pair = perron_deflation(lambda v: v - apply_b(v) / d, lambda w: w - apply_bt(w / d), d.size)
        if not isinstance(self._pair, PerronDeflation):
            return None
        return self._pair.transposed(d) if transposed else self._pair

    def drop(self) -> None:
        """Do without the pair from now on."""
        self._pair = None


def _spectral_radius(block: sp.csr_matrix) -> float:
    n = block.shape[0]
    if n <= 1500:
        eig = np.linalg.eigvals(block.toarray())
        return float(np.max(np.abs(eig), initial=0.0))
    v = np.ones(n) / n
    lam = 0.0
    for _ in range(500):
        w = block @ v
        lam = float(np.abs(w).sum())
        if lam == 0:
            return 0.0
        v = np.abs(w) / lam
    return lam


def _is_surplus_plan(A: sp.csr_matrix, x: FloatArray) -> bool:
    """Whether ``max(x, 0)`` is a plan with a net surplus of every product, ``(I - A) x > 0``, by more than the
    rounding of each product's own gross flows (a test that does not depend on the units they are counted in)."""
    if not np.all(np.isfinite(x)):
        return False
    xp = np.maximum(x, 0.0)
    net = xp - A @ xp
    nonneg = A.nnz == 0 or float(A.data.min()) >= 0
    absA = A if nonneg else sp.csr_matrix((np.abs(A.data), A.indices, A.indptr), shape=A.shape)
    flows = xp + absA @ xp
    # A bound on the rounding error of each net output: a few ulps per term of its row.
    rounding = 4.0 * np.finfo(np.float64).eps * (np.diff(A.indptr) + 1.0) * flows
    return bool(np.all(net > rounding) and np.all(net > 0))


def _positive_part(A: sp.csr_matrix) -> sp.csr_matrix:
    """``max(A, 0)`` without stored zeros (a copy)."""
    positive = A.copy()
    positive.data = np.where(positive.data > 0, positive.data, 0.0)
    positive.eliminate_zeros()
    return positive


def _surplus_possible(A: sp.csr_matrix) -> bool:
    """Whether some ``x >= 0`` has ``(I - A) x >= 1`` (a positive net output of every product), by an LP: the
    definition of productive, free of units, for any sign of ``A``."""
    n = A.shape[0]
    M = sp.csr_matrix(sp.identity(n, format="csr") - A)
    # Feasibility does not change when rows and columns are scaled by positive numbers (the right-hand side
    # stays a positive vector, and x can be scaled): balance them, so that products counted in very different
    # units do not leave coefficients below the solver's tolerances.
    r, c = equilibrate(M, EQUILIBRATION_ROUNDS)
    S = sp.csr_matrix(sp.diags(r) @ M @ sp.diags(c))
    for method in ("highs", "highs-ipm"):
        res = linprog(np.zeros(n), A_ub=-S, b_ub=-np.ones(n), bounds=(0, None), method=method)
        if res.status in (0, 2):  # a plan found, or proven impossible
            break
        # HiGHS's simplex ends without an answer ("Unknown") on some economies whose goods are counted in units
        # 10^12 apart, where its interior point method finds the surplus plan (a helper's fuzzing: 27 products
        # with joint products, refused as not productive).
    return bool(res.status == 0)


def geometric_spread(M: sp.csr_matrix) -> FloatArray:
    """Per row, ``sqrt(max |m| * min |m|)`` over its nonzero entries (1 for a row without any): the row's scale,
    for equilibrating a matrix whose rows are in very different units."""
    return _row_spread(np.abs(M.data), M.indptr)


def _zeros_as_inf(data: FloatArray) -> FloatArray:
    """``data`` (nonnegative) with its zeros as ``inf``; ``data`` itself when it has none (no copy of 10^7 entries)."""
    return data if data.size == 0 or float(data.min()) > 0 else np.where(data > 0, data, np.inf)


def _row_spread(data: FloatArray, indptr: NDArray[np.integer], negligible: float = 0.0) -> FloatArray:
    """:func:`geometric_spread` of the CSR rows with nonnegative values ``data`` (entries below ``negligible``
    times their row's largest do not count as its smallest)."""
    out = np.ones(indptr.size - 1)
    rows = np.flatnonzero(np.diff(indptr) > 0)
    if rows.size:
        starts = indptr[rows]
        top = np.maximum.reduceat(data, starts)
        low = _zeros_as_inf(data)  # stored zeros do not count
        if negligible > 0:
            low = np.where(data >= negligible * np.repeat(top, np.diff(indptr)[rows]), low, np.inf)
        bottom = np.minimum.reduceat(low, starts)
        out[rows] = np.where(top > 0, _geometric_mean(top, bottom), 1.0)
    return out


def _column_spread(data: FloatArray, indices: NDArray[np.integer], n: int) -> FloatArray:
    """:func:`geometric_spread` of the columns of a CSR matrix with nonnegative values ``data``."""
    top = np.zeros(n)
    np.maximum.at(top, indices, data)
    bottom = np.full(n, np.inf)
    np.minimum.at(bottom, indices, _zeros_as_inf(data))
    return np.where(top > 0, _geometric_mean(top, bottom), 1.0)


def _geometric_mean(top: FloatArray, bottom: FloatArray) -> FloatArray:
    """``sqrt(top * bottom)`` where ``top > 0``, else 1, taken as ``sqrt(top) sqrt(bottom)``: the product of entries
    near 1e308 (or 1e-300) would overflow (underflow) where their geometric mean does not."""
    return np.sqrt(top) * np.sqrt(np.where(top > 0, bottom, 1.0))


def power2_factor(spread: FloatArray, beyond: float) -> FloatArray:
    """Per entry, ``2^-k`` where ``spread`` is about ``2^k`` with ``|k| > beyond``, else 1: the power of 2 that
    brings a row or column of that :func:`geometric_spread` near 1, only when it is that far from it."""
    k = np.round(np.log2(spread))
    return np.asarray(np.exp2(-np.where(np.abs(k) > beyond, k, 0.0)), dtype=np.float64)


def equilibrate(M: sp.spmatrix | sp.sparray, rounds: int, *, beyond: float | None = None,
                row_by: NDArray[np.bool_] | None = None) -> tuple[FloatArray, FloatArray]:
    """Row and column scales ``(r, c)`` that bring every row's and column's :func:`geometric_spread` of
    ``diag(r) M diag(c)`` near 1, by alternating rounds (columns first) until a round changes nothing.

    ``beyond=None``: exact scales. Otherwise powers of 2 (exact in floating point), and only for rows and
    columns whose spread is beyond ``2^±beyond`` (the rest keep 1: a matrix already near unit scale is left as
    it is, at the cost of one pass over its entries). Neither ``|M|`` nor a scaled copy of it is made: the
    passes go by blocks of :data:`ABS_BLOCK` entries (at 10^6 goods a copy of the LP's values is 100 MiB).
    ``row_by``: the columns whose entries set a row's spread (rows with none of them: all its entries), so that
    the entries of other columns (a plan's fulfilment, whose entries are the targets) do not pull a row's scale.
    """
    csr = sp.csr_matrix(M)
    m, n = csr.shape
    r, c = np.ones(m), np.ones(n)
    ranges = row_ranges(csr.indptr)

    def factor(spread: FloatArray) -> FloatArray:
        return 1.0 / spread if beyond is None else power2_factor(spread, beyond)

    def scaled(r0: int, r1: int) -> tuple[FloatArray, NDArray[np.integer], NDArray[np.integer]]:
        block = rows_view(csr, r0, r1, absolute=True)
        data, indices, indptr = block.data, block.indices, block.indptr
        if not (np.all(r == 1.0) and np.all(c == 1.0)):
            data = data * np.repeat(r[r0:r1], np.diff(indptr)) * c[indices]
        return data, indices, indptr

    # Amounts near 1e300 (outputs of 1e-300) overflow the scaled entries: their rows and columns get scales of
    # 0, inf or nan, which the caller's check or solver then refuses (not productive; HiGHS: LpScaleError).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(rounds):
            top, bottom = np.zeros(n), np.full(n, np.inf)
            for r0, r1 in ranges:
                data, indices, _ = scaled(r0, r1)
                np.maximum.at(top, indices, data)
            # (a second pass: an activity's entry is negligible against its column's largest)
            negligible = np.zeros(n) if row_by is None else np.where(row_by, NEGLIGIBLE_ENTRY * top, 0.0)
            for r0, r1 in ranges:
                data, indices, _ = scaled(r0, r1)
                low = np.where(data >= negligible[indices], _zeros_as_inf(data), np.inf)
                np.minimum.at(bottom, indices, low)
            col_f = factor(np.where(top > 0, _geometric_mean(top, bottom), 1.0))
            c *= col_f
            row_spread = np.ones(m)
            for r0, r1 in ranges:
                data, indices, indptr = scaled(r0, r1)
                row_spread[r0:r1] = _row_spread(data, indptr)
                if row_by is not None:
                    own = np.where(row_by[indices], data, 0.0)
                    counted = np.concatenate([[0], np.cumsum(own > 0)])
                    has = counted[indptr[1:]] > counted[indptr[:-1]]
                    row_spread[r0:r1] = np.where(has, _row_spread(own, indptr, NEGLIGIBLE_ENTRY),
                                                 row_spread[r0:r1])
            row_f = factor(row_spread)
            r *= row_f
            if np.all(col_f == 1.0) and np.all(row_f == 1.0):
                break
    return r, c


NEGLIGIBLE_ENTRY = 1e-14
"""In :func:`equilibrate` with ``row_by``, the activities' entries below this share of their row's or column's
largest activity entry do not set its smallest (the other columns' entries, targets, are data and always count):
rounding left by a product-technology import (1e-23 beside 1) scaled a need's column by 2^37 and its row by 2^-37,
and HiGHS left the need at 0 (fuzzing of real tables)."""

ABS_BLOCK = 1 << 20
"""Entries per block of rows in the passes over ``|M|`` (:func:`abs_matvec`, :func:`abs_rmatvec`,
:func:`equilibrate`)."""


def row_ranges(indptr: NDArray[np.integer]) -> list[tuple[int, int]]:
    """Consecutive row ranges of a CSR matrix with about :data:`ABS_BLOCK` entries each (a row is never split)."""
    nnz = int(indptr[-1])
    cuts = np.unique(np.concatenate([[0], np.searchsorted(indptr, np.arange(ABS_BLOCK, nnz, ABS_BLOCK)),
                                     [indptr.size - 1]]))
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


def rows_view(M: sp.csr_matrix, r0: int, r1: int, *, absolute: bool = False) -> sp.csr_matrix:
    """Rows ``r0:r1`` of ``M`` sharing its column indices and values (``absolute``: new values ``|m|``); only
    the row pointers are new. Read only."""
    lo, hi = int(M.indptr[r0]), int(M.indptr[r1])
    # Set after construction: scipy's constructor copies a view under half its base ("prune").
    view = sp.csr_matrix((r1 - r0, M.shape[1]), dtype=M.dtype)
    view.indptr = (M.indptr[r0:r1 + 1] - lo).astype(M.indptr.dtype)
    view.indices, view.data = M.indices[lo:hi], np.abs(M.data[lo:hi]) if absolute else M.data[lo:hi]
    return view


def abs_matvec(M: sp.csr_matrix, v: FloatArray) -> FloatArray:
    """``|M| @ v`` by blocks of rows: no copy of ``|M|`` (at 10^6 goods one is 100 MiB)."""
    out = np.zeros(M.shape[0])
    for r0, r1 in row_ranges(M.indptr):
        out[r0:r1] = rows_view(M, r0, r1, absolute=True) @ v
    return out


def abs_rmatvec(M: sp.csr_matrix, w: FloatArray) -> FloatArray:
    """``|M|.T @ w`` by blocks of rows, as :func:`abs_matvec`."""
    out = np.zeros(M.shape[1])
    for r0, r1 in row_ranges(M.indptr):
        out += rows_view(M, r0, r1, absolute=True).T @ w[r0:r1]
    return out


def check_productive(A: sp.spmatrix | sp.sparray, *, tol: float = 1e-12,
                     max_iter: int = 5000) -> tuple[bool, tuple[int, ...]]:
    """Whether the economy can produce a net surplus of every product, and if not, which products block it.

    Productive means ``(I - A) x = 1`` has a solution ``x >= 0``; for ``A >= 0`` this is spectral radius < 1.
    Cheap sufficient tests (column or row sums below one) are tried first, then the Neumann iteration (which
    for ``A >= 0`` converges exactly when the economy is productive), with a direct solve only for systems of
    at most :data:`DIRECT_LIMIT` products. When the economy is not productive, the returned products are those
    of the strongly connected groups of ``A`` whose own spectral radius is at least one (the self-reproducing
    loops that use more than they make); failing that, those whose required gross output comes out negative or
    infinite.
    """
    Acsr = sp.csr_matrix(A, dtype=np.float64)
    n = Acsr.shape[0]
    if n == 0:
        return True, ()
    nonneg = Acsr.nnz == 0 or float(Acsr.data.min()) >= 0
    if nonneg:
        col = np.asarray(Acsr.sum(axis=0)).ravel()
        row = np.asarray(Acsr.sum(axis=1)).ravel()
        if col.max() < 1 or row.max() < 1:
            return True, ()
    positive = _positive_part(Acsr) if not nonneg else None  # a copy of A: only made when it is needed
    if positive is not None and check_productive(positive, tol=tol, max_iter=max_iter)[0]:
        # Joint products (the negative entries) only add to net output: productive without them is productive.
        # (Solving (I - A) x = 1 directly is not a test when A has negative entries: whether x >= 0 then depends
        # on the units, e.g. a joint product of grain counted per tonne instead of per kilotonne.)
        return True, ()
    method: Method = "auto" if n <= DIRECT_LIMIT else "neumann"
    try:
        x, _ = solve(Acsr, np.ones(n), tol=tol, method=method, max_iter=max_iter)
    except NotProductiveError:  # I - A singular: no x solves it; the groups that block are found below
        x = np.full(n, np.nan)
    if _is_surplus_plan(Acsr, x):
        # Whether or not the iteration met its tolerance: goods counted in units far apart (x from 1e-6 to 1e8)
        # leave a residual that is small only relative to each product's own flows.
        return True, ()
    if np.all(np.isfinite(x)) and np.all(x > 0):
        # A surplus of one unit of each good is lost in the rounding of a good whose flows are 1e14 of its units;
        # asking for a surplus in proportion to each good's flows is the same test, free of units.
        x, _ = solve(Acsr, x, tol=tol, method=method, max_iter=max_iter)
        if _is_surplus_plan(Acsr, x):
            return True, ()
    if not nonneg and n <= LP_CHECK_LIMIT and _surplus_possible(Acsr):
        return True, ()
    positive = _positive_part(Acsr) if positive is None else positive
    n_comp, labels = sp.csgraph.connected_components(positive, directed=True, connection="strong")
    # Single products loop back on themselves only through their own use; larger groups are few.
    sizes = np.bincount(labels, minlength=n_comp)
    diag = positive.diagonal()
    blocking: list[int] = [int(i) for i in np.flatnonzero((sizes[labels] == 1) & (diag >= 1 - 1e-12))]
    for c in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(labels == c)
        sub = sp.csr_matrix(positive[members][:, members])
        if _spectral_radius(sub) >= 1 - 1e-12:
            blocking.extend(int(m) for m in members)
    if not blocking and nonneg:
        # Nonnegative A is productive exactly when every strongly connected group's spectral radius is below one.
        return True, ()
    if not blocking:
        bad = ~np.isfinite(x) | (x < -1e-9)
        blocking = [int(i) for i in np.flatnonzero(bad)]
    return False, tuple(sorted(blocking))
