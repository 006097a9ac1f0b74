"""The yearly industrial plan of balanced and quality-weighted regimes, made by needplan's own plan engine.

The six industrial branches and grain form a small :class:`~needplan.economy.model.Economy` (one technique per
product; inputs from the simulator's technology matrix; labour by skill; grain as the food branch's input), built
once per regime and planned with :func:`needplan.plan.build_plan` (ray objective: the most final output in the
regime's proportions). Each year only the bounds change: branch capacities (capital in working order) through
:meth:`~needplan.plan.PlanModel.set_capacity`, labour and grain through ``set_capacity``/``set_available``, and
the engine re-solves warm. This module holds no Leontief or LP arithmetic of its own and draws no random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan.economy import build_economy
from needplan.plan import PlanModel, PlanResult, build_plan
from needplan.simulate.regimes import SimulateError

FloatArray = NDArray[np.float64]

SKILLED_MIN_SHARE = 0.25
"""Share of a branch's jobs that only skilled workers can fill (foremen, fitters, machinists)."""
QUALITY_STEP = 0.01
"""Quality-weighted plans are rebuilt when a branch's quality has moved by more than this since the last build
(an economy is immutable; between rebuilds only bounds change)."""


@dataclass(frozen=True)
class BranchPlanOutcome:
    """One year's plan: gross output per branch (1913 output = 1), the ray level reached, and the engine's
    result (tables, shadow prices, bottlenecks) for the records."""

    gross: FloatArray
    fulfilment: float
    result: PlanResult


class BranchPlanner:
    """Holds the branch economy and its :class:`PlanModel` between years.

    ``A``: branches x branches input coefficients (1913 output of each branch = 1); ``branches``: their ids;
    ``labour_per_unit``: worker-years (millions, at 1913 productivity) per unit of each branch's output.
    Labour availabilities are passed in the same units (workers x productivity), so productivity growth moves a
    bound and not a coefficient, and the plan need not be rebuilt for it.
    """

    def __init__(self, A: sp.csr_matrix, branches: tuple[str, ...], labour_per_unit: FloatArray) -> None:
        self.A = sp.csr_matrix(A)
        self.branches = branches
        self.labour_per_unit = np.asarray(labour_per_unit, dtype=np.float64)
        self.techniques = [f"make_{b}" for b in branches]
        self._model: PlanModel | None = None
        self._key: tuple[object, ...] | None = None
        self.builds = 0

    def _tables(self, needs: FloatArray, quality: FloatArray, quality_weighted: bool) -> dict[str, pd.DataFrame]:
        products = [*self.branches, "grain"]
        goods = pd.DataFrame({
            "good": [*products, "skilled_labour", "labour"],
            "kind": ["product"] * len(products) + ["labour", "labour"],
            "unit": ["1913 output"] * len(products) + ["M worker-years at 1913 productivity"] * 2,
        })
        techniques = pd.DataFrame({"technique": [*self.techniques, "supply_grain"], "good": products,
                                   "capacity": 1.0, "quality": [*np.maximum(quality, 1e-6), 1.0]})
        coo = sp.coo_matrix(self.A)
        keep = coo.data > 0
        inputs = [pd.DataFrame({"technique": np.asarray(self.techniques, dtype=object)[coo.col[keep]],
                                "good": np.asarray(self.branches, dtype=object)[coo.row[keep]],
                                "amount": coo.data[keep]}),
                  pd.DataFrame({"technique": self.techniques, "good": "labour", "amount": self.labour_per_unit}),
                  pd.DataFrame({"technique": self.techniques, "good": "skilled_labour",
                                "amount": SKILLED_MIN_SHARE * self.labour_per_unit}),
                  # The food branch processes grain the state or the market brings to town, one unit per unit.
                  pd.DataFrame({"technique": ["make_food"], "good": ["grain"], "amount": [1.0]})]
        listed = needs > 0
        return {
            "goods": goods, "techniques": techniques, "inputs": pd.concat(inputs, ignore_index=True),
            "resources": pd.DataFrame({"good": ["skilled_labour", "labour"], "available": [1.0, 1.0]}),
            "needs": pd.DataFrame({"good": np.asarray(self.branches, dtype=object)[listed], "target": needs[listed],
                                   "weight": 1.0, "quality_weighted": quality_weighted}),
        }

    def plan(self, capacity: FloatArray, grain_supply: float, labour: float, skilled_labour: float,
             needs: FloatArray, quality: FloatArray, quality_weighted: bool) -> BranchPlanOutcome:
        """Plan one year. ``capacity`` per branch and ``grain_supply`` in 1913 output units; ``labour`` and
        ``skilled_labour`` in M worker-years at 1913 productivity; ``needs`` the final-use proportions per branch
        (>= 0; zero means no final need); ``quality`` per branch (1 = 1913 standard), counted only when
        ``quality_weighted``. Raises :class:`SimulateError` with the engine's explanation if no plan comes back.
        """
        rounded_quality = tuple(np.round(quality / QUALITY_STEP).astype(int)) if quality_weighted else ()
        key = (tuple(np.asarray(needs, dtype=np.float64)), quality_weighted, rounded_quality)
        if self._model is None or key != self._key:
            used_quality = quality if quality_weighted else np.ones(len(self.branches))
            economy = build_economy(self._tables(np.asarray(needs, dtype=np.float64), used_quality,
                                                 quality_weighted),
                                    name="simulator-branches")
            self._model = build_plan(economy, objective="ray")
            self._key = key
            self.builds += 1
        model = self._model
        for technique, cap in zip(self.techniques, capacity, strict=True):
            model.set_capacity(technique, max(float(cap), 0.0))
        model.set_capacity("supply_grain", max(float(grain_supply), 0.0))
        model.set_available("labour", max(float(labour), 0.0))
        model.set_available("skilled_labour", max(float(skilled_labour), 0.0))
        result = model.solve(solver="highs", tolerance=1e-6)
        if not result.has_plan or result.fulfilment is None:
            raise SimulateError(f"the branch plan could not be computed: {result.status}: {result.explanation}")
        # Read activities back by technique id, never by position.
        gross = result.activity["activity"].reindex(self.techniques).to_numpy(dtype=np.float64)
        return BranchPlanOutcome(np.minimum(np.maximum(gross, 0.0), capacity), float(result.fulfilment), result)
