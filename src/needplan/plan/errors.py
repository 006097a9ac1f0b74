"""Errors of the plan engine; all are :class:`~needplan.errors.NeedplanError`, so the CLI prints one line each."""

from __future__ import annotations

from needplan.errors import NeedplanError


class PlanInputError(NeedplanError, ValueError):
    """The economy or the request cannot be planned as asked (no positive target, nothing can be produced...)."""


class SolverUnavailableError(NeedplanError):
    """The requested solver is not available in this installation."""


class PlanInfeasibleError(NeedplanError):
    """No plan satisfies the constraints; the message names the smallest conflicting set found."""
