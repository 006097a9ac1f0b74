"""The harmony objective on a Leontief economy (one technique per product), solved through its smooth dual.

With one technique per product and no joint products the plan is ``x = B^{-1} y`` for the final outputs ``y >= 0``
(``B`` the square block of the techniques, ``B^{-1} >= 0``), so the harmony plan is

    max sum_g w_g H(y_g / T_g - 1)   s.t.   P B^{-1} y <= a (primaries),   (B^{-1} y)_j <= u_j (capacities),

``T_g`` the target on a need's row. Its Lagrangian dual over the prices ``mu >= 0`` of the primaries and the rents
``rho >= 0`` of the capacities is

    D(mu, rho) = mu a + rho u + sum_g max_{s >= -1} [w_g H(s) - p_g T_g (1 + s)],   p = B^{-T} (P^T mu + rho),

the Leontief prices at those costs. ``H`` is strictly concave, so the inner maximum is unique and in closed form
(``H'(s) = p_g T_g / w_g``), and ``D`` is convex and differentiable: its gradient is the slack of each limit at the
plan the prices call for. One evaluation is one transposed and one forward Leontief solve (Neumann iterations, no
factorisation). The dual is minimised in two phases: L-BFGS-B over every limit, then Newton's method. That is
first matrix-free: projected Newton steps over the limits priced or violated, each solved by conjugate gradients
whose Hessian products are two Leontief solves (``H = R diag(-dy/dp) R'``, ``R`` the Leontief inverse's rows of
the limits at the needs), preconditioned by the same product with ``R`` from the first three terms of the Neumann
series (sparse, its small entries dropped, factorised by sparse LU). Where that does not certify, the dense
variant: the rows ``R`` of the limits it finds binding (one transposed solve each) make a small dense reduced
problem, widened by any limit the plan then violates and narrowed by any whose rent turns negative.

Every answer is certified: the plan the final prices call for, scaled down to meet every limit, is feasible, and
its harmony is within ``tol * max(unit, |harmony|)`` (:func:`~needplan.plan.model.harmony_unit`) of ``D`` (weak
duality) or the solve returns ``None`` and says why, for the caller's cutting planes. This module reads no files
and builds no model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.sparse.linalg import splu

from needplan.leontief import JacobiDeflation, RowBlocks
from needplan.plan.model import harmony, harmony_slope, harmony_unit

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

LBFGS_ITERATIONS = 100
"""Iterations of the first phase before Newton's method takes over (it finds the binding limits)."""
NEWTON_ROUNDS = 60
"""Rounds of widening or narrowing the set of binding limits."""
MATRIX_FREE_FIRST = True
"""Newton's phase is first the matrix-free one (:func:`_newton_cg`), then, where it does not certify and the rows
fit :data:`MAX_DENSE`, the dense one. Measured (uniform family, seed 1, this 2-core machine, the two alternated
in one process, median of 5; docs/benchmarks.md): 300 goods 0.27 s against 0.22 s dense, 1,000 goods 0.43 s
against 0.44 s, 3,000 goods 0.78 s against 0.90 s, 10^4 goods 3.2 s against 8.4 s; 5x10^4 goods 12.7 s and 10^5
goods 58 s, where the dense rows do not fit."""
MAX_DENSE = 50_000_000
"""Newton's phase holds one dense row per binding limit over the needs; beyond this many entries it declines."""
NEWTON_CG_ROUNDS = 200
"""Steps of the matrix-free Newton's method, at most."""
PRECONDITIONER_TERMS = 2
"""Terms of the Leontief inverse's Neumann series beyond the first in the matrix-free phase's preconditioner."""
DROP_BELOW = 0.05
"""Entries of that approximate Hessian below this share of the geometric mean of their diagonal entries are
dropped (their size added to the diagonal): at 5x10^4 goods it keeps 12,115 of ~10^7 entries (measured, uniform
family: 13.0 s against 33.6 s with every entry, 20.6 s at 0.02, 25.0 s at 0.2)."""
CG_MARGIN = 0.1
"""The matrix-free phase steps on until its gap is this share of the tolerance (or it can go no further)."""
D_ROUNDING = 1e-9
"""Relative rounding of one evaluation of the dual allowed for in the matrix-free phase's line search (measured at
5x10^4 goods: 8.5e-7 on a dual of 13,771, 6e-11 of it; 1e-11 allowed stalled that economy with a gap of 0.49)."""
DAMPING = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
"""Levenberg-Marquardt damping of a Newton step whose line search fails, tried in turn, relative to the approximate
Hessian's mean diagonal entry (0: Newton's own step, the usual case)."""
STALL_ROUNDS = 20
"""The matrix-free phase gives up when its gap (the larger of the dual gap and the share the plan must be scaled
down by) has not halved in this many steps: on near-singular blocks (a fuzzed Leontief economy of 100 goods,
Perron root 0.999) it spent 80 s of line searches before an overflow declined it, where Kelley answers in 0.1 s;
the certified runs measured take 7 to 19 steps in all."""
CG_ITERATIONS = 200
"""Conjugate gradient steps per matrix-free Newton step, at most (two Leontief solves each)."""
NEUMANN_RTOL = 1e-13
"""Relative residual of the Leontief solves that certify (and of Newton's phase)."""
DEFLATE = True
"""Whether the Leontief solves take the Perron root out of their Jacobi error (:class:`needplan.leontief.
PerronDeflation`) when the block has a clear one."""
ROWS_RTOL = 1e-10
"""Relative residual of the solves for the binding limits' rows in Newton's phase (the final evaluation certifies;
the rows only steer)."""
ROUGH_RTOL = 1e-8
"""Relative residual of the Leontief solves in the first phase, which only has to find the binding limits."""
_TINY = 1e-300


def best_deviation(ratio: FloatArray) -> FloatArray:
    """The ``s >= -1`` with ``H'(s) = ratio`` (``ratio`` = price x target / weight > 0): ``1 / ratio - 1`` below 1,
    ``1 - ratio`` up to 2, ``-1`` beyond (the need is not worth any output)."""
    r = np.asarray(ratio, dtype=np.float64)
    return np.where(r < 1.0, 1.0 / np.maximum(r, _TINY) - 1.0, np.where(r <= 2.0, 1.0 - r, -1.0))


def _response_slope(s: FloatArray, ratio: FloatArray, most: FloatArray) -> FloatArray:
    """``ds / d ratio`` at the best deviation (0 where it sits at -1 or at its most, ``most``)."""
    inside = (s > -1.0) & (s < most)
    # Floored at 1e-150, not _TINY: a square of 1e-300 underflows to 0 and warns of a division by zero in lanes
    # the mask then drops (a ratio that small puts s beyond any `most`).
    return np.where(inside, np.where(ratio < 1.0, -1.0 / np.maximum(ratio, 1e-150) ** 2, -1.0), 0.0)


@dataclass
class HarmonyAnswer:
    """A certified harmony plan: activities ``x`` per technique, deviation ``s`` per need row, the duals (``p`` per
    net row, ``mu`` per primary, ``rho`` per technique, all >= 0), the harmony ``value``, the dual bound and counts."""

    x: FloatArray
    s: FloatArray
    p: FloatArray
    mu: FloatArray
    rho: FloatArray
    value: float
    bound: float
    evaluations: int
    newton_rounds: int
    neumann_steps: int
    seconds: float
    matrix_free: bool = False
    """Whether Newton's phase was the matrix-free one (conjugate gradients) rather than the dense rows'."""


class LeontiefHarmony:
    """The dual above for one square block (see the module docstring).

    ``net``: rows x techniques (CSR, shared, never changed; its transpose is copied once, in rows), square,
    ``choice[r]`` the technique of row ``r`` and ``diag`` its net output there (> 0); ``primary`` (primaries x
    techniques, >= 0) with ``available``; ``capacity`` per technique (``inf`` = none); ``need_row`` the rows
    carrying needs, their ``target`` (> 0) and ``weight`` (> 0). Units: activities per period, outputs per unit of
    activity; ``mu`` in harmony per unit of the primary, ``rho`` per unit of activity, ``p`` per unit of the row's
    product.
    """

    def __init__(self, net: sp.csr_matrix, choice: IntArray, diag: FloatArray, primary: sp.csr_matrix,
                 available: FloatArray, capacity: FloatArray, need_row: IntArray, target: FloatArray,
                 weight: FloatArray) -> None:
        self.net, self.net_t = net, net.T.tocsr()  # a copy in rows: the products with many columns are faster
        self._net_blocks, self._net_t_blocks = RowBlocks(net), RowBlocks(self.net_t)
        self.choice, self.d = choice, diag
        self.primary = primary
        self.available = available
        self.capacity = capacity
        self.need_row, self.target, self.weight = need_row, target, weight
        self.unit = harmony_unit(weight)
        self.limited = np.flatnonzero(np.isfinite(available))
        self.capped = np.flatnonzero(np.isfinite(capacity))
        self.limits = np.concatenate([available[self.limited], capacity[self.capped]])
        """Each limit's size: the limited primaries', then the capped techniques' (as :meth:`usage` lists them)."""
        self.steps = 0
        self.newton_steps = 0
        self.rtol = NEUMANN_RTOL
        self._p: FloatArray | None = None
        self._v: FloatArray | None = None
        self._deflation = JacobiDeflation(diag, enabled=DEFLATE)
        # The most of each need that any plan can deliver, from each limited primary alone (its use per unit of
        # final output, B^{-T} P_k^T, is the primary's Leontief "value"): a bound on s that no plan exceeds, so
        # capping s there changes no plan and keeps the dual finite where prices are 0.
        self.most = np.full(need_row.size, np.inf)
        self._primary_rows = np.zeros((0, need_row.size))
        if self.limited.size:
            values = self.limit_rows(np.arange(self.limited.size), np.zeros(0, dtype=np.int64))
            self._primary_rows = values
            with np.errstate(divide="ignore"):
                reach = np.where(values > 0, available[self.limited][:, None] / values, np.inf).min(axis=0)
            self.most = reach / target - 1.0

    # --- Leontief solves (Jacobi = Neumann on B = D (I - A); converges for a productive block) -------------
    def _scatter(self, v: FloatArray) -> FloatArray:
        """Activities per technique from the chosen techniques' ``v`` (the others 0)."""
        x = np.zeros(self.net.shape[1])
        x[self.choice] = v
        return x

    def _b(self, v: FloatArray) -> FloatArray:
        return self._net_blocks.dot(self._scatter(v))

    def _bt(self, p: FloatArray) -> FloatArray:
        return self._net_t_blocks.dot(p)[self.choice]

    def _jacobi(self, apply_b: Callable[[FloatArray], FloatArray], rhs: FloatArray, start: FloatArray | None,
                transposed: bool) -> FloatArray:
        deflation = self._deflation.pair(transposed, self._b, self._bt)
        d = self.d if rhs.ndim == 1 else self.d[:, None]
        v = rhs / d if start is None else start.copy()
        scale = max(float(np.max(np.abs(rhs), initial=0.0)), _TINY)
        least = math.inf
        for _ in range(20_000):
            r = rhs - apply_b(v)
            if deflation is None:
                v += r / d
            else:
                deflation.advance(v, r / d)
            self.steps += 1
            size = float(np.max(np.abs(r), initial=0.0))
            if size <= self.rtol * scale:
                return np.asarray(v)
            least = min(least, size)
            if not math.isfinite(size) or (deflation is not None and size > 1e3 * least):
                break  # diverging: with a pair, the plain iteration takes over below
        if deflation is not None:  # an inexact pair must not cost the answer: the plain iteration decides
            self._deflation.drop()
            return self._jacobi(apply_b, rhs, start, transposed)
        raise ArithmeticError("the Neumann iteration on the square block does not converge")

    def forward(self, y: FloatArray, start: FloatArray | None = None) -> FloatArray:
        """Activities ``x`` (per technique) with ``net @ x = y``."""
        return self._scatter(self._jacobi(self._b, y, start, transposed=False))

    def transposed(self, cost: FloatArray, start: FloatArray | None = None) -> FloatArray:
        """Prices ``p`` (per row, one vector or a matrix of columns) with ``net.T @ p = cost`` (per technique)."""
        return self._jacobi(self._bt, cost[self.choice], start, transposed=True)

    # --- the dual ---------------------------------------------------------------------------------------
    def cost(self, mu: FloatArray, rho: FloatArray) -> FloatArray:
        """Cost per unit of each technique at primary prices ``mu`` (per limited primary) and rents ``rho``
        (per capped technique)."""
        c = np.asarray(self.primary[self.limited].T @ mu).ravel()
        c[self.capped] += rho
        return c

    def respond(self, p_need: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The deviation ``s`` each need row's price calls for, and the final outputs ``y`` there."""
        ratio = p_need * self.target / self.weight
        s = np.minimum(best_deviation(ratio), self.most)
        return s, self.target * (1.0 + s)

    def value(self, mu: FloatArray, rho: FloatArray, p_need: FloatArray, s: FloatArray) -> float:
        """``D(mu, rho)`` given the need rows' prices and their best deviations."""
        a, u = self.available[self.limited], self.capacity[self.capped]
        inner = self.weight * harmony(s) - p_need * self.target * (1.0 + s)
        return float(mu @ a + rho @ u + inner.sum())

    def evaluate(self, mu: FloatArray, rho: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
        """``D``, the plan ``x`` it calls for, its deviations ``s`` and the prices ``p`` (two Leontief solves)."""
        p = self.transposed(self.cost(mu, rho), self._p)
        self._p = p
        s, y_need = self.respond(p[self.need_row])
        y = np.zeros(self.net.shape[0])
        y[self.need_row] = y_need
        x = self.forward(y, None if self._v is None else self._v)
        self._v = x[self.choice]
        return self.value(mu, rho, p[self.need_row], s), x, s, p

    @contextmanager
    def precision(self, rtol: float) -> Iterator[None]:
        """The Leontief solves inside the block to relative residual ``rtol`` instead of the current one."""
        saved, self.rtol = self.rtol, rtol
        try:
            yield
        finally:
            self.rtol = saved

    def usage(self, x: FloatArray) -> FloatArray:
        """What the plan ``x`` uses of each limit: the limited primaries, then the capped techniques' activities."""
        return np.concatenate([np.asarray(self.primary[self.limited] @ x).ravel(), x[self.capped]])

    def feasible(self, x: FloatArray, s: FloatArray) -> tuple[float, float]:
        """The share ``alpha <= 1`` of the plan ``x`` that meets every limit, and the harmony of that plan."""
        alpha = min(1.0, float(np.min(self.limits / np.maximum(self.usage(x), _TINY), initial=1.0)))
        return alpha, float(self.weight @ harmony(alpha * (1.0 + s) - 1.0))

    def approximate_rows(self, terms: int = PRECONDITIONER_TERMS) -> sp.csr_matrix:
        """The rows of :meth:`limit_rows` for every limit, sparse: the primaries' exact (computed once), the
        capped techniques' from the first ``terms`` + 1 terms of the Neumann series of the Leontief inverse
        (``B^{-1} = D^{-1} sum_k (E D^{-1})^k``, ``B = D - E``): what the matrix-free Newton's phase preconditions
        with."""
        n = self.choice.size
        square = sp.csr_matrix(self.net[:, self.choice])
        spill = sp.csr_matrix(sp.diags(self.d) - square) @ sp.diags(1.0 / self.d)  # E D^{-1}, entries >= 0
        row_of = np.empty(n, dtype=np.int64)
        row_of[self.choice] = np.arange(n)
        rows = row_of[self.capped]
        term = sp.csr_matrix((1.0 / self.d[rows], (np.arange(rows.size), rows)), shape=(rows.size, n))
        total = term
        for _ in range(terms):
            term = sp.csr_matrix(term @ spill)
            total = total + term
        capped = sp.csr_matrix(total[:, self.need_row])
        return sp.csr_matrix(sp.vstack([sp.csr_matrix(self._primary_rows), capped]))

    # --- phase 2: Newton's method over a set of binding limits -----------------------------------------------
    def limit_rows(self, primaries: IntArray, techniques: IntArray) -> FloatArray:
        """Rows of ``P B^{-1}`` (given limited primaries) and ``B^{-1}`` (given techniques) at the need rows:
        the use of each limit per unit of final output of each need (one transposed solve per limit)."""
        k = primaries.size + techniques.size
        cost = np.zeros((self.net.shape[1], k))
        if primaries.size:
            cost[:, :primaries.size] = self.primary[self.limited[primaries]].T.toarray()
        cost[techniques, primaries.size + np.arange(techniques.size)] = 1.0
        if not k:
            return np.zeros((0, self.need_row.size))
        with self.precision(ROWS_RTOL):
            return np.asarray(self.transposed(cost)[self.need_row].T)


def solve(problem: LeontiefHarmony, *, tol: float, deadline: float = math.inf) -> tuple[HarmonyAnswer | None, str]:
    """Minimise the dual of ``problem`` and certify the plan; ``(None, why)`` when the gap stays above ``tol``."""
    start = time.perf_counter()
    n_prim, n_cap = problem.limited.size, problem.capped.size
    if not np.all(np.isfinite(problem.most)):
        return None, "a need that no limited primary holds back (the harmony may be unbounded)"
    # Starting prices: one price per unit of every limited primary that makes the targets cost what they weigh.
    unit = problem.transposed(problem.cost(np.ones(n_prim), np.zeros(n_cap)))
    mu0 = np.full(n_prim, problem.weight.sum() / max(float(unit[problem.need_row] @ problem.target), _TINY))
    p0 = problem.transposed(problem.cost(mu0, np.zeros(n_cap)))
    # Dimensionless variables: primaries relative to mu0, rents relative to what one unit of activity makes, at
    # mu0's prices (its product's price times its output: a rent is per unit of activity, so the output enters;
    # priced per unit of product alone, activities counted in a unit 10^12 larger stalled Newton's method).
    row = np.argsort(problem.choice)[problem.capped]
    made = p0[row] * problem.d[row]
    sig = np.concatenate([np.maximum(mu0, _TINY),
                          np.maximum(made, 1e-12 * float(np.max(made, initial=0.0)) + _TINY)])
    evals = 0

    def split(z: FloatArray) -> tuple[FloatArray, FloatArray]:
        scaled = z * sig
        return scaled[:n_prim], scaled[n_prim:]

    def fun(z: FloatArray) -> tuple[float, FloatArray]:
        nonlocal evals
        mu, rho = split(z)
        D, x, _, _ = problem.evaluate(mu, rho)
        evals += 1
        return D, (problem.limits - problem.usage(x)) * sig

    def stop(intermediate_result: object) -> None:
        if time.perf_counter() > deadline:
            raise StopIteration

    z0 = np.concatenate([np.ones(n_prim), np.zeros(n_cap)])
    with problem.precision(ROUGH_RTOL):
        res = minimize(fun, z0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * z0.size, callback=stop,
                       options={"maxiter": LBFGS_ITERATIONS, "maxcor": 20, "ftol": 0.0, "gtol": 0.0})
    mu, rho = split(np.asarray(res.x))
    answer, rounds, why = (_newton_cg(problem, mu, rho, sig, tol, deadline) if MATRIX_FREE_FIRST
                           else (None, 0, ""))
    if answer is None:  # the dense rows, from the first phase's prices again (they decline beyond MAX_DENSE)
        answer, dense_rounds, dense_why = _newton(problem, mu, rho, tol, deadline)
        rounds += dense_rounds
        why = "; then ".join(filter(None, [why, dense_why]))
    evals += rounds
    if answer is None:
        return None, f"{why} ({evals} evaluations of the dual)"
    answer.evaluations = evals
    answer.seconds = time.perf_counter() - start
    return answer, ""


def _newton_cg(problem: LeontiefHarmony, mu: FloatArray, rho: FloatArray, sig: FloatArray, tol: float,
               deadline: float) -> tuple[HarmonyAnswer | None, int, str]:
    """Projected Newton's method on the whole dual with matrix-free Hessian products (one transposed and one
    forward Leontief solve each) and conjugate gradients preconditioned by :meth:`LeontiefHarmony.approximate_rows`
    (see the module docstring). ``sig`` scales the limits (as in the first phase): the conjugate gradients run on
    ``diag(sig) H diag(sig)``."""
    n_prim = problem.limited.size

    def evaluate(z: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray, FloatArray]:
        D, x, s, p = problem.evaluate(z[:n_prim], z[n_prim:])
        return D, x, s, p, problem.limits - problem.usage(x)

    z = np.concatenate([mu, rho])
    D, x, s, p, grad = evaluate(z)
    first = 0.0
    approx = sp.csr_matrix(sp.diags(sig) @ problem.approximate_rows())
    best: HarmonyAnswer | None = None  # the last answer within the tolerance
    rounds = 0

    def give_up(why: str) -> tuple[HarmonyAnswer | None, int, str]:
        return (best, rounds, "") if best is not None else (None, rounds, why)

    history: list[float] = []
    for rounds in range(1, NEWTON_CG_ROUNDS + 1):
        alpha, value = problem.feasible(x, s)
        # The plan must also nearly meet its limits before it is scaled down: the engine's own check prices the
        # tangents through the scaled plan with these prices, which only the unscaled plan's deviations fit.
        gap, scaled_by = (D - value) / max(problem.unit, abs(value)), 1.0 - alpha
        history.append(max(gap, scaled_by))
        if len(history) > STALL_ROUNDS and history[-1] > 0.5 * history[-1 - STALL_ROUNDS]:
            return give_up(f"Newton's method (conjugate gradients) stalled: its gap {history[-1]:.2g} has not halved "
                           f"in {STALL_ROUNDS} steps")
        if gap <= tol and scaled_by <= tol:
            best = HarmonyAnswer(alpha * x, alpha * (1.0 + s) - 1.0, p, z[:n_prim].copy(),
                                 _per_technique(problem, z[n_prim:]), value, D, 0, rounds, problem.steps,
                                 0.0, matrix_free=True)
            if max(gap, scaled_by) <= CG_MARGIN * tol:  # else one step more, while it helps
                return best, rounds, ""
        if time.perf_counter() > deadline:
            return give_up("the time limit was reached")
        free = (z > 0) | (grad < 0)  # a limit at rent 0 whose slack would only grow stays at 0
        if not free.any():
            return give_up(f"no limit left to price, with a gap of {D - value:.2g}")
        g = grad[free] * sig[free]
        norm = float(np.linalg.norm(g))
        first = first or norm
        p_need = p[problem.need_row]
        ratio = p_need * problem.target / problem.weight
        weight = -problem.target * _response_slope(s, ratio, problem.most) * problem.target / problem.weight
        rows = approx[free]
        typical = float(np.mean(rows.multiply(rows) @ weight))  # the approximate Hessian's mean diagonal entry
        # Newton's direction; where its projection finds no descent, damped ones (Levenberg-Marquardt), shorter and
        # nearer the scaled gradient
        for damping in DAMPING:
            step = np.zeros(z.size)
            step[free] = sig[free] * _conjugate_gradients(
                partial(_hessian_product, problem, free, sig, weight, damping * typical), -g,
                rtol=min(0.1, max(norm / first, 1e-8)),
                precondition=_approximate_inverse(rows, weight, damping * typical))
            t, trial = 1.0, z
            while t > 1e-12:  # projected backtracking, Armijo on the dual
                trial = np.maximum(z + t * step, 0.0)
                D_t, x_t, s_t, p_t, grad_t = evaluate(trial)
                # Armijo on the dual; near the optimum the decrease drowns in the solves' rounding, and a step that
                # narrows the certified gap without raising the dual beyond that rounding is taken instead
                if D_t <= D + 1e-4 * float(grad @ (trial - z)) or (
                        D_t <= D + D_ROUNDING * max(problem.unit, abs(D))
                        and D_t - problem.feasible(x_t, s_t)[1] < D - value):
                    break
                t *= 0.5
            else:
                continue
            break
        else:
            return give_up(f"Newton's method (conjugate gradients) stalled with a gap of {D - value:.2g}")
        z, D, x, s, p, grad = trial, D_t, x_t, s_t, p_t, grad_t
    return give_up(f"no certificate after {NEWTON_CG_ROUNDS} matrix-free Newton steps")


def _hessian_product(problem: LeontiefHarmony, free: NDArray[np.bool_], sig: FloatArray, weight: FloatArray,
                     damping: float, v: FloatArray) -> FloatArray:
    """``diag(sig) H diag(sig) v`` over the ``free`` limits, ``H = R diag(weight) R'`` with ``R`` the limits' rows
    of the Leontief inverse at the needs (:meth:`LeontiefHarmony.limit_rows`), by two solves instead of ``R``."""
    n_prim = problem.limited.size
    full = np.zeros(free.size)
    full[free] = v * sig[free]
    with problem.precision(ROWS_RTOL):
        p_need = problem.transposed(problem.cost(full[:n_prim], full[n_prim:]))[problem.need_row]
        y = np.zeros(problem.net.shape[0])
        y[problem.need_row] = weight * p_need
        x = problem.forward(y)
    return np.asarray(problem.usage(x)[free] * sig[free] + damping * v)


def _approximate_inverse(rows: sp.csr_matrix, weight: FloatArray,
                         damping: float = 0.0) -> Callable[[FloatArray], FloatArray]:
    """The solve with ``rows diag(weight) rows'`` (its small entries dropped, sparse LU, a little regularised): the
    preconditioner."""
    hess = sp.coo_matrix(rows @ sp.diags(weight) @ rows.T)
    diag = hess.diagonal()
    small = (np.abs(hess.data) < DROP_BELOW * np.sqrt(diag[hess.row] * diag[hess.col])) & (hess.row != hess.col)
    # the dropped entries' size, moved to the diagonal, keeps the approximation positive definite
    moved = np.bincount(hess.row[small], weights=np.abs(hess.data[small]), minlength=diag.size).astype(np.float64)
    keep = ~small
    hess = sp.csc_matrix(sp.coo_matrix((hess.data[keep], (hess.row[keep], hess.col[keep])), shape=hess.shape)
                         + sp.diags(moved))
    diag = hess.diagonal()
    diag = diag + damping + 1e-10 * np.maximum(diag, 1e-12 * max(float(diag.max(initial=0.0)), 1.0))  # > 0
    hess = sp.csc_matrix(hess + sp.diags(diag - hess.diagonal()))
    try:
        lu = splu(hess, permc_spec="MMD_AT_PLUS_A")  # symmetric: a minimum degree ordering of its graph
    except RuntimeError:  # singular after all: its diagonal alone still preconditions
        return lambda r: np.asarray(r / diag)
    return lu.solve


def _conjugate_gradients(apply: Callable[[FloatArray], FloatArray], b: FloatArray, rtol: float,
                         precondition: Callable[[FloatArray], FloatArray]) -> FloatArray:
    """``H v = b`` for a positive semidefinite ``H`` given by its product, to ``|r| <= rtol |b|`` or at most
    :data:`CG_ITERATIONS` steps; stops at a direction of no curvature (the step so far is still a descent; ``b``
    itself where none was taken)."""
    v = np.zeros(b.size)
    r = b.copy()
    y = precondition(r)
    d = y.copy()
    ry = float(r @ y)
    goal = rtol * float(np.linalg.norm(b))
    for _ in range(CG_ITERATIONS):
        if float(np.linalg.norm(r)) <= goal:
            break
        hd = apply(d)
        curvature = float(d @ hd)
        if curvature <= 1e-30 * float(d @ d):
            break
        step = ry / curvature
        v += step * d
        r -= step * hd
        y = precondition(r)
        ry, ry_old = float(r @ y), ry
        d = y + (ry / ry_old) * d
    return v if np.any(v) else b


def _newton(problem: LeontiefHarmony, mu: FloatArray, rho: FloatArray, tol: float,
            deadline: float) -> tuple[HarmonyAnswer | None, int, str]:
    """Newton's method on the dual restricted to the binding limits, widened where the plan violates another."""
    a, u = problem.available[problem.limited], problem.capacity[problem.capped]
    _, x, _, _ = problem.evaluate(mu, rho)
    prim = np.flatnonzero((mu > 0) | (np.asarray(problem.primary[problem.limited] @ x).ravel() > a))
    caps = np.flatnonzero((rho > 0) | (x[problem.capped] > u))
    cache: dict[tuple[int, int], FloatArray] = {}  # a limit's row, once computed
    rounds = 0
    exact: FloatArray | None = None  # the dual's gradient from Leontief solves, when refining the same limits
    refinements = 0
    for _ in range(NEWTON_ROUNDS):
        if (prim.size + caps.size) * problem.need_row.size > MAX_DENSE:
            return None, rounds, (f"{prim.size + caps.size} limits bind over {problem.need_row.size} needs, too many "
                                  "for Newton's phase")
        rows = _rows(problem, prim, caps, cache)
        if time.perf_counter() > deadline:
            return None, rounds, "the time limit was reached"
        rounds += 1
        bound = np.concatenate([a[prim], u[caps]])
        z = np.concatenate([mu[prim], rho[caps]])
        if exact is not None:
            # The rows are solved to ROWS_RTOL, so the reduced problem's optimum misses the limits by about that
            # times the flows it sums; one Newton step with the exact gradient (and the rows' Hessian) corrects it.
            free = (z > 0) | (exact < 0)
            step = _newton_step(problem, rows, z, free, exact)
            if step is not None:
                z = np.maximum(z + step, 0.0)
        else:
            z = _reduced_newton(problem, rows, bound, z, tol)
        mu = np.zeros(problem.limited.size)
        rho = np.zeros(problem.capped.size)
        mu[prim], rho[caps] = z[:prim.size], z[prim.size:]
        D, x, s, p = problem.evaluate(mu, rho)
        alpha, value = problem.feasible(x, s)
        if D - value <= tol * max(problem.unit, abs(value)):
            return HarmonyAnswer(alpha * x, alpha * (1.0 + s) - 1.0, p, mu, _per_technique(problem, rho), value,
                                 D, 0, rounds, problem.steps, 0.0), rounds, ""
        # widen the set by the limits the plan violates, narrow it by those no longer priced
        use = np.asarray(problem.primary[problem.limited] @ x).ravel()
        new_prim = np.flatnonzero((mu > 0) | (use > a * (1 + 1e-12)))
        new_caps = np.flatnonzero((rho > 0) | (x[problem.capped] > u * (1 + 1e-12)))
        if np.array_equal(new_prim, prim) and np.array_equal(new_caps, caps):
            refinements += 1
            if refinements > 10:
                return None, rounds, f"Newton's method stalled with a gap of {D - value:.2g}"
            exact = bound - np.concatenate([use[prim], x[problem.capped][caps]])
        else:
            exact = None
        prim, caps = new_prim, new_caps
    return None, rounds, f"no certificate after {NEWTON_ROUNDS} rounds of binding limits"


def _newton_step(problem: LeontiefHarmony, rows: FloatArray, z: FloatArray, free: NDArray[np.bool_],
                 grad: FloatArray) -> FloatArray | None:
    """The Newton step ``-H^{-1} grad`` over the ``free`` limits, ``H = R diag(-dy/dp) R'`` from the limits' rows
    ``R`` at the prices ``z`` (0 for the others); ``None`` where ``H`` is singular."""
    p_need = z @ rows
    s, _ = problem.respond(p_need)
    ratio = p_need * problem.target / problem.weight
    dy = problem.target * _response_slope(s, ratio, problem.most) * problem.target / problem.weight
    R = rows[free]
    hess = (R * -dy) @ R.T
    hess[np.diag_indices_from(hess)] += 1e-14 * max(float(np.max(np.abs(np.diag(hess)), initial=0.0)), 1.0)
    step = np.zeros(z.size)
    try:
        step[free] = -np.linalg.solve(hess, grad[free])
    except np.linalg.LinAlgError:
        return None
    problem.newton_steps += 1
    return step


def _reduced_newton(problem: LeontiefHarmony, rows: FloatArray, bound: FloatArray, z: FloatArray,
                    tol: float) -> FloatArray:
    """Projected Newton iterations with backtracking on the dual restricted to the limits of ``rows`` (no Leontief
    solve), until its own gap estimate is a quarter of the tolerance."""

    def reduced_value(v: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        p_need = v @ rows
        s, y = problem.respond(p_need)
        return float(v @ bound + np.sum(problem.weight * harmony(s) - p_need * y)), s, y

    for _ in range(50):
        value, s, y = reduced_value(z)
        grad = bound - rows @ y
        free = (z > 0) | (grad < 0)  # a limit at rent 0 whose slack would only grow stays at 0
        if float(np.max(np.abs(grad[free]) / np.maximum(bound[free], _TINY), initial=0.0)) < 1e-14:
            break
        # Close enough to certify? The gap at the plan these prices call for, scaled to meet its limits: the rents'
        # worth of the slack, plus what the scaling costs (the caller's Leontief solves then tell).
        over = float(np.max(-grad / np.maximum(bound, _TINY), initial=0.0))
        loss = over / (1.0 + over) * float(np.sum(problem.weight * (1.0 + s) * harmony_slope(s)))
        if float(z @ np.maximum(grad, 0.0)) + loss <= 0.25 * tol * max(problem.unit,
                                                                           abs(float(problem.weight @ harmony(s)))):
            break
        step = _newton_step(problem, rows, z, free, grad)
        if step is None:
            break
        t = 1.0
        while t > 1e-12:  # projected backtracking on the reduced dual
            trial = np.maximum(z + t * step, 0.0)
            if reduced_value(trial)[0] <= value:
                break
            t *= 0.5
        moved = float(np.max(np.abs(trial - z) / np.maximum(np.abs(trial), _TINY), initial=0.0))
        z = trial
        if moved < 1e-14:
            break
    return z


def _rows(problem: LeontiefHarmony, prim: IntArray, caps: IntArray,
          cache: dict[tuple[int, int], FloatArray]) -> FloatArray:
    """:meth:`LeontiefHarmony.limit_rows` of these limits, solving only for those not in ``cache``."""
    keys = [(0, int(i)) for i in prim] + [(1, int(j)) for j in caps]
    new_prim = np.asarray([i for kind, i in keys if kind == 0 and (kind, i) not in cache], dtype=np.int64)
    new_caps = np.asarray([j for kind, j in keys if kind == 1 and (kind, j) not in cache], dtype=np.int64)
    fresh = problem.limit_rows(new_prim, problem.capped[new_caps])
    for key, row in zip([(0, int(i)) for i in new_prim] + [(1, int(j)) for j in new_caps], fresh, strict=True):
        cache[key] = row
    return np.asarray([cache[key] for key in keys]).reshape(len(keys), problem.need_row.size)


def _per_technique(problem: LeontiefHarmony, rho: FloatArray) -> FloatArray:
    out = np.zeros(problem.net.shape[1])
    out[problem.capped] = rho
    return out
