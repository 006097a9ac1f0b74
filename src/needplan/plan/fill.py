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
    """What filling did. ``level``: the fulfilment each need was fixed at (in the order of ``model.need_goods``);
    ``first``: each need's fulfilment in the ray plan filling started from; ``labour_first`` and ``labour``: that
    plan's hours of labour (all kinds added) and the filled plan's; ``holders``: the limits that bind in the rounds
    after the ray's (what holds the raised needs); ``why``: what stopped it early ("" when it finished)."""

    level: FloatArray
    first: FloatArray
    rounds: int
    least_labour: bool
    all_labour_used: bool
    labour_first: float
    labour: float
    holders: list[str]
    why: str = ""

    def sentence(self) -> str:
        """What filling did, in one plain sentence for the result's note."""
        lowest = float(self.level.min()) + 0.0  # (+ 0.0: a fulfilment of 0 reads 0, not -0)
        raised = self.level > lowest * (1 + 1e-9)
        part = f"filled only in part ({self.why}): " if self.why else "filled: "
        if raised.any():
            text = (f"{part}{int(raised.sum()):,} of {self.level.size:,} needs above the ray's fulfilment of "
                    f"{lowest:.4%}, up to {float(self.level.max()):.4%}")
            if self.holders:
                text += f", held there by {_names(self.holders)}"
        else:
            text = (f"{part}no need above the ray's fulfilment of {lowest:.4%}"
                    + ("" if self.why else ": the bottlenecks hold " + (
                        "the one need" if self.level.size == 1 else f"all {self.level.size:,}") + " at it"))
        more = int(np.sum(self.level > self.first * (1 + 1e-7)))
        less = int(np.sum(self.level < self.first * (1 - 1e-7)))
        if more or less:
            text += (f"; against the solver's first optimal plan, {more:,} need{'s' * (more != 1)} "
                     f"{'get' if more != 1 else 'gets'} more and {less:,} less")
        if self.labour_first > 0 or self.labour > 0:
            text += f"; labour {_amount(self.labour)} against {_amount(self.labour_first)} in that plan"
            if self.all_labour_used:
                text += " (every labour kind is used up in every optimal plan)"
        return text


def _names(names: list[str], first: int = 3) -> str:
    more = len(names) - first
    return ", ".join(names[:first]) + (f" and {more} more" if more > 0 else "")


def _amount(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1e5 else f"{value:,.6g}"


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
    x, y = sol.x, sol.row_dual
    why, rounds, seconds, iterations = "", 1, 0.0, 0
    basis: highspy.HighsBasis | None = None
    holders: dict[str, None] = {}  # in order, once each
    step = sol

    def held(relax: float) -> FloatArray:
        """The LP's row bounds with each fixed need at its level, lowered by ``relax`` relative."""
        lower = lp.row_lower.copy()
        fixed = ~np.isnan(level[need_of])
        lower[rows[fixed]] = -coef[fixed] * level[need_of[fixed]] * (1.0 - relax)
        return lower

    def solved(build: Callable[[FloatArray], LinearProgram]) -> LpSolution:
        """HiGHS on the LP with the fixed needs held exactly, or, where that fails, lowered by a tenth of the
        tolerance (a structured economy of 300 goods: the least-labour LP at exactly the levels the round before
        met to HiGHS's tolerance was called "Unknown" by HiGHS, and by scipy's HiGHS; a tenth of the tolerance
        lower it has its optimum)."""
        nonlocal seconds, iterations, basis
        step, basis_after = _round(build(held(0.0)), tolerance, time_limit, basis)
        if step.status in ("stopped", "infeasible") and not step.message.startswith("Time limit"):
            again, basis_after = _round(build(held(tolerance / 10)), tolerance, time_limit, basis)
            again.seconds += step.seconds
            again.iterations += step.iterations
            step = again
        basis = basis_after
        seconds, iterations = seconds + step.seconds, iterations + step.iterations
        return step

    while True:
        free = np.isnan(level)
        share = np.zeros(k)
        np.add.at(share, need_of, np.abs(y[rows] * coef))
        share = np.where(free, share, 0.0)
        total = share.sum()
        level[free & (share >= PRICED_SHARE * total) if total > 0 else free] = lam
        if rounds > 1:
            holders.update(dict.fromkeys(_binding(model, step, lam)))
        if not np.isnan(level).any():
            break
        if rounds > MAX_FILL_ROUNDS:
            why = (f"{int(np.isnan(level).sum()):,} needs left where the last of {MAX_FILL_ROUNDS} rounds put "
                   "them")
            break
        # The fixed needs' rows no longer carry lambda: it is now the free needs' fulfilment alone.
        fixed_rows = np.flatnonzero(~np.isnan(level[need_of]))
        drop = sp.csr_matrix((-coef[fixed_rows], (rows[fixed_rows], np.full(fixed_rows.size, lam_col))),
                             shape=lp.A.shape)
        A = sp.csr_matrix(lp.A + drop)
        A.eliminate_zeros()
        step = solved(lambda lower, A=A: replace(lp, A=A, row_lower=lower))  # type: ignore[misc]
        rounds += 1
        if step.status != "optimal" or step.x[lam_col] < lam * (1 - tolerance):
            left = int(np.isnan(level).sum())
            why = (f"its round {rounds} ended {step.status}, {step.message}; {left:,} need{'s' * (left != 1)} left "
                   "where the round before put them" if step.status != "optimal" else
                   f"its round {rounds} found less than the round before")
            break
        x, y, lam = step.x, step.row_dual, float(step.x[lam_col])
    # Needs a stopped filling left free keep what the last plan gives them (at least lambda), not lambda alone: the
    # least-labour round would otherwise take from them what the solver's first plan gave.
    free = np.isnan(level)
    level[free] = _fulfilment(model, x, coef)[free]

    # The least labour for those levels: lambda out of every row (fixed at 0), labour hours as the cost.
    labour = model.economy.labour
    cost = np.zeros(lp.n_cols)
    cost[:model.n_techniques] = np.asarray(sp.csr_matrix(model.economy.use)[labour].sum(axis=0)).ravel()
    all_used = labour.size > 0 and _all_labour_priced(model, sol)
    least = labour.size > 0 and not all_used
    if least:
        col_upper = lp.col_upper.copy()
        col_upper[lam_col] = 0.0

        def last(lower: FloatArray) -> LinearProgram:
            return replace(lp, row_lower=lower, cost=cost, col_upper=col_upper, maximize=False)

        by_fast = least_labour(last(held(0.0)), time_limit) if least_labour is not None and rounds == 1 else None
        step = by_fast if by_fast is not None else solved(last)
        if by_fast is not None:
            seconds, iterations = seconds + step.seconds, iterations + step.iterations
        if step.status == "optimal":
            x = step.x
        else:
            least = False
            why = "; ".join(filter(None, [why, f"the least-labour round ended {step.status}, {step.message}"]))
    # HiGHS keeps bounds to its tolerance in its own scaled units: an activity of -1e-9 where the flows it feigns
    # are 1e-7 of its row's (tolerance 1e-8, structured, 50 goods) failed read-back's check. Back inside them.
    filled = np.clip(x, lp.col_lower, lp.col_upper)
    filled[lam_col] = sol.x[lam_col]
    out = LpSolution(sol.status, filled, sol.row_dual, sol.col_dual, sol.iterations + iterations,
                     sol.seconds + seconds, sol.solver, sol.message, dict(sol.extra), sol.ranges)
    first = _fulfilment(model, sol.x, coef)
    return out, Filling(level, first, rounds, least, all_used, float(cost @ sol.x), float(cost @ filled),
                        list(holders), why)


def _fulfilment(model: PlanModel, x: FloatArray, coef: FloatArray) -> FloatArray:
    """Each need's fulfilment in plan ``x`` (its least over its rows, lambda's own term left out)."""
    assert model.lambda_col is not None
    rows = model.need_rows
    counted = (model.lp.A @ x)[rows] - coef * x[model.lambda_col]
    out = np.full(len(model.need_goods), np.inf)
    np.minimum.at(out, model.need_of_row, counted / -coef)
    return out


def _binding(model: PlanModel, step: LpSolution, lam: float) -> list[str]:
    """The labour kinds, resources and capacities a round's multipliers price (the same share as needs)."""
    lp, n_t = model.lp, model.n_techniques
    primary = np.flatnonzero(model.kind_is("primary"))
    worth = np.abs(step.row_dual[primary] * lp.row_upper[primary])
    goods = model.rows["good"].to_numpy()[primary[(worth > 0) & (worth >= PRICED_SHARE * abs(lam))]]
    cap = lp.col_upper[:n_t]
    limited = np.flatnonzero(np.isfinite(cap))
    rent = np.abs(step.col_dual[limited]) * cap[limited]
    caps = limited[(rent > 0) & (rent >= PRICED_SHARE * abs(lam))]
    return ([str(model.economy.goods[g]) for g in goods]
            + [f"the capacity of {model.economy.techniques[j]}" for j in caps])


def _all_labour_priced(model: PlanModel, sol: LpSolution) -> bool:
    """Whether every labour kind has a positive price in the ray's dual: then every optimal plan uses all of it
    (complementary slackness), so the labour is the same in all and the least-labour round can change nothing."""
    rows = model.rows
    primary = np.flatnonzero(model.kind_is("primary"))
    labour_rows = primary[np.isin(rows["good"].to_numpy()[primary], model.economy.labour)]
    has_row = np.isin(model.economy.labour, rows["good"].to_numpy()[labour_rows])
    if not has_row.all():  # a kind without a finite availability has no row, hence no price
        return False
    worth = np.abs(sol.row_dual[labour_rows] * model.lp.row_upper[labour_rows])
    # (> 0 too: at a fulfilment of 0 every worth is 0, and none is priced)
    return bool(np.all((worth > 0) & (worth >= PRICED_SHARE * abs(float(sol.x[model.lambda_col])))))


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
