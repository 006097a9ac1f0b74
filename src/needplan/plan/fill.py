"""Fill a ray plan: what the bottlenecks leave free goes to the needs they do not hold back, then to less labour.

The ray objective (Kantorovich) maximises one fulfilment ``lambda`` shared by every need. Its optimum is rarely
unique: the needs the bottlenecks do not hold back can get more, or nothing more, at the same ``lambda``, and a
solver returns whichever vertex it reaches (a generated economy of 1,000 goods: one need at 100.04% and 295 others
at 100.04% where 101.09% was possible). Filling picks one plan among the optimal ones, by rules a user can state:

1. **Leximin** (progressive filling). Every need whose row has a positive price in the ray's dual is held at
   ``lambda`` in every optimal plan (complementary slackness), so it is fixed there. The others share a new
   fulfilment, maximised again; the needs priced in that round are fixed at it, and so on, until every need is
   fixed. The smallest fulfilment is the ray's; the next smallest is as large as it can be given the first, etc.
2. **Least labour.** With every need at its level, the plan that uses the least labour (hours of all kinds added,
   each weighted 1): no surplus of what no need asks for, and among equally good techniques the least
   labour-intensive, instead of the solver's arbitrary choice.

Each round holds the needs fixed before it at their levels exactly, as the round before met them (to HiGHS's
feasibility tolerance, which the next round shares): holding them lower by even 1e-9 let a need whose price was a
small share of the round's rise by 1e-5 (a random economy, seed 20), which is not leximin. The filled plan is an
optimal plan of the ray LP, so the ray's own multipliers (shadow prices, bottleneck prices and their ranges) stay
valid for it: read-back verifies it against the ray LP with them. Rounds 2 on are solved by HiGHS; the
least-labour round by ``fast``'s min-labour path where the ray was ``fast``'s and needed no second round, else by
HiGHS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import highspy
import numpy as np
import scipy.sparse as sp

from needplan.plan.lp import FloatArray, HighsSession, LinearProgram, LpSolution
from needplan.plan.model import PlanModel

LeastLabour = Callable[[LinearProgram, float | None], "LpSolution | None"]
"""Solves a least-labour LP within a time limit in seconds, or declines with ``None``."""

MAX_FILL_ROUNDS = 50
"""Leximin rounds at most (each fixes at least one need; a generated economy of 1,000 goods needs 2). The needs
still free after them are fixed at the last round's fulfilment, and the note says so."""
PRICED_SHARE = 1e-9
"""A need counts as priced in a round when its rows' multipliers times targets are at least this share of the
round's total (they add up to 1 per unit of fulfilment)."""


@dataclass
class Filling:
    """What filling did: the fulfilment each need was fixed at (in the order of ``model.need_goods``), the rounds
    it took and whether the least-labour round ran; ``why`` says what stopped it early ("" when it did not)."""

    level: FloatArray
    rounds: int
    least_labour: bool
    all_labour_used: bool
    why: str = ""
    labour_before: float = float("nan")
    labour_after: float = float("nan")
    seconds: float = 0.0
    iterations: int = 0

    def sentence(self) -> str:
        """One plain sentence for the result's note."""
        lowest = float(self.level.min())
        raised = self.level > lowest * (1 + 1e-9)
        if raised.any():
            text = (f"filled: {int(raised.sum()):,} of {self.level.size:,} needs raised above the ray's fulfilment "
                    f"({lowest:.4%}), up to {float(self.level.max()):.4%}, in {self.rounds - 1} more "
                    f"round{'s' * (self.rounds != 2)}")
        else:
            text = (f"filled: no need can rise above the ray's fulfilment ({lowest:.4%}); the bottlenecks hold all "
                    f"{self.level.size:,} at it")
        if self.least_labour:
            text += (f"; then the least labour for those levels: {self.labour_after:,.6g} against "
                     f"{self.labour_before:,.6g} in the plan before")
        elif self.all_labour_used:
            text += "; every labour kind is fully used in every optimal plan, so none uses less labour"
        return text + (f" ({self.why})" if self.why else "")


def fill(model: PlanModel, sol: LpSolution, *, tolerance: float, time_limit: float | None = None,
         least_labour: LeastLabour | None = None) -> tuple[LpSolution, Filling]:
    """Fill the optimal ray plan ``sol`` of ``model`` (see the module docstring). Returns the filled plan as a
    solution carrying ``sol``'s multipliers and ranges (its ``lambda`` is ``sol``'s), with the rounds' seconds and
    iterations added, and what filling did. ``time_limit`` in seconds per round; a round that does not end optimal
    leaves the plan of the round before it, saying why. ``least_labour``, where given, solves the least-labour
    LP (``lambda`` fixed at 0) first, within a time limit in seconds, returning ``None`` where it declines
    (``fast``'s min-labour path); HiGHS solves it otherwise."""
    if model.objective != "ray" or model.lambda_col is None:
        raise ValueError("filling applies to the ray objective")
    if sol.status != "optimal":
        raise ValueError(f"filling starts from an optimal ray plan, got {sol.status}")
    lp, lam_col = model.lp, model.lambda_col
    rows, need_of = model.need_rows, model.need_of_row
    k = len(model.need_goods)
    coef = _column_entries(lp.A, rows, lam_col)  # -target (per level) on each need row
    lam = float(sol.x[lam_col])
    level = np.full(k, np.nan)
    A, row_lower = lp.A, lp.row_lower.copy()
    x, y = sol.x, sol.row_dual
    why, rounds, seconds, iterations = "", 1, 0.0, 0
    basis: highspy.HighsBasis | None = None
    while True:
        free = np.isnan(level)
        share = np.zeros(k)
        np.add.at(share, need_of, np.abs(y[rows] * coef))
        share = np.where(free, share, 0.0)
        total = share.sum()
        priced = free & (share >= PRICED_SHARE * total) if total > 0 else free
        level[priced] = lam
        fixed_rows = np.flatnonzero(~np.isnan(level[need_of]))
        row_lower[rows[fixed_rows]] = -coef[fixed_rows] * level[need_of[fixed_rows]]
        if not np.isnan(level).any():
            break
        if rounds > MAX_FILL_ROUNDS:
            why = f"{int(np.isnan(level).sum())} needs left at {lam:.4%} after {MAX_FILL_ROUNDS} rounds"
            level[np.isnan(level)] = lam
            break
        # The fixed needs' rows no longer carry lambda: it is now the free needs' fulfilment alone.
        drop = sp.csr_matrix((-coef[fixed_rows], (rows[fixed_rows], np.full(fixed_rows.size, lam_col))),
                             shape=A.shape)
        A = sp.csr_matrix(lp.A + drop)
        A.eliminate_zeros()
        step, basis = _round(replace(lp, A=A, row_lower=row_lower.copy()), tolerance, time_limit, basis)
        seconds, iterations, rounds = seconds + step.seconds, iterations + step.iterations, rounds + 1
        if step.status != "optimal" or step.x[lam_col] < lam * (1 - tolerance):
            free = np.isnan(level)
            why = (f"round {rounds} ended {step.status} ({step.message}); {int(free.sum())} needs left at "
                   f"{lam:.4%}" if step.status != "optimal" else f"round {rounds} found less than the round before")
            level[free] = lam
            row_lower[rows] = np.where(np.isnan(level[need_of]), row_lower[rows],
                                       -coef * level[need_of])
            break
        x, y, lam = step.x, step.row_dual, float(step.x[lam_col])

    # The least labour for those levels: lambda out of every row (fixed at 0), labour hours as the cost.
    labour = model.economy.labour
    cost = np.zeros(lp.n_cols)
    cost[:model.n_techniques] = np.asarray(sp.csr_matrix(model.economy.use)[labour].sum(axis=0)).ravel()
    before = after = float(cost @ x)
    all_used = labour.size > 0 and _all_labour_priced(model, sol)
    least = labour.size > 0 and not all_used
    if least:
        col_upper = lp.col_upper.copy()
        col_upper[lam_col] = 0.0
        last = replace(lp, row_lower=row_lower, cost=cost, col_upper=col_upper, maximize=False)
        by_fast = least_labour(last, time_limit) if least_labour is not None and rounds == 1 else None
        step = by_fast if by_fast is not None else _round(last, tolerance, time_limit, basis)[0]
        seconds, iterations = seconds + step.seconds, iterations + step.iterations
        if step.status == "optimal":
            x, after = step.x, float(cost @ step.x)
        else:
            least = False
            why = "; ".join(filter(None, [why, f"the least-labour round ended {step.status} ({step.message})"]))
    filled = x.copy()
    filled[lam_col] = sol.x[lam_col]
    out = LpSolution(sol.status, filled, sol.row_dual, sol.col_dual, sol.iterations + iterations,
                     sol.seconds + seconds, sol.solver, sol.message, dict(sol.extra), sol.ranges)
    return out, Filling(level, rounds, least, all_used, why, before, after, seconds, iterations)


def _all_labour_priced(model: PlanModel, sol: LpSolution) -> bool:
    """Whether every labour kind has a positive price in the ray's dual: then every optimal plan uses all of it
    (complementary slackness), so the labour is the same in all and the least-labour round can change nothing (a
    uniform economy of 3,000 goods: HiGHS took 23 s to confirm that, beside fast's 0.01 s for the ray)."""
    rows = model.rows
    primary = np.flatnonzero(model.kind_is("primary"))
    labour_rows = primary[np.isin(rows["good"].to_numpy()[primary], model.economy.labour)]
    has_row = np.isin(model.economy.labour, rows["good"].to_numpy()[labour_rows])
    if not has_row.all():  # a kind without a finite availability has no row, hence no price
        return False
    worth = np.abs(sol.row_dual[labour_rows] * model.lp.row_upper[labour_rows])
    return bool(np.all(worth >= PRICED_SHARE * abs(float(sol.x[model.lambda_col]))))


def _column_entries(A: sp.csr_matrix, rows: np.ndarray, col: int) -> FloatArray:
    """``A[rows, col]`` as a dense vector (one column taken, not a block of rows)."""
    return np.asarray(A[:, col:col + 1].toarray(), dtype=np.float64).ravel()[rows]


def _round(lp: LinearProgram, tolerance: float, time_limit: float | None,
           basis: highspy.HighsBasis | None) -> tuple[LpSolution, highspy.HighsBasis]:
    """One round by HiGHS, warm from the round before's basis where there is one."""
    session = HighsSession(lp, tolerance=tolerance, time_limit=time_limit)
    if basis is not None:
        session.highs.setBasis(basis)
    return session.run(), session.highs.getBasis()
