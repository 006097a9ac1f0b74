"""Pricing experiment (structured family): Bellman value iteration on the pricing dual with a local two-row LP per
need+physical product (weights from the current plan), forced disposal of joint surpluses, block-Jacobi primal.
Usage: python bench/scratch_pricing.py N SEED [h]  (arrays cached by bench/scratch_cache.py under /tmp/np)."""
import sys, time
import numpy as np
import scipy.sparse as sp
sys.path.insert(0, __import__("os").path.dirname(__file__))
from scratch_cache import arrays
n_, seed = int(sys.argv[1]), int(sys.argv[2])
d = arrays(n_, seed)
N = d["net"].tocsr(); main = np.array(d["main"]); m, nt = N.shape
P = sp.csr_matrix(d["primary"]); t = d["target"]; good = d["good"]; kind = d["kind"]
NT = N.T.tocsr(); NC = N.tocsc()
diag = np.asarray(N[main.copy(), np.arange(nt)]).ravel()
cost = P.T @ (1.0 / d["available"]) 
# two-row products: physical row b (no technique), need row q
has = np.bincount(main, minlength=m) > 0
brow = np.flatnonzero(~has)
qrow_of_good = {good[r]: r for r in range(m) if kind[r] == "need"}
qrow = np.array([qrow_of_good[good[b]] for b in brow])
techs_of = {q: np.flatnonzero(main == q) for q in qrow}
alt = [(b, q, techs_of[q]) for b, q in zip(brow, qrow) if techs_of[q].size > 1]
print("two-row products", brow.size, "with alternatives", len(alt))
mb = {b: np.asarray(N[np.full(j.size, b), j]).ravel() for b, q, j in alt}
mq = {b: np.asarray(N[np.full(j.size, q), j]).ravel() for b, q, j in alt}
forced = np.zeros(m, bool); forced[brow] = True

def solve_primal(assign, blocks):
    # block Jacobi on B v = t, B[:, r] = column assign[r] (technique < nt or disposal nt + row)
    isT = assign < nt
    dval = np.where(isT, np.asarray(N[np.arange(m), np.where(isT, assign, 0)]).ravel(), -1.0)
    Binv = []
    for (r1, r2) in blocks:
        c1, c2 = assign[r1], assign[r2]
        D = np.array([[N[r1, c1], N[r1, c2]], [N[r2, c1], N[r2, c2]]])
        Binv.append(np.linalg.inv(D))
    def apply(v):
        x = np.zeros(nt); x[assign[isT]] = v[isT]
        y = N @ x; y[~isT] -= v[~isT]
        return y
    def dinv(r):
        out = r / dval
        for (r1, r2), Bi in zip(blocks, Binv):
            out[[r1, r2]] = Bi @ r[[r1, r2]]
        return out
    v = dinv(t)
    for k in range(3000):
        res = t - apply(v)
        v += dinv(res)
        if np.max(np.abs(res)) < 1e-12 * np.max(t): break
    return v, k

U = {b: 0.0 for b, q, j in alt}
p = np.zeros(m)
policy = {}
for outer in range(8):
    t0 = time.perf_counter()
    for k in range(2000):
        val = NT @ p
        cand = (cost - val + diag * p[main]) / diag
        newp = np.full(m, np.inf); np.minimum.at(newp, main, cand)
        newp = np.maximum(newp, 0.0); newp[np.isinf(newp)] = 0.0
        newp[forced] = 0.0
        for b, q, j in alt:
            e = (cost[j] - val[j] + mq[b] * p[q] + mb[b] * p[b]) / mb[b]
            qq = mq[b] / mb[b]
            wq, wb = U[b] + t[q], U[b]
            best, bp = -1.0, None
            verts = [(np.min(e / qq), 0.0, ("q", int(np.argmin(e / qq)))), (0.0, np.min(e), ("b", int(np.argmin(e))))]
            for i1 in range(j.size):
                for i2 in range(i1 + 1, j.size):
                    if qq[i1] != qq[i2]:
                        pq = (e[i1] - e[i2]) / (qq[i1] - qq[i2]); pb = e[i1] - qq[i1] * pq
                        verts.append((pq, pb, ("2", i1, i2)))
            for pq, pb, tag in verts:
                if pq < -1e-15 or pb < -1e-15 or np.any(qq * pq + pb > e * (1 + 1e-13) + 1e-300): continue
                obj = wq * pq + wb * pb
                if obj > best: best, bp = obj, (max(pq, 0), max(pb, 0), tag)
            newp[q], newp[b] = bp[0], bp[1]
            policy[b] = bp[2]
        diff = np.max(np.abs(newp - p)); p = newp
        if diff < 1e-15 * np.max(p): break
    # primal basis
    order = np.lexsort((cand, main)); rows = main[order]
    firsts = order[np.r_[True, rows[1:] != rows[:-1]]]
    assign = nt + np.arange(m)
    ok = ~forced[main[firsts]]
    assign[main[firsts][ok]] = firsts[ok]
    mc = np.full(m, np.inf); mc[main[firsts]] = cand[firsts]
    disp = (p <= 0) & (mc > 1e-13 * np.max(p)); assign[disp] = nt + np.flatnonzero(disp)
    blocks = []
    for b, q, j in alt:
        tag = policy[b]
        if tag[0] == "q": assign[q] = j[tag[1]]; assign[b] = nt + b
        elif tag[0] == "b": assign[b] = j[tag[1]]; assign[q] = nt + q
        else: assign[q] = j[tag[1]]; assign[b] = j[tag[2]]; blocks.append((q, b))
    v, kj = solve_primal(assign, blocks)
    neg = v < -1e-12 * v.max()
    x = np.zeros(nt); x[assign[assign < nt]] = v[assign < nt]
    dualviol = np.max(NT @ p - cost)
    print(f"outer {outer} VI {k} blocks {len(blocks)} jac {kj} neg {neg.sum()} vmin {v.min():.3g} t.p {t @ p:.12g} c.x {cost @ x:.12g} dualviol {dualviol:.1e} primal-res {np.min(N @ x - t):.1e} {time.perf_counter()-t0:.2f}s")
    # update U from the plan
    phys = N @ x
    newU = {}
    for b, q, j in alt:
        newU[b] = float(mb[b] @ x[j] - phys[b])
    for r in np.flatnonzero(neg):
        print("   neg row", r, kind[r], "good", good[r], "v", v[r], "assign", 'disp' if assign[r] >= nt else ('tech', assign[r], 'main', main[assign[r]]), "forced", forced[r], "p", p[r], "alt", r in U or any(r == q for b, q, j in alt), "block", any(r in bl for bl in blocks))
    rr = np.flatnonzero(neg & (assign < nt)); forced[rr] = True
    un = np.flatnonzero(neg & (assign >= nt) & has); forced[un] = False
    if not neg.any() and all(abs(newU[b] - U[b]) <= 1e-9 * (1 + abs(U[b])) for b in U): break
    U = newU
if len(sys.argv) > 3:
    from scipy.optimize import linprog
    t1 = time.perf_counter()
    r = linprog(cost, A_ub=-N, b_ub=-t, bounds=(0, None), method="highs")
    print("highs pricing", r.fun, time.perf_counter() - t1)
