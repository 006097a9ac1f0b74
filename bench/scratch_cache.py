"""Cache structured ray LP arrays and HiGHS reference lambda under /tmp/np (scratch, not part of the package)."""
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from needplan.data.generate import generate_economy
from needplan.plan.model import build_plan
from needplan.plan.solve import _block, _kind_is, main_rows

OUT = Path("/tmp/np")


def arrays(n: int, seed: int) -> dict:
    path = OUT / f"s{n}_{seed}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    model = build_plan(generate_economy(n, family="structured", seed=seed), "ray")
    lp, n_t = model.lp, model.n_techniques
    net_rows = np.flatnonzero(_kind_is(model, "balance", "need"))
    prim_rows = np.flatnonzero(_kind_is(model, "primary"))
    A = lp.A
    col = model.lambda_col
    d = dict(net=_block(A, net_rows, n_t), primary=_block(A, prim_rows, n_t), available=lp.row_upper[prim_rows],
             capacity=np.asarray(lp.col_upper[:n_t]), main=main_rows(model, net_rows),
             target=-np.asarray(A[:, col:col + 1].toarray()).ravel()[net_rows],
             kind=model.rows["kind"].to_numpy()[net_rows], good=model.rows["good"].to_numpy()[net_rows])
    path.write_bytes(pickle.dumps(d))
    return d


def reference(n: int, seed: int) -> float:
    path = OUT / f"ref{n}_{seed}.txt"
    if path.exists():
        return float(path.read_text())
    from needplan.plan.fast import _highs_full, _prepare
    d = arrays(n, seed)
    prob = _prepare(d["net"], d["primary"], d["available"], d["capacity"], d["target"])
    t = time.perf_counter()
    r = _highs_full(prob, 1e-6, None, t, "highs")
    print(n, seed, r.status, r.lam, time.perf_counter() - t, r.iterations, flush=True)
    path.write_text(repr(r.lam))
    return r.lam


if __name__ == "__main__":
    for spec in sys.argv[1:]:
        n, seed = map(int, spec.split("_"))
        reference(n, seed)
