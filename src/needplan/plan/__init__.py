"""Planning: build the LP of an economy, solve it (HiGHS or the structure-exploiting ``fast`` solver), read back
verified plans with shadow prices and bottleneck explanations.

Three steps, so that a user can change the model in between::

    model = build_plan(economy, objective="ray")
    model.add_constraint({"shoe_factory": 1.0}, upper=20_000, name="factory_limit")
    result = model.solve(solver="highs", tolerance=1e-6)
    result.needs, result.bottlenecks, result.to_json()
"""

from needplan.data.names import OBJECTIVES, SOLVERS
from needplan.economy.model import Economy
from needplan.plan.errors import PlanInfeasibleError, PlanInputError, SolverUnavailableError
from needplan.plan.model import PlanModel, build_plan, harmony
from needplan.plan.result import PlanResult

__all__ = ["OBJECTIVES", "SOLVERS", "PlanInfeasibleError", "PlanInputError", "PlanModel", "PlanResult",
           "SolverUnavailableError", "build_plan", "harmony", "plan"]


def plan(economy: Economy, objective: str = "ray", *, solver: str = "auto",
         tolerance: float = 1e-6, fill: str | None = None) -> PlanResult:
    """Build and solve in one call: ``build_plan(economy, objective).solve(solver, tolerance, fill=fill)``."""
    return build_plan(economy, objective).solve(solver, tolerance, fill=fill)  # type: ignore[arg-type]
