"""An exact ray solver for plan LPs with joint products and two-row (quality-weighted) products.

Same LP and answer as :func:`needplan.plan.fast.solve_ray` (``max lam`` s.t. ``net @ x >= lam * target``,
``primary @ x <= available``, ``0 <= x <= capacity``), by Dantzig-Wolfe decomposition:

* the master is a HiGHS LP kept across rounds (``lam = sum w_k`` over plans ``v_k``, rows for the limited
  primaries and, added lazily, for the capacities that a mixture violates); new columns and rows are added to
  the same instance, which re-solves warm;
* the pricing problem ``min c @ x`` over ``{x >= 0 : net x >= target}`` at the master's (Wentges-smoothed) prices
  ``c = primary.T pi + mu`` keeps *all* rows of ``net``: its dual is found by Bellman value iteration (each row's
  price is the cheapest way to make it, every joint output credited at its price, floored at 0 = disposal), with a
  two-variable LP per product that has both a quality-weighted row and a physical row (a row no technique has as
  its main row); the plan is the basis of that dual solved by block Jacobi, made feasible by a monotone top-up
  (every plan is a valid column; only the dual's value enters the bound);
* the Lagrangian bound ``(pi a + mu u) / (target @ p)`` holds for any dual-feasible ``p``; the loop stops when it
  meets the master's ``lam`` within the tolerance.

The answer is verified with :func:`needplan.plan.fast.certify` on the original LP: "optimal" only when the primal
residual, the dual residual and the gap are all within ``tol``. Nothing here falls back to HiGHS on the full LP;
an uncertified result is "stopped" with a message, for the caller to decide.

Status (experimental, not wired into the engine): certified optimal, equal to HiGHS, on small structured economies
(60, 100 and 200 goods, seed 1); from 500 goods on it stops uncertified, because the value-iteration pricing is
exact at labour-only prices (1,500 and 3,000 goods, seed 1) but not at the master's capacity prices. Even with an
exact pricing the master needs about 200 rounds at 1,500 and 3,000 goods (measured with HiGHS as the pricing
solver), which caps this design below HiGHS on the full LP at those sizes.
"""

from __future__ import annotations

import math
import time

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan.plan.fast import FastResult, FloatArray, IntArray, Status, _infer_main, _prepare, certify

_TINY = 1e-300


def _entries(A: sp.csr_matrix, rows: IntArray, cols: IntArray) -> FloatArray:
    """``A[rows[k], cols[k]]`` for each ``k`` (empty-safe)."""
    if rows.size == 0:
        return np.zeros(0)
    return np.asarray(A[rows, cols], dtype=np.float64).ravel()


class _Outside(Exception):
    """The structure does not fit (the message says why)."""


class StructuredPricer:
    """``min c @ x`` over ``{x >= 0 : net x >= target}`` for a net with joint and two-row products.

    Rows: ``single`` rows have techniques with that main row; a ``pair`` is a product with a main row ``q`` (with
    techniques) and a physical row ``b`` that no technique has as its main row but the same techniques make;
    other rows without techniques are disposal-only (price 0).
    """

    def __init__(self, net: sp.csr_matrix, target: FloatArray, main: IntArray) -> None:
        m, n = net.shape
        self.N = net
        self.NT = sp.csr_matrix(net.T)
        self.t = target
        self.m, self.n = m, n
        techs = np.flatnonzero(main >= 0)
        self.main = main
        diag = np.zeros(n)
        diag[techs] = _entries(net, main[techs], techs)
        if np.any(diag[techs] <= 0):
            raise _Outside("a technique's net output of its main product is not positive")
        self.diag = diag
        counts = np.bincount(main[techs], minlength=m)
        # Physical rows: no technique has them as main row; their partner is the main row of their makers.
        C = sp.csc_matrix(net)
        free = np.flatnonzero(counts == 0)
        partner = np.full(m, -1, dtype=np.int64)
        Nf = sp.csr_matrix(net[free])
        for k, b in enumerate(free.tolist()):
            lo, hi = Nf.indptr[k], Nf.indptr[k + 1]
            cols = Nf.indices[lo:hi][Nf.data[lo:hi] > 0]
            cols = cols[main[cols] >= 0]
            if cols.size:
                # the product's own techniques make it about one for one with their main row (quality-weighted);
                # joint products of other techniques come in other proportions
                ratio = _entries(net, np.full(cols.size, b), cols) / diag[cols]
                partner[b] = int(main[cols[np.argmin(np.abs(np.log(ratio)))]])
        del C
        pair_b = np.flatnonzero(partner >= 0)
        pair_q = partner[pair_b]
        if np.unique(pair_q).size != pair_q.size:
            raise _Outside("a main row has more than one physical partner row")
        self.pair_b, self.pair_q = pair_b, pair_q
        self.disposal_only = np.setdiff1d(free, pair_b)
        in_pair = np.zeros(m, dtype=bool)
        in_pair[pair_q] = True
        # Techniques of single rows, sorted by row, for a segmented minimum.
        single_techs = techs[~in_pair[main[techs]]]
        order = np.argsort(main[single_techs], kind="stable")
        self.s_techs = single_techs[order]
        s_rows = main[self.s_techs]
        starts = np.flatnonzero(np.r_[True, s_rows[1:] != s_rows[:-1]]) if s_rows.size else np.zeros(0, np.int64)
        self.s_starts = starts
        self.s_rows = s_rows[starts]
        # Pair techniques: at most two per pair (columns a and b of the pair; equal when only one).
        pos = np.full(m, -1, dtype=np.int64)
        pos[pair_q] = np.arange(pair_q.size)
        pt = techs[in_pair[main[techs]]]
        k_of = pos[main[pt]]
        order = np.argsort(k_of, kind="stable")
        pt, k_of = pt[order], k_of[order]
        cnt = np.bincount(k_of, minlength=pair_q.size)
        if np.any(cnt > 2) or np.any(cnt == 0):
            raise _Outside("a two-row product has more than two techniques")
        first = np.searchsorted(k_of, np.arange(pair_q.size))
        self.pa = pt[first]
        self.pb = pt[first + cnt - 1]
        self.mq_a = _entries(net, pair_q, self.pa)
        self.mb_a = _entries(net, pair_b, self.pa)
        self.mq_b = _entries(net, pair_q, self.pb)
        self.mb_b = _entries(net, pair_b, self.pb)
        if np.any(self.mb_a <= 0) or np.any(self.mb_b <= 0):
            raise _Outside("a two-row product's technique does not make its physical row")
        # Every positive entry bounds its row's price (a joint output is credited at its price, so the technique's
        # constraint holds only when each of its outputs is priced within it).
        Pos = sp.csr_matrix((np.where(net.data > 0, net.data, 0.0), net.indices.copy(), net.indptr.copy()),
                            shape=net.shape)
        Pos.eliminate_zeros()
        Pos.sort_indices()
        lengths = np.diff(Pos.indptr)
        self.pos_rows = np.flatnonzero(lengths > 0)
        self.pos_starts = Pos.indptr[:-1][self.pos_rows]
        self.pos_cols = Pos.indices.astype(np.int64)
        self.pos_vals = Pos.data
        self.pos_row_of = np.repeat(np.arange(m), lengths)
        self.use = np.zeros(pair_q.size)
        self.has_tech = counts > 0
        self.forced = np.zeros(m, dtype=bool)
        self.forced[self.disposal_only] = True
        self.max_rounds = 10  # weight of the physical row (the good's use), from the last plan
        self.absN = sp.csr_matrix((np.abs(net.data), net.indices, net.indptr), shape=net.shape)
        self.stats = {"sweeps": 0.0, "jacobi": 0.0, "topup": 0.0, "pricings": 0.0, "safe": 0.0, "rounds": 0.0}

    # -- dual --------------------------------------------------------------------------------------------
    def _pair_prices(self, c: FloatArray, val: FloatArray, p: FloatArray) -> tuple[FloatArray, FloatArray,
                                                                                  IntArray]:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._pair_prices_raw(c, val, p)

    def _pair_prices_raw(self, c: FloatArray, val: FloatArray, p: FloatArray) -> tuple[FloatArray, FloatArray,
                                                                                      IntArray]:
        """Per two-row product, the best vertex of its two-variable price LP (weights: target and use)."""
        q, b = self.pair_q, self.pair_b
        pq, pb = p[q], p[b]
        ea = (c[self.pa] - val[self.pa] + self.mq_a * pq + self.mb_a * pb) / self.mb_a
        eb = (c[self.pb] - val[self.pb] + self.mq_b * pq + self.mb_b * pb) / self.mb_b
        qa, qb = self.mq_a / self.mb_a, self.mq_b / self.mb_b
        wq, wb = self.t[q] + self.use, self.use
        # vertex 0: p_b = 0; vertex 1: p_q = 0; vertex 2: both constraints tight
        v0q = np.maximum(np.minimum(ea / qa, eb / qb), 0.0)
        v1b = np.maximum(np.minimum(ea, eb), 0.0)
        den = qa - qb
        with np.errstate(divide="ignore", invalid="ignore"):
            v2q = (ea - eb) / den
        v2b = ea - qa * v2q
        ok2 = (np.abs(den) > 1e-12) & (v2q >= 0) & (v2b >= 0) & (self.pa != self.pb)
        ok2 &= (qa * v2q + v2b <= ea * (1 + 1e-12) + 1e-300) & (qb * v2q + v2b <= eb * (1 + 1e-12) + 1e-300)
        obj = np.stack([wq * v0q, wb * v1b, np.where(ok2, wq * v2q + wb * v2b, -np.inf)])
        # ties: prefer the vertex with the physical row free (0), then the main row free (1)
        scale = float(np.max(np.abs(obj[:2]), initial=1.0))
        tag = np.argmax(obj + np.array([[1e-15], [0.0], [-1e-15]]) * scale, axis=0)
        newq = np.where(tag == 0, v0q, np.where(tag == 1, 0.0, v2q))
        newb = np.where(tag == 0, 0.0, np.where(tag == 1, v1b, v2b))
        return newq, newb, tag

    def dual(self, c: FloatArray, p0: FloatArray | None, forced: NDArray[np.bool_] | None = None,
             safe: bool = False, max_sweeps: int = 1000) -> FloatArray:
        """The fixed point of the Bellman operator (value iteration), from ``p0``.

        Each row is priced by its own techniques (``safe``: by every technique with a positive output in it, which
        keeps every technique's constraint even where joint outputs alone would pay for it); ``forced`` rows are
        disposed of (price 0).
        """
        p = np.zeros(self.m) if p0 is None else p0.copy()
        main, diag, st = self.main, self.diag, self.s_techs
        for k in range(max_sweeps):
            val = self.NT @ p
            new = np.zeros(self.m)
            if safe:
                pc = self.pos_cols
                cand = (c[pc] - val[pc]) / self.pos_vals + p[self.pos_row_of]
                new[self.pos_rows] = np.maximum(np.minimum.reduceat(cand, self.pos_starts), 0.0)
            elif st.size:
                cand = (c[st] - val[st]) / diag[st] + p[main[st]]
                new[self.s_rows] = np.maximum(np.minimum.reduceat(cand, self.s_starts), 0.0)
            if self.pair_q.size:
                nq, nb, _ = self._pair_prices(c, val, p)
                if safe:
                    new[self.pair_q] = np.minimum(new[self.pair_q], nq)
                    new[self.pair_b] = np.minimum(new[self.pair_b], nb)
                else:
                    new[self.pair_q], new[self.pair_b] = nq, nb
            if forced is not None:
                new[forced] = 0.0
            diff = float(np.max(np.abs(new - p), initial=0.0))
            # joint outputs make the operator non-monotone; damp it when plain sweeps do not settle
            p = new if k < 200 else 0.5 * (p + new)
            if diff <= 1e-15 * max(float(np.max(p, initial=0.0)), _TINY):
                break
        self.stats["sweeps"] += k + 1
        return p

    # -- primal ------------------------------------------------------------------------------------------
    def basis_plan(self, c: FloatArray, p: FloatArray,
                   forced: NDArray[np.bool_]) -> tuple[FloatArray | None, IntArray]:
        """The basis of ``p`` (a column per row: its cheapest own technique, or disposal) and its plan by block
        Jacobi; returns the activities per row and the assignment (-1 = disposal)."""
        m, main, diag = self.m, self.main, self.diag
        val = self.NT @ p
        st = self.s_techs
        assign = np.full(m, -1, dtype=np.int64)  # technique per row, -1 = disposal
        if st.size:
            rc = (c[st] - val[st]) / diag[st]
            order = np.lexsort((rc, main[st]))
            firsts = st[order][np.r_[True, main[st][order][1:] != main[st][order][:-1]]]
            rcf = (c[firsts] - val[firsts]) / diag[firsts]
            tight = rcf <= 1e-9 * (np.abs(p[main[firsts]]) + np.abs(c[firsts]) / diag[firsts]) + _TINY
            take = (tight | (p[main[firsts]] > 0)) & ~forced[main[firsts]]
            assign[main[firsts][take]] = firsts[take]
        q, b = self.pair_q, self.pair_b
        blocks = np.zeros(0, dtype=np.int64)
        if q.size:
            _, _, tag = self._pair_prices(c, val, p)
            ea = (c[self.pa] - val[self.pa] + self.mq_a * p[q] + self.mb_a * p[b]) / self.mb_a
            eb = (c[self.pb] - val[self.pb] + self.mq_b * p[q] + self.mb_b * p[b]) / self.mb_b
            qa, qb = self.mq_a / self.mb_a, self.mq_b / self.mb_b
            pick_a0 = ea / qa <= eb / qb
            pick_a1 = ea <= eb
            t0, t1, t2 = tag == 0, tag == 1, tag == 2
            assign[q[t0]] = np.where(pick_a0, self.pa, self.pb)[t0]
            assign[b[t1]] = np.where(pick_a1, self.pa, self.pb)[t1]
            assign[q[t2]] = self.pa[t2]
            assign[b[t2]] = self.pb[t2]
            blocks = np.flatnonzero(t2)
        return self._jacobi(assign, blocks), assign

    def _jacobi(self, assign: IntArray, blocks: IntArray, max_iter: int = 5000) -> FloatArray | None:
        m, n, N, t = self.m, self.n, self.N, self.t
        isT = assign >= 0
        cols = assign[isT]
        d = -np.ones(m)
        d[isT] = _entries(N, np.flatnonzero(isT), cols)
        q, b = self.pair_q[blocks], self.pair_b[blocks]
        a11 = _entries(N, q, assign[q])
        a12 = _entries(N, q, assign[b])
        a21 = _entries(N, b, assign[q])
        a22 = _entries(N, b, assign[b])
        det = a11 * a22 - a12 * a21
        if np.any(np.abs(det) <= 1e-14 * (np.abs(a11 * a22) + np.abs(a12 * a21))):
            raise _Outside("a two-row block is singular")

        def dinv(r: FloatArray) -> FloatArray:
            out = r / d
            rq, rb = r[q], r[b]
            out[q] = (a22 * rq - a12 * rb) / det
            out[b] = (-a21 * rq + a11 * rb) / det
            return out

        v = dinv(t)
        tscale = max(float(np.max(np.abs(t), initial=0.0)), _TINY)
        x = np.zeros(n)
        for k in range(max_iter):
            x[cols] = v[isT]
            y = N @ x
            y[~isT] -= v[~isT]
            res = t - y
            nr = float(np.max(np.abs(res)))
            if nr <= 1e-13 * tscale:
                break
            if not nr < 1e6 * tscale:
                self.stats["jacobi"] += k + 1
                self.stats["jacobi_failed"] = self.stats.get("jacobi_failed", 0.0) + 1
                return None
            v += dinv(res)
        self.stats["jacobi"] += k + 1
        return v

    def topup(self, x: FloatArray, max_iter: int = 20000) -> FloatArray:
        """Raise ``x`` (only up) until ``net x >= target``: each short row runs its cheapest-to-find maker."""
        N, t, main, diag = self.N, self.t, self.main, self.diag
        if not hasattr(self, "_maker"):
            maker = np.full(self.m, -1, dtype=np.int64)
            maker_out = np.ones(self.m)
            techs = np.flatnonzero(main >= 0)
            maker[main[techs][::-1]] = techs[::-1]
            maker_out[main[maker[maker >= 0]]] = diag[maker[maker >= 0]]
            for bb, ja, mba in zip(self.pair_b.tolist(), self.pa.tolist(), self.mb_a.tolist(), strict=True):
                maker[bb], maker_out[bb] = ja, mba
            self._maker, self._maker_out = maker, maker_out
        maker, out = self._maker, self._maker_out
        tscale = max(float(np.max(np.abs(t), initial=0.0)), _TINY)
        x = x.copy()
        k = 0
        for k in range(max_iter):  # noqa: B007 (k counts the steps for the statistics)
            short = t - N @ x
            bad = short > 1e-12 * tscale
            if not bad.any():
                break
            r = np.flatnonzero(bad)
            if np.any(maker[r] < 0):
                raise _Outside("a row that no technique makes is short")
            np.add.at(x, maker[r], short[r] / out[r] * (1 + 1e-12))
        else:
            raise _Outside("the top-up of a plan did not converge")
        self.stats["topup"] += k
        return x

    def price(self, c: FloatArray, p0: FloatArray | None) -> tuple[FloatArray, FloatArray, float, float]:
        """Dual prices ``p`` (value iteration), a feasible plan ``x``, the dual value ``t p`` and ``c x``.

        Rounds of: prices with the forced disposals, the plan of their basis; a row whose own technique would run
        backwards (a joint product in surplus) is disposed of next round, a disposed row left short is made again.
        """
        self.stats["pricings"] += 1
        forced = self.forced
        p = p0
        v: FloatArray | None = None
        assign = np.zeros(0, dtype=np.int64)
        for _ in range(self.max_rounds):
            p = self.dual(c, p, forced)
            v, assign = self.basis_plan(c, p, forced)
            if v is None:
                break
            vscale = max(float(np.max(np.abs(v), initial=0.0)), _TINY)
            neg = v < -1e-12 * vscale
            if self.pair_q.size:
                use = self._use(self._scatter(v, assign))
                stable = bool(np.all(np.abs(use - self.use) <= 1e-9 * (1 + np.abs(use))))
                self.use = use
            else:
                stable = True
            if not neg.any() and stable:
                break
            self.stats["rounds"] += 1
            isT = assign >= 0
            forced = forced.copy()
            forced[neg & isT] = True
            forced[neg & ~isT & self.has_tech] = False
            forced[self.disposal_only] = True
        self.forced = forced
        assert p is not None
        viol = self.NT @ p - c
        if float(np.max(viol, initial=0.0)) > 1e-13 * max(float(np.max(np.abs(c), initial=0.0)), _TINY):
            # prices that some technique beats (joint outputs worth more than its cost): the safe operator
            self.stats["safe"] += 1
            p = self.dual(c, p, None, safe=True)
        x = self.topup(np.zeros(self.n) if v is None else self._scatter(v, assign))
        return p, x, float(self.t @ p), float(c @ x)

    def _scatter(self, v: FloatArray, assign: IntArray) -> FloatArray:
        x = np.zeros(self.n)
        isT = assign >= 0
        x[assign[isT]] = np.maximum(v[isT], 0.0)
        return x

    def _use(self, x: FloatArray) -> FloatArray:
        """Weights for the two-row LPs: each physical row's use in the plan ``x`` (made minus surplus)."""
        made = self.mb_a * x[self.pa] + np.where(self.pa != self.pb, self.mb_b * x[self.pb], 0.0)
        surplus = (self.N @ x)[self.pair_b]
        return np.asarray(np.maximum(made - surplus, 0.0))


def solve_ray_structured(net: sp.spmatrix | sp.sparray, primary: sp.spmatrix | sp.sparray, available: FloatArray,
                         capacity: FloatArray, target: FloatArray, *, tol: float = 1e-6,
                         time_limit: float | None = None, main: IntArray | None = None,
                         max_iterations: int = 2000, alpha: float = 0.5) -> FastResult:
    """The ray LP of :func:`needplan.plan.fast.solve_ray` by column generation with the structured pricing."""
    start = time.perf_counter()
    deadline = start + (time_limit if time_limit is not None else math.inf)
    prob = _prepare(net, primary, available, capacity, target)
    N, P, a, u, t = prob.net, prob.primary, prob.available, prob.capacity, prob.target
    m, n = N.shape
    main_rows = _infer_main(N) if main is None else np.asarray(main, dtype=np.int64)
    stats: dict[str, float] = {}
    try:
        pr = StructuredPricer(N, t, main_rows)
    except _Outside as why:
        return _stopped(m, n, P.shape[0], start, f"outside the structure: {why}")
    fa = np.flatnonzero(np.isfinite(a))
    capped = np.flatnonzero(np.isfinite(u))
    Pf = sp.csr_matrix(P[fa])
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    inf = highspy.kHighsInf
    for r in range(fa.size):
        h.addRow(-inf, float(a[fa[r]]), 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    cap_row = np.full(n, -1, dtype=np.int64)  # master row of each capacity (-1: not in the master)
    n_rows = fa.size
    cols: list[FloatArray] = []
    t_master = t_price = 0.0

    def add_col(x: FloatArray) -> None:
        use = Pf @ x
        idx = list(range(fa.size))
        vals = use.tolist()
        inm = cap_row[capped] >= 0
        cj = capped[inm]
        nz = x[cj] > 0
        idx += cap_row[cj[nz]].tolist()
        vals += x[cj[nz]].tolist()
        h.addCol(1.0, 0.0, inf, len(idx), np.array(idx, dtype=np.int32), np.array(vals))
        cols.append(x)

    def add_cap_rows(js: IntArray) -> None:
        nonlocal n_rows
        for j in js.tolist():
            cap_row[j] = n_rows
            n_rows += 1
            ks = [k for k, x in enumerate(cols) if x[j] > 0]
            h.addRow(-inf, float(u[j]), len(ks), np.array(ks, dtype=np.int32), np.array([cols[k][j] for k in ks]))

    pi = np.zeros(P.shape[0])
    pi[fa] = 1.0 / np.maximum(a[fa], _TINY)
    mu = np.zeros(n)
    best: tuple[float, FloatArray, FloatArray, FloatArray] | None = None
    p_prev: FloatArray | None = None
    lam, w = 0.0, np.zeros(0)
    status: Status = "stopped"
    message = ""
    it = 0
    try:
        t0 = time.perf_counter()
        cost = P.T @ pi + mu
        p, x, z, _ = pr.price(cost, None)
        p_prev = p
        t_price += time.perf_counter() - t0
        add_col(x)
        pi_c, mu_c = pi.copy(), mu.copy()  # current master duals
        while True:
            it += 1
            t0 = time.perf_counter()
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                # unbounded with the rows so far: add every capacity the columns use
                used = capped[(cap_row[capped] < 0) & (np.max(np.array(cols)[:, capped], axis=0) > 0)]
                if used.size == 0:
                    raise _Outside(f"the master LP is {h.modelStatusToString(h.getModelStatus())}")
                add_cap_rows(used)
                t_master += time.perf_counter() - t0
                continue
            sol = h.getSolution()
            w = np.maximum(np.array(sol.col_value), 0.0)
            lam = float(w.sum())
            x_mix = np.array(cols).T @ w
            over = capped[(cap_row[capped] < 0) & (x_mix[capped] > u[capped] * (1 + 0.1 * tol))]
            t_master += time.perf_counter() - t0
            if over.size:
                add_cap_rows(over)
                continue
            rd = np.maximum(np.array(sol.row_dual), 0.0)
            pi_c = np.zeros(P.shape[0])
            pi_c[fa] = rd[:fa.size]
            mu_c = np.zeros(n)
            inm = capped[cap_row[capped] >= 0]
            mu_c[inm] = rd[cap_row[inm]]
            # Wentges smoothing towards the best dual found so far
            if best is not None:
                _, _, pib_, mub_ = best
                pi_s, mu_s = alpha * pib_ + (1 - alpha) * pi_c, alpha * mub_ + (1 - alpha) * mu_c
            else:
                pi_s, mu_s = pi_c, mu_c
            found = False
            for pi_k, mu_k in ((pi_s, mu_s), (pi_c, mu_c)):
                t0 = time.perf_counter()
                cost = P.T @ pi_k + mu_k
                p, x, z, _ = pr.price(cost, p_prev)
                p_prev = p
                t_price += time.perf_counter() - t0
                dual_obj = float(pi_k[fa] @ a[fa] + mu_k[capped] @ u[capped])
                if np.all(np.isfinite(p)) and z > 1e-12 * float(np.abs(p).sum()) and z > 0:
                    ub = dual_obj / z
                    if best is None or ub < best[0]:
                        # normalised so that target @ p = 1; the dual objective is then ub
                        with np.errstate(over="ignore"):
                            scaled = (p / z, pi_k / z, mu_k / z)
                        if all(np.all(np.isfinite(a_)) for a_ in scaled):
                            best = (ub, *scaled)
                # a column improves the master when its reduced cost at the master's duals is positive
                rc = 1.0 - float(pi_c[fa] @ (Pf @ x) + mu_c[capped] @ x[capped])
                if rc > 1e-12:
                    add_col(x)
                    found = True
                if found or best is None:
                    break
            gap = (best[0] - lam) / max(best[0], 1e-9) if best is not None else math.inf
            stats["gap"] = gap
            if gap <= 0.5 * tol:
                status = "optimal"
                break
            if not found:
                message = "uncertified: no improving column at the master's prices"
                break
            if it >= max_iterations:
                message = f"iteration limit {max_iterations} reached"
                break
            if time.perf_counter() > deadline:
                message = "time limit reached"
                break
    except _Outside as why:
        return _stopped(m, n, P.shape[0], start, f"outside the structure: {why}")
    x = np.array(cols[:w.size]).T @ w if w.size else np.zeros(n)
    x = np.minimum(x, u)
    if best is None:
        best = (math.inf, np.zeros(m), np.zeros(P.shape[0]), np.zeros(n))
    _, p_, pi_, mu_ = best
    cert = certify(N, P, a, u, t, lam, x, p_, pi_, mu_)
    ok = cert.primal_residual <= tol and cert.dual_residual <= tol and cert.gap <= tol
    if status == "optimal" and not ok:
        status = "stopped"
        message = (f"uncertified: residuals above tolerance (primal {cert.primal_residual:.1e}, dual "
                   f"{cert.dual_residual:.1e}, gap {cert.gap:.1e})")
    elif status == "stopped" and ok:
        status, message = "optimal", ""
    stats.update(pr.stats)
    stats.update({"columns": float(len(cols)), "master_rows": float(n_rows), "seconds_master": t_master,
                  "seconds_pricing": t_price, "upper_bound": best[0]})
    return FastResult(status, lam, x, p_, pi_, mu_, it, time.perf_counter() - start, cert.primal_residual,
                      cert.dual_residual, cert.gap, "structured-cg", message, stats)


def _stopped(m: int, n: int, k: int, start: float, message: str) -> FastResult:
    return FastResult("stopped", math.nan, np.zeros(n), np.zeros(m), np.zeros(k), np.zeros(n), 0,
                      time.perf_counter() - start, math.nan, math.nan, math.nan, "structured-cg", message)
