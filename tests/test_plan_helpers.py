"""Small economies for the plan tests, built from tables (so they pass the same validation as folders)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import OptimizeResult, linprog

from needplan.economy.model import Economy
from needplan.economy.validate import build_economy
from needplan.plan.lp import LinearProgram


def economy(goods: list[tuple[str, str]], techniques: list[tuple], inputs: list[tuple], resources: list[tuple],
            needs: list[tuple], outputs: list[tuple] | None = None, name: str = "test") -> Economy:
    """goods: (id, kind); techniques: (id, good, output, capacity or None, quality); inputs/outputs:
    (technique, good, amount); resources: (good, available); needs: (good, target, weight[, quality_weighted])."""
    tables = {
        "goods": pd.DataFrame({"good": [g for g, _ in goods], "kind": [k for _, k in goods],
                               "unit": ["u"] * len(goods)}),
        "techniques": pd.DataFrame({"technique": [t[0] for t in techniques], "good": [t[1] for t in techniques],
                                    "output": [t[2] for t in techniques],
                                    "capacity": ["" if t[3] is None else t[3] for t in techniques],
                                    "quality": [t[4] for t in techniques]}),
        "inputs": pd.DataFrame(inputs, columns=["technique", "good", "amount"]),
        "resources": pd.DataFrame(resources, columns=["good", "available"]),
        "needs": pd.DataFrame({"good": [n[0] for n in needs], "target": [n[1] for n in needs],
                               "weight": [n[2] for n in needs],
                               "quality_weighted": [n[3] if len(n) > 3 else True for n in needs]}),
    }
    if outputs:
        tables["outputs"] = pd.DataFrame(outputs, columns=["technique", "good", "amount"])
    return build_economy(tables, name=name)


def random_economy(seed: int, scale: float = 1.0) -> Economy:
    """A small productive economy with alternatives, capacities, two labour kinds and a resource.

    ``scale`` multiplies targets, availabilities and capacities together (for the scaling property).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    prods = [f"p{i}" for i in range(n)]
    goods = [(p, "product") for p in prods] + [("lab_a", "labour"), ("lab_b", "labour"), ("land", "resource")]
    techniques, inputs, outputs = [], [], []
    for i, p in enumerate(prods):
        for k in range(int(rng.integers(1, 3))):
            t = f"t{i}_{k}"
            cap = float(rng.uniform(2, 40)) * scale if rng.random() < 0.3 else None
            techniques.append((t, p, 1.0, cap, float(rng.choice([1.0, 1.0, 0.7, 1.2]))))
            for j, q in enumerate(prods):
                if j != i and rng.random() < 0.5:
                    inputs.append((t, q, float(rng.uniform(0, 0.4 / n))))
            inputs.append((t, "lab_a", float(rng.uniform(0.2, 2))))
            if rng.random() < 0.5:
                inputs.append((t, "lab_b", float(rng.uniform(0.1, 1))))
            if rng.random() < 0.3:
                inputs.append((t, "land", float(rng.uniform(0.1, 1))))
            if k == 1 and rng.random() < 0.3:
                outputs.append((t, prods[(i + 1) % n], float(rng.uniform(0.05, 0.3))))
    resources = [("lab_a", float(rng.uniform(20, 80)) * scale), ("lab_b", float(rng.uniform(10, 40)) * scale),
                 ("land", float(rng.uniform(10, 40)) * scale)]
    needs = [(p, float(rng.uniform(1, 10)) * scale, float(rng.uniform(0.5, 2)), bool(rng.random() < 0.7))
             for p in prods]
    return economy(goods, techniques, inputs, resources, needs, outputs or None, name=f"random{seed}")


def reference_linprog(lp: LinearProgram, tolerance: float = 1e-10) -> OptimizeResult:
    """The engine's LP solved by scipy's own HiGHS dual simplex (an independent path to the same optimum)."""
    upper, lower = np.isfinite(lp.row_upper), np.isfinite(lp.row_lower)
    return linprog(lp.cost, A_ub=sp.vstack([lp.A[upper], -lp.A[lower]]),
                   b_ub=np.concatenate([lp.row_upper[upper], -lp.row_lower[lower]]),
                   bounds=np.column_stack([lp.col_lower, lp.col_upper]),
                   method="highs-ds", options={"primal_feasibility_tolerance": tolerance,
                                               "dual_feasibility_tolerance": tolerance})
