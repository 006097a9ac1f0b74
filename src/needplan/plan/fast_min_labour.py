"""The fast min-labour solver: meet every target at the least (weighted) labour, by column generation.

The LP is ``min c @ x`` s.t. ``net @ x >= target``, ``primary @ x <= available``, ``0 <= x <= capacity`` with
``c >= 0`` (labour per unit of activity, weighted per labour kind). Without primaries and capacities its optimum is
a pure plan (one technique per product, the nonsubstitution theorem): one forward solve ``x = B^{-1} t`` and one
transposed solve ``p = c_B B^{-1}``. The limits enter a Dantzig-Wolfe master over such plans (a convex combination,
``sum w = 1``; rays of ``{x >= 0 : net x >= 0}`` cost labour and use limits, so they are never needed), whose duals
price the binding primaries and capacities into the next pricing round, as in :mod:`needplan.plan.fast`.

When no mixture of the plans found meets the limits, phase 1 is the ray LP on the same data
(:func:`needplan.plan.fast.solve_ray`'s column generation): a certified fulfilment below 1 proves the problem
infeasible (its duals are a Farkas certificate) and names the binding limits; otherwise its plan, scaled to the
targets, is a feasible column. Every answer is verified on the original LP (:func:`certify_min_labour`); problems
outside the structure go to HiGHS on the full LP. The smallest conflicting set of an infeasible problem is left to
the engine (:mod:`needplan.plan.explain`). This module reads no files and builds no model.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from needplan.leontief import abs_rmatvec
from needplan.plan.fast import (
    _TINY,
    FLOOR_ABOVE,
    Certificate,
    FastResult,
    FloatArray,
    IntArray,
    Status,
    _column_generation,
    _drive,
    _empty_result,
    _negative_bounds,
    _OutsideStructure,
    _prepare,
    _Pricer,
    _Problem,
    fallback_message,
    highs_lp,
    limit_reached,
    master_duals,
    master_lp,
    primal_residual,
)


def solve_rtol(tol: float) -> float:
    """The relative residual at which the pricing's Neumann solves stop, for a certificate to ``tol``.

    Four orders of magnitude below ``tol`` (so the solves' errors stay far inside what :func:`certify_min_labour`
    accepts), at most ``1e-10`` and at least ``1e-13``: at ``tol = 1e-6`` that is ``1e-10`` (measured on the
    uniform family at 10^4 goods: 77 Neumann steps instead of 103 at ``1e-13``, gap 1.6e-10). The certificate is
    recomputed on the original LP either way.
    """
    return min(1e-10, max(1e-13, 1e-4 * tol))


def certify_min_labour(net: sp.csr_matrix, primary: sp.csr_matrix, available: FloatArray, capacity: FloatArray,
                       target: FloatArray, cost: FloatArray, x: FloatArray, row_duals: FloatArray,
                       primary_duals: FloatArray, capacity_duals: FloatArray,
                       floor_above: float = FLOOR_ABOVE) -> Certificate:
    """Recompute the residuals of ``x`` and the duals ``(y, pi, mu) >= 0`` on the min-labour LP.

    * primal: as :func:`needplan.plan.fast.primal_residual` with ``required = target``;
    * dual: ``max_j max(0, y net_j - pi P_j - mu_j - c_j) / (|y| |net_j| + pi P_j + mu_j + c_j)`` and the
      negative parts of ``y``, ``pi``, ``mu`` relative to their largest entry;
    * gap: ``|c x - D| / max(|c x|, |D|, 1e-9)`` with ``D = t y - pi a - mu u`` (a positive price on an unlimited
      primary or capacity makes ``D = -inf``).
    """
    y, pi, mu = row_duals, primary_duals, capacity_duals
    fa, fu = np.isfinite(available), np.isfinite(capacity)
    excess = net.T @ y - primary.T @ pi - mu - cost
    scale = abs_rmatvec(net, np.abs(y)) + primary.T @ np.abs(pi) + np.abs(mu) + np.abs(cost)
    dres = [float(np.max(np.maximum(excess, 0.0) / np.maximum(scale, _TINY), initial=0.0))]  # per technique
    for d in (y, pi, mu):
        dres.append(float(np.max(np.maximum(-d, 0.0), initial=0.0)) / max(float(np.max(np.abs(d), initial=0.0)),
                                                                            _TINY))
    if np.any(pi[~fa] > 0) or np.any(mu[~fu] > 0):
        dual_obj = -math.inf
    else:
        dual_obj = float(target @ y - pi[fa] @ available[fa] - mu[fu] @ capacity[fu])
    value = float(cost @ x)
    gap = abs(value - dual_obj) / max(abs(value), abs(dual_obj), 1e-9) if math.isfinite(dual_obj) else math.inf
    return Certificate(primal_residual(net, primary, available, capacity, target, x, floor_above=floor_above),
                       max(dres), gap, dual_obj)


def solve_min_labour(net: sp.spmatrix | sp.sparray, primary: sp.spmatrix | sp.sparray, available: FloatArray,
                     capacity: FloatArray, target: FloatArray, *, labour_cost: FloatArray, tol: float = 1e-6,
                     time_limit: float | None = None, main: IntArray | None = None, max_iterations: int = 1000,
                     fallback: bool = True) -> FastResult:
    """Minimise ``labour_cost @ x`` with ``net @ x >= target``, ``primary @ x <= available``, ``0 <= x <= capacity``.

    Shapes and units as in :func:`needplan.plan.fast.solve_ray`; ``labour_cost`` (per technique, >= 0) is the
    weighted labour per unit of activity. In the result ``lam`` is the least labour (``nan`` when infeasible or
    nothing was computed); ``row_duals`` are the product prices (the labour embodied in one more unit of
    each row's net output, >= 0), ``primary_duals`` and ``capacity_duals`` the labour saved per
    extra unit of each limit (>= 0); the residuals are those of :func:`certify_min_labour`. "infeasible" is returned
    only with a certificate: the ray LP's fulfilment, certified below 1 (in ``details["fulfilment_bound"]``), and
    ``message`` names the limits that bind it. Outside the structure HiGHS solves the full LP (``method``
    starts with ``"highs"``), or with ``fallback`` false the status is "stopped".
    """
    start = time.perf_counter()
    deadline = start + (time_limit if time_limit is not None else math.inf)
    prob = _prepare(net, primary, available, capacity, target)
    n = prob.shape[1]
    c = np.asarray(labour_cost, dtype=np.float64).reshape(-1)
    if c.size != n:
        raise ValueError(f"labour_cost has {c.size} entries for {n} techniques")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("labour_cost must be finite and >= 0")
    infeasible = _negative_bounds(prob, start)
    if infeasible is not None:
        return infeasible
    return _drive(prob, main, start, deadline, time_limit, fallback,
                  lambda main_rows: _min_labour_cg(prob, c, main_rows, tol, deadline, max_iterations, start),
                  lambda remaining, method: _highs_min_labour(prob, c, tol, remaining, start, method))


def _min_labour_cg(prob0: _Problem, c: FloatArray, main: IntArray, tol: float, deadline: float,
                   max_iterations: int, start: float) -> FastResult:
    pr = _Pricer(prob0, main, deadline, rtol=solve_rtol(tol))
    prob, n_orig = pr.prob, pr.n_orig
    P, a, u, t = prob.primary, prob.available, prob.capacity, prob.target
    rows_s, rows_c, t_c = pr.rows_s, pr.rows_c, pr.t_c
    n = prob.shape[1]
    P0 = prob0.primary
    fa = np.flatnonzero(np.isfinite(a))
    capped = np.flatnonzero(np.isfinite(u[:n_orig]))
    stats = pr.stats

    # Columns are plans in the caller's techniques: pure plans from pricing, and phase 1's plan if it was needed.
    cols_x: list[FloatArray] = []

    def add_column(x: FloatArray) -> None:
        cols_x.append(x[:n_orig].copy())

    cost = np.concatenate([c, np.zeros(n - n_orig)])
    choice, p, v = pr.price(cost, pr.first_choice, None, None)
    priced = choice.copy()  # the choice the prices p were solved for (feasible may change it after)
    if v is None:
        choice, v = pr.feasible(choice, None)
    x_pure = np.zeros(n)
    x_pure[choice] = v
    add_column(x_pure)
    last_cost, last_p = cost, p
    rows_cap = np.zeros(0, dtype=np.int64)  # positions into ``capped``
    rows_cpl = np.zeros(0, dtype=np.int64)  # positions into ``rows_c``
    best: tuple[float, FloatArray, FloatArray, FloatArray] | None = None  # lower bound and its duals
    best_basis: tuple[IntArray, FloatArray] | None = None  # the choice and costs that priced it
    phase1_done = False
    iterations = 0
    status: Status = "stopped"
    message = ""
    w = np.ones(1)
    upper = math.inf
    while True:
        iterations += 1
        X = np.array(cols_x)  # columns x techniques
        with np.errstate(over="ignore", invalid="ignore"):  # (numbers that overflow: master_lp declines them)
            f = X @ c
            blocks = [(P0[fa] @ X.T) if fa.size else np.zeros((0, len(cols_x))),
                      X[:, capped[rows_cap]].T,
                      (t_c[rows_cpl][:, None] - pr.coupling_rows(rows_cpl) @ X.T) if rows_cpl.size
                      else np.zeros((0, len(cols_x)))]
        A_ub = np.vstack(blocks)
        b_ub = np.concatenate([a[fa], u[capped[rows_cap]], np.zeros(rows_cpl.size)])
        stats["master_rows"] = float(A_ub.shape[0])
        stats["columns"] = float(len(cols_x))
        res = master_lp(f, A_ub=A_ub if A_ub.shape[0] else None, b_ub=b_ub if A_ub.shape[0] else None,
                        A_eq=np.ones((1, len(cols_x))), b_eq=[1.0])
        if res.status == 2:
            if phase1_done:
                raise _OutsideStructure("the master LP is infeasible although phase 1 found a feasible plan")
            phase1_done = True
            found = _phase1(prob0, main, tol, deadline, max_iterations, start, stats)
            if isinstance(found, FastResult):
                return found
            add_column(found)
            continue
        if res.status != 0:
            raise _OutsideStructure(f"the master LP failed: {res.message}")
        w = np.maximum(res.x, 0.0)
        x_mix = w @ X
        # Limits not yet in the master that the mixture violates: add them and re-solve.
        if rows_c.size:
            short = t_c - pr.coupling(x_mix)
            scale_c = np.maximum(np.abs(t_c), 1e-12 * max(float(np.max(np.abs(t_c), initial=0.0)), 1.0))
            new = np.setdiff1d(np.flatnonzero(short > 0.1 * tol * scale_c), rows_cpl)
            if new.size:
                rows_cpl = np.union1d(rows_cpl, new)
                continue
        if capped.size:
            new = np.setdiff1d(np.flatnonzero(x_mix[capped] > u[capped] * (1 + 0.1 * tol)), rows_cap)
            if new.size:
                rows_cap = np.union1d(rows_cap, new)
                continue
        upper = float(res.fun)
        duals = -res.ineqlin.marginals if A_ub.shape[0] else np.zeros(0)
        pi, mu, sigma = master_duals(duals, fa, P.shape[0], capped[rows_cap], n_orig, rows_cpl, rows_c.size)
        # Pricing: the cheapest pure plan at the labour cost plus the limits' prices bounds the optimum from below
        # (Lagrangian bound t_s p + t_c sigma - pi a - mu u); the bound's prices are dual feasible by construction.
        cost = np.zeros(n)
        cost[:n_orig] = c + P0.T @ pi + mu
        if rows_cpl.size:
            cost[:n_orig] -= pr.coupling_t(sigma)
            if np.any(cost[:n_orig] < 0):
                raise _OutsideStructure("the coupling rows' prices make a technique's cost negative (the pricing "
                                        "problem is unbounded along a ray)")
        if np.array_equal(cost, last_cost):
            p = last_p
        else:
            choice, p, v = pr.price(cost, choice, last_p, v)
            last_cost, last_p, priced = cost, p, choice.copy()
        lower = float(t @ p + t_c @ sigma - pi[fa] @ a[fa] - mu[capped] @ u[capped])
        if np.all(np.isfinite(p)) and (best is None or lower > best[0]):
            full_y = np.zeros(pr.m_all)
            full_y[rows_s] = p
            full_y[rows_c] = sigma
            best = (lower, full_y, pi, mu)
            best_basis = (priced, last_cost)
        gap = (upper - best[0]) / max(abs(upper), abs(best[0]), 1e-9) if best is not None else math.inf
        if gap <= 0.5 * tol:
            status = "optimal"
            break
        message = limit_reached(iterations, max_iterations, deadline)
        if message:
            break
        if v is None:
            choice, v = pr.feasible(choice, None)
        x_pure = np.zeros(n)
        x_pure[choice] = v
        if any(np.array_equal(x_pure[:n_orig], col) for col in cols_x):
            message = "uncertified: column generation repeated a column before closing the gap"
            break
        add_column(x_pure)

    x = np.minimum(w @ np.array(cols_x), prob0.capacity)  # overshoots by rounding only; certified below
    if best is None:
        best = (-math.inf, np.zeros(pr.m_all), np.zeros(P.shape[0]), np.zeros(n_orig))
    _, y, pi_, mu_ = best
    if best_basis is not None:
        y = pr.refined(y, *best_basis)
    y = np.maximum(y, 0.0)
    cert = certify_min_labour(prob0.net, P0, a, prob0.capacity, prob0.target, c, x, y, pi_, mu_,
                              floor_above=tol)
    status, message = cert.settle(status, message, tol)
    stats["seconds_total"] = time.perf_counter() - start
    stats["phase1"] = float(phase1_done)
    return FastResult(status, float(c @ x), x, y, pi_, mu_, iterations, time.perf_counter() - start,
                      cert.primal_residual, cert.dual_residual, cert.gap, "leontief-cg", message, stats)


def _phase1(prob: _Problem, main: IntArray, tol: float, deadline: float, max_iterations: int, start: float,
            stats: dict[str, float]) -> FastResult | FloatArray:
    """A feasible plan (the ray LP's optimum scaled to the targets), or the certified "infeasible" result."""
    ray = _column_generation(prob, main, tol, deadline, max_iterations, start)
    stats["phase1_rounds"] = float(ray.iterations)
    if ray.status == "unbounded":
        return ray.x  # meets the targets with none of the limits
    if ray.status != "optimal" or not math.isfinite(ray.lam):
        raise _OutsideStructure(f"phase 1 (the ray LP) was not certified: {ray.message}")
    if ray.lam >= 1.0:
        return ray.x / ray.lam
    if ray.lam > 1.0 - 2 * tol:
        raise _OutsideStructure(f"phase 1 cannot tell feasible from infeasible (fulfilment {ray.lam:.9f})")
    prim = np.flatnonzero(ray.primary_duals > 0)
    caps = np.flatnonzero(ray.capacity_duals > 0)
    said = []
    if prim.size:
        said.append(f"primaries {prim[:10].tolist()}")
    if caps.size:
        said.append(f"capacities of techniques {caps[:10].tolist()}{' ...' if caps.size > 10 else ''}")
    n = prob.shape[1]
    return FastResult("infeasible", math.nan, np.zeros(n), ray.row_duals, ray.primary_duals, ray.capacity_duals,
                      ray.iterations, time.perf_counter() - start, ray.primal_residual, ray.dual_residual, ray.gap,
                      "leontief-cg", f"the targets can be met to at most {ray.lam:.10g} of their level together; "
                      f"binding: {', '.join(said) or 'none named'}",
                      {**stats, "fulfilment_bound": ray.lam, "primaries_binding": float(prim.size),
                       "capacities_binding": float(caps.size)})


def _highs_min_labour(prob: _Problem, c: FloatArray, tol: float, time_limit: float | None, start: float,
                      method: str) -> FastResult:
    """HiGHS on the full min-labour LP, with the same certificate (the exact fallback)."""
    N, P, a, u, t = prob.net, prob.primary, prob.available, prob.capacity, prob.target
    sol, y, pi, mu = highs_lp(prob, c, False, tol, time_limit)
    if sol.status in ("infeasible", "unbounded"):
        return _empty_result(prob, sol.status, math.nan, method, sol.message, start)  # type: ignore[arg-type]
    if sol.status != "optimal" or sol.x.size == 0:
        return _empty_result(prob, "stopped", math.nan, method, sol.message, start)
    x = np.clip(sol.x, 0.0, u)
    cert = certify_min_labour(N, P, a, u, t, c, x, y, pi, mu, floor_above=tol)
    ok = cert.within(tol)
    return FastResult("optimal" if ok else "stopped", float(c @ x), x, y, pi, mu, sol.iterations,
                      time.perf_counter() - start, cert.primal_residual, cert.dual_residual, cert.gap, method,
                      fallback_message(sol, ok))
