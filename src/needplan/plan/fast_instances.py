"""Random ray LPs in matrix form, shaped like the issue's benchmark families, for tests and benchmarks of the fast
solver.

These are not economies (no ids, no validation): they are the arrays :func:`needplan.plan.fast.solve_ray` takes,
built directly so that the solver can be tested and benchmarked at 10^6 goods without the folder format. When
``needplan.data.generate`` is available, benchmarks of whole economies should use it instead.

* ``uniform``: about ``inputs_per_good`` inputs per good from uniformly random suppliers, one technique per good,
  one labour kind, finite capacities on ``capacity_share`` of the goods, set close to what the labour-bound plan
  needs so that several of them compete to bind.
* ``structured``: a few hub goods (energy, steel) are inputs to most others, ``alternative_share`` of the goods
  have a second technique (less of a hub, more of the second labour kind), ``joint_share`` of the techniques make
  a small joint product, two labour kinds, capacities on ``capacity_share`` of the techniques.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RayInstance:
    """The arrays of a ray LP (see :func:`needplan.plan.fast.solve_ray`); ``net`` is products x techniques."""

    net: sp.csr_matrix
    primary: sp.csr_matrix
    available: FloatArray
    capacity: FloatArray
    target: FloatArray
    main: NDArray[np.int64]

    @property
    def nbytes(self) -> int:
        """Bytes of the two constraint matrices (data and indices), the "input matrix size"."""
        return sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in (self.net, self.primary))


def _input_block(rng: np.random.Generator, n: int, per: int, col_sum: FloatArray,
                 hubs: int = 0, hub_share: float = 0.0) -> sp.coo_matrix:
    """n x n inputs: ``per`` random suppliers per column (no self-use), scaled to the given column sums."""
    rows = rng.integers(0, n, size=(n, per))
    cols = np.repeat(np.arange(n), per).reshape(n, per)
    same = rows == cols
    rows[same] = (rows[same] + 1) % n
    w = rng.random((n, per)) + 0.05
    w *= (col_sum * (1 - hub_share))[:, None] / w.sum(axis=1, keepdims=True)
    r, c, v = [rows.ravel()], [cols.ravel()], [w.ravel()]
    if hubs:
        h = rng.integers(0, hubs, size=n)
        hub_rows = np.where(h == np.arange(n), (h + 1) % hubs, h)
        r.append(hub_rows)
        c.append(np.arange(n))
        v.append(col_sum * hub_share)
    return sp.coo_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(n, n))


def random_ray_lp(n_goods: int, family: Literal["uniform", "structured"] = "uniform", *, seed: int = 0,
                  inputs_per_good: int = 8, alternative_share: float = 0.2, joint_share: float = 0.05,
                  capacity_share: float = 0.1, labour_kinds: int | None = None,
                  target_share: float = 0.5) -> RayInstance:
    """A random productive ray LP of ``n_goods`` products (see the module docstring for the two families)."""
    rng = np.random.default_rng(seed)
    n = n_goods
    per = max(1, min(inputs_per_good, n - 1))
    structured = family == "structured"
    kinds = labour_kinds if labour_kinds is not None else (2 if structured else 1)
    col_sum = rng.uniform(0.3, 0.7, size=n)
    hubs = max(1, n // 200) if structured and n >= 4 else 0
    use = _input_block(rng, n, per, col_sum, hubs=hubs, hub_share=0.3 if hubs else 0.0).tocsc()
    labour = rng.uniform(0.2, 1.0, size=(kinds, n))
    if kinds > 1:
        labour[1:] *= rng.uniform(0.1, 0.5, size=(kinds - 1, n))
    main = np.arange(n)
    if structured:
        alt = np.flatnonzero(rng.random(n) < alternative_share)
        # The alternative saves hub inputs and first-kind labour, and needs more of the other labour kinds.
        alt_use = use[:, alt].tocoo()
        saving = rng.uniform(0.5, 0.9, size=alt.size)
        alt_use = sp.coo_matrix((alt_use.data * saving[alt_use.col], (alt_use.row, alt_use.col)),
                                shape=(n, alt.size))
        alt_labour = labour[:, alt] * rng.uniform(0.7, 1.0, size=(kinds, alt.size))
        if kinds > 1:
            alt_labour[1:] *= rng.uniform(2.0, 4.0, size=(kinds - 1, alt.size))
        use = sp.hstack([use, alt_use.tocsc()], format="csc")
        labour = np.hstack([labour, alt_labour])
        main = np.concatenate([main, alt])
    n_tech = main.size
    output = rng.uniform(0.8, 1.2, size=n_tech)
    make = sp.coo_matrix((output, (main, np.arange(n_tech))), shape=(n, n_tech)).tocsc()
    if structured and joint_share > 0:
        joint = np.flatnonzero(rng.random(n_tech) < joint_share)
        other = (main[joint] + rng.integers(1, n, size=joint.size)) % n
        jm = sp.coo_matrix((0.1 * output[joint] * rng.random(joint.size), (other, joint)), shape=(n, n_tech))
        make = (make + jm.tocsc()).tocsc()
    net = sp.csr_matrix(make - use)
    net.sum_duplicates()
    net.eliminate_zeros()
    target = np.where(rng.random(n) < target_share, rng.uniform(0.5, 1.5, size=n), 0.0)
    if not target.any():
        target[0] = 1.0
    # Scale resources from the plan with the first technique per good, which is productive by construction.
    base = np.arange(n)
    B = sp.csc_matrix(net[:, base])
    x1 = _jacobi(B, target)
    labour_use = labour[:, base] @ x1
    available = labour_use * rng.uniform(0.9, 1.1, size=kinds)
    if kinds > 1:
        available[1:] = labour_use[1:] * 1.3  # room for some alternatives, not for all
    capacity = np.full(n_tech, np.inf)
    capped = np.flatnonzero(rng.random(n_tech) < capacity_share)
    level = np.maximum(np.concatenate([x1, x1[main[n:]]]), 0.1 * float(np.mean(np.abs(x1))))
    capacity[capped] = level[capped] * rng.uniform(0.85, 1.3, size=capped.size)
    primary = sp.csr_matrix(labour)
    return RayInstance(net, primary, available, capacity, target, main.astype(np.int64))


def _jacobi(B: sp.csc_matrix, rhs: FloatArray) -> FloatArray:
    d = B.diagonal()
    Bcsr = B.tocsr()
    x = rhs / d
    for _ in range(10_000):
        r = rhs - Bcsr @ x
        x += r / d
        if np.max(np.abs(r)) <= 1e-13 * np.max(np.abs(rhs)):
            break
    return np.asarray(x)
