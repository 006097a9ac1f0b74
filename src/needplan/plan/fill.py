"""Fill a ray plan: what the bottlenecks leave free goes to the needs they do not hold back, or to less labour.

The ray objective (Kantorovich) maximises one fulfilment ``lambda`` shared by every need. Its optimum is rarely
unique: the needs the bottlenecks do not hold back can get more, or nothing more, at the same ``lambda``, and a
solver returns whichever vertex it reaches (a generated economy of 1,000 goods: all 296 needs at 100.04%, where
295 could reach 101.09%). Filling picks one plan among the optimal ones, by rules a user can state. ``leximin``
takes both steps below; ``least-labour`` only the second, with every need at the ray's fulfilment (the surplus
beyond it becomes labour saved):

1. **Leximin** (progressive filling). Every need whose row has a positive price in the ray's dual is held at
   ``lambda`` in every optimal plan (complementary slackness), so it is fixed there. The others share a new
   fulfilment, maximised again; the needs priced in that round are fixed at it, and so on, until every need is
   fixed. The smallest fulfilment is the ray's; the next smallest is as large as it can be given the first, etc.
2. **Least labour.** With every need at its level, the plan that uses the least labour (hours of all kinds added,
   each weighted 1): no surplus of what no need asks for, and among equally good techniques the least
   labour-intensive, instead of the solver's arbitrary choice.

Each round holds the needs fixed before it at their levels exactly (by a column of its own, see :func:`fill`):
holding them lower by even 1e-9 let a need whose price was a small share of the round's rise by 1e-5 (a random
economy, seed 20), which is not leximin. A round's rise, or the least-labour round's saving, within what bounds
moved by the tolerance can move its optimum (:func:`_noise`) is no gain: the plan before is kept. The filled plan
is an optimal plan of the ray LP, so the ray's own multipliers (shadow prices, bottleneck prices and their ranges)
stay valid for it: read-back verifies it against the ray LP with them. Rounds 2 on are solved by HiGHS; the
least-labour round by ``fast``'s min-labour path where the ray was ``fast``'s and needed no second round, else by
HiGHS. Which needs a round holds back is read off its multipliers (:data:`PRICED_SHARE`; checked against an LP per
level on economies of up to 3,000 goods: docs/plan.md, "Filling a ray plan").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import scipy.sparse as sp

from needplan.data.names import FILLS
from needplan.plan.lp import (
    FloatArray,
    HighsSession,
    IntArray,
    LinearProgram,
    LpSolution,
    column_entries,
    dual_size,
    row_flows,
)
from needplan.plan.model import PlanModel

LeastLabour = Callable[[LinearProgram, float | None], "LpSolution | None"]
"""Solves a least-labour LP within a time limit in seconds, or declines with ``None``."""

MAX_FILL_ROUNDS = 50
"""Leximin rounds at most (each fixes at least one need; a generated economy of 1,000 goods needs 2). The needs
still free after them keep what the last round's plan gives them, and the note says so."""
PRICED_SHARE = 1e-9
"""A need counts as priced in a round when its rows' multipliers times targets (which add up to 1 over the needs
still free) are at least this share of their total, and the round's plan holds it at the round's fulfilment (to
the tolerance: a need with room to spare cannot be held back); a limit, when its multiplier times its bound is at
least this share of the round's fulfilment. Exact in exact arithmetic (complementary slackness); at 3,000 structured
goods, shares of 2.3e-9 are genuine (docs/plan.md, "Which needs a round fixes")."""


@dataclass
class Filling:
    """What filling did. ``level``: each need's fulfilment in the filled plan (in the order of ``model.need_goods``;
    the level it was fixed at, more where a joint product makes more, to the tolerance less where a round was
    solved a tenth of it lower); ``first``: in the ray plan filling started from; ``ray``: the ray's fulfilment;
    ``rounds``: the rounds, the ray's included; ``least_labour``: whether the least-labour round ran and ended
    optimal; ``all_labour_used``: whether it was left out because the ray's dual prices every labour kind;
    ``labour_first`` and ``labour``: the first plan's hours of labour (all kinds added) and the filled plan's;
    ``holders``: the limits the last round's multipliers price (what holds the highest needs); ``why``: what
    stopped filling early ("" when it finished); ``how``: one of :data:`FILLS`; ``tolerance``: below which
    relative differences of fulfilment are not counted."""

    level: FloatArray
    first: FloatArray
    ray: float
    rounds: int
    least_labour: bool
    all_labour_used: bool
    labour_first: float
    labour: float
    holders: list[str]
    why: str = ""
    how: str = "leximin"
    tolerance: float = 1e-6

    def sentence(self) -> str:
        """What filling did, in one plain sentence for the result's note."""
        if self.how == "least-labour" and not self.least_labour and not self.all_labour_used and not self.why:
            return "not filled: the economy has no labour kind to save"
        lowest = self.ray + 0.0  # (+ 0.0: a fulfilment of 0 reads 0, not -0)
        close = max(self.tolerance, 1e-9)  # (a round solved a tenth of the tolerance lower is no change)
        raised = self.level > lowest * (1 + close) + 1e-12
        part = f"filled only in part ({self.why}): " if self.why else "filled: "
        if self.how == "least-labour":
            part = part.replace("filled", "filled with the least labour", 1)
        if raised.any():
            text = (f"{part}{int(raised.sum()):,} of {self.level.size:,} needs above the ray's fulfilment of "
                    f"{lowest:.4%}, up to {float(self.level.max()):.4%}")
            if self.holders:
                text += f", held there by {_names(self.holders)}"
        else:
            text = (f"{part}no need above the ray's fulfilment of {lowest:.4%}"
                    + ("" if self.why or self.how != "leximin" else ": the bottlenecks hold " + (
                        "the one need" if self.level.size == 1 else f"all {self.level.size:,}") + " at it"))
        more = int(np.sum(self.level > self.first * (1 + close)))
        less = int(np.sum(self.level < self.first * (1 - close)))
        if more or less:
            text += (f"; against the solver's first optimal plan, {_many(more, 'need')} "
                     f"{'get' if more != 1 else 'gets'} more and {less:,} less")
        if self.labour_first > 0 or self.labour > 0:
            text += f"; labour {_amount(self.labour)} against {_amount(self.labour_first)} in that plan"
            if self.all_labour_used:
                text += " (every labour kind is used up in every optimal plan)"
        return text


def _many(n: int, word: str) -> str:
    """``n`` of ``word``: "1 need", "2 needs"."""
    return f"{n:,} {word}{'s' * (n != 1)}"


def _names(names: list[str], first: int = 3) -> str:
    more = len(names) - first
    return ", ".join(names[:first]) + (f" and {more} more" if more > 0 else "")


def _amount(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1e5 else f"{value:,.6g}"


def fill(model: PlanModel, sol: LpSolution, *, how: str = "leximin", tolerance: float,
         time_limit: float | None = None, least_labour: LeastLabour | None = None,
         rounds_by_highs: bool = True) -> tuple[LpSolution, Filling]:
    """Fill the optimal ray plan ``sol`` of ``model`` the way ``how`` names (:data:`FILLS`; see the module
    docstring). Returns the filled plan as a
    solution carrying ``sol``'s multipliers and ranges (its ``lambda`` is ``sol``'s), with the rounds' seconds and
    iterations added, and what filling did. ``time_limit`` in seconds per round; a round that does not end optimal
    leaves the plan of the round before it, saying why. ``least_labour``, where given (the ray was ``fast``'s),
    solves the least-labour LP (``lambda`` fixed at 0, the needs' levels in their rows' bounds) first, within a
    time limit in seconds, returning ``None`` where it declines (``fast``'s min-labour path); HiGHS solves it
    otherwise. Without ``rounds_by_highs`` no leximin round after the ray's is tried (they are HiGHS's: for LPs
    of a size it does not solve in reasonable time)."""
    if model.objective != "ray" or model.lambda_col is None:
        raise ValueError("filling applies to the ray objective")
    if sol.status != "optimal":
        raise ValueError(f"filling starts from an optimal ray plan, got {sol.status}")
    if how not in FILLS:
        raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {how!r}")
    lp, lam_col = model.lp, model.lambda_col
    rows, need_of = model.need_rows, model.need_of_row
    k = len(model.need_goods)
    coef = column_entries(lp.A, rows, lam_col)  # -target (per level) on each need row
    lam = float(sol.x[lam_col])
    level = np.full(k, np.nan)
    x, y = sol.x, sol.row_dual
    why, rounds, seconds, iterations = "", 1, 0.0, 0
    holders: list[str] = []
    step = sol
    # Each round after the ray's adds a column of its own, the free needs' further fulfilment, entered in their rows
    # as lambda is; lambda and the columns before are fixed where the last plan put them. So the needs fixed in
    # earlier rounds keep their levels exactly and the last plan is feasible in the next round. Each round is a
    # new HiGHS instance, from nothing: warm starts took more pivots, not fewer (3,000 structured goods: the second
    # round from the ray's basis 11,040 against 5,901; one instance warm from round to round, 109 s in all against
    # 68 s).
    cur = replace(lp, col_lower=lp.col_lower.copy(), col_upper=lp.col_upper.copy(), cost=np.zeros(lp.n_cols))
    fixed: list[int] = []  # lambda, then the rounds' columns, fixed at their values in the plan that set them
    values: list[float] = []  # (kept apart: a round solved lower must not lower the next round's levels again)

    def solved(build: Callable[[float], LinearProgram]) -> tuple[LpSolution, float]:
        """HiGHS on the round's LP (``build(relax)``: the fixed columns lowered by ``relax`` relative), exactly,
        or, where that fails, a tenth of the tolerance lower (a structured economy of 300 goods: "Unknown" to
        HiGHS, and to scipy's HiGHS, at exactly the levels). Returns the answer and its :func:`_noise`."""
        nonlocal seconds, iterations
        round_lp = build(0.0)
        # (not persisting where HiGHS fails at the exact levels: its interior point method and last-resort settings
        # took 58-183 s a round there, to fail, at 2,000 structured goods, where the LP a tenth of the tolerance lower
        # took 3-5 s)
        step = HighsSession(round_lp, tolerance=tolerance, time_limit=time_limit, persist=False).run()
        if step.status in ("stopped", "infeasible") and not step.message.startswith("Time limit"):
            round_lp = build(tolerance / 10)
            again = HighsSession(round_lp, tolerance=tolerance, time_limit=time_limit).run()
            again.seconds += step.seconds
            again.iterations += step.iterations
            step = again
        seconds, iterations = seconds + step.seconds, iterations + step.iterations
        return step, _noise(round_lp, step, tolerance)

    def at(base: LinearProgram, relax: float, cost: FloatArray | None = None) -> LinearProgram:
        """``base`` with its fixed columns at their values in the last plan, lowered by ``relax`` relative (and
        ``cost`` to minimise, where given)."""
        lower, upper = base.col_lower.copy(), base.col_upper.copy()
        lower[fixed] = upper[fixed] = np.asarray(values) * (1.0 - relax)
        if cost is None:
            return replace(base, col_lower=lower, col_upper=upper)
        return replace(base, col_lower=lower, col_upper=upper, cost=cost, maximize=False)

    while True:
        free = np.isnan(level)
        share = np.zeros(k)
        np.add.at(share, need_of, np.abs(y[rows] * coef))
        share = np.where(free, share, 0.0)
        total = share.sum()
        held = _fulfilment(model, x[:lp.n_cols], coef) <= lam * (1 + tolerance) + tolerance
        priced = free & (share >= PRICED_SHARE * total) & held if total > 0 else free
        if not priced.any():  # (rounding only: the shares add up to 1) the largest, so that every round fixes one
            priced[np.argmax(share)] = True
        if how == "least-labour":
            priced = free
        level[priced] = lam
        if rounds > 1:
            holders = _binding(model, step, lam)
        if not np.isnan(level).any():
            break
        if rounds > MAX_FILL_ROUNDS:
            left = int(np.isnan(level).sum())
            why = (f"{_many(left, 'need')} left where the last of {_many(MAX_FILL_ROUNDS, 'round')} put "
                   f"{'them' if left != 1 else 'it'}")
            break
        if not rounds_by_highs:
            # The LP is one HiGHS does not solve in reasonable time (a uniform economy of 3x10^5 goods, two needs
            # free after the ray's round: no answer in 270 s), so no round is tried.
            left = int(np.isnan(level).sum())
            why = (f"{_many(left, 'need')} could rise further; the rounds after the ray's are "
                   "HiGHS's, not tried at the size fast solved")
            break
        fixed.append(lam_col if rounds == 1 else cur.n_cols - 1)
        values.append(float(x[fixed[-1]]))
        free_rows = np.flatnonzero(np.isnan(level[need_of]))
        column = sp.csr_matrix((coef[free_rows], (rows[free_rows], np.zeros(free_rows.size, dtype=np.int64))),
                               shape=(lp.n_rows, 1))
        cost = np.zeros(cur.n_cols + 1)
        cost[-1] = -1.0
        cur = replace(cur, A=sp.csr_matrix(sp.hstack([cur.A, column], format="csr")), cost=cost,
                      col_lower=np.append(cur.col_lower, 0.0), col_upper=np.append(cur.col_upper, np.inf))
        step, noise = solved(partial(at, cur))
        rounds += 1
        if step.status != "optimal":
            left = int(np.isnan(level).sum())
            needs = _many(left, "need")
            it = "them" if left != 1 else "it"
            why = (f"the {needs} still free can rise without limit: nothing they need is limited; left where the "
                   f"round before put {it}" if step.status == "unbounded" else
                   f"its round {rounds} ended {step.status}, {step.message}; {needs} left where the round before "
                   f"put {it}")
            break
        y = step.row_dual
        if step.x[-1] > noise:
            x = step.x
            lam += float(x[-1])
        else:  # a rise within the tolerance is none: the needs this round prices stay at lambda, in the plan before
            x = np.append(x, 0.0)
    x = np.concatenate([x, np.zeros(cur.n_cols - x.size)])  # (a stop before a round's plan: its column at 0)
    # Needs a stopped filling left free keep what the last plan gives them (at least lambda), not lambda alone: the
    # least-labour round would otherwise take from them what the solver's first plan gave.
    free = np.isnan(level)
    level[free] = _fulfilment(model, x[:lp.n_cols], coef)[free]
    if free.any():  # their rows held at their flows in that plan (the columns entered in them are fixed)
        free_rows = rows[free[need_of]]
        lower = cur.row_lower.copy()
        lower[free_rows] = np.maximum(lower[free_rows], (cur.A @ x)[free_rows])
        cur = replace(cur, row_lower=lower)

    # The least labour for those levels: every round's column fixed, labour hours the cost.
    labour = model.economy.labour
    cost = np.zeros(cur.n_cols)
    cost[:model.n_techniques] = np.asarray(sp.csr_matrix(model.economy.use)[labour].sum(axis=0)).ravel()
    all_used = labour.size > 0 and _all_labour_priced(model, sol)
    least = labour.size > 0 and not all_used
    if least:
        fixed.append(cur.n_cols - 1 if cur.n_cols > lp.n_cols else lam_col)
        values.append(float(x[fixed[-1]]))
        by_fast = None
        if least_labour is not None:
            # fast's min-labour path takes targets as row bounds: each need's level moves into its rows
            lower, upper = lp.row_lower.copy(), lp.col_upper.copy()
            lower[rows] = -coef * level[need_of]
            upper[lam_col] = 0.0
            fast_lp = replace(lp, row_lower=lower, col_upper=upper, cost=cost[:lp.n_cols], maximize=False)
            by_fast = least_labour(fast_lp, time_limit)
        if by_fast is not None:
            step, noise = by_fast, _noise(fast_lp, by_fast, tolerance)
            seconds, iterations = seconds + step.seconds, iterations + step.iterations
        else:
            step, noise = solved(partial(at, cur, cost=cost))
        if step.status == "optimal":
            # (a saving within the tolerance is none: the plan before keeps its levels exactly; HiGHS's saved 1e-7
            # of the labour by holding every need that share below its level, Sweden 2016 with CO2 at 70%)
            if float(cost @ x) - float(cost[:step.x.size] @ step.x) > noise:
                x = step.x
        else:
            least = False
            why = "; ".join(filter(None, [why, f"the least-labour round ended {step.status}, {step.message}"]))
    x = x[:lp.n_cols]
    # HiGHS keeps bounds to its tolerance in its own scaled units: an activity of -1e-9 where the flows it feigns
    # are 1e-7 of its row's (tolerance 1e-8, structured, 50 goods) failed read-back's check. Back inside them.
    filled = np.clip(x, lp.col_lower, lp.col_upper)
    filled[lam_col] = sol.x[lam_col]
    out = LpSolution(sol.status, filled, sol.row_dual, sol.col_dual, sol.iterations + iterations,
                     sol.seconds + seconds, sol.solver, sol.message, dict(sol.extra), sol.ranges)
    first = _fulfilment(model, sol.x, coef)
    per_hour = cost[:lp.n_cols]
    final = _fulfilment(model, filled, coef)
    return out, Filling(final, first, float(sol.x[lam_col]), rounds, least, all_used, float(per_hour @ sol.x),
                        float(per_hour @ filled), holders, why, how, tolerance)


def _noise(lp: LinearProgram, step: LpSolution, tolerance: float) -> float:
    """How far a round's optimum may move, to first order, when its bounds move by the tolerance (a share of
    themselves): the tolerance times :func:`~needplan.plan.lp.dual_size` (0 without a plan). A round whose gain is
    within it gained nothing: on Spain 2019 (product technology, labour binding, one technique per product) the
    needs fixed at the ray's fulfilment were held a tenth of the tolerance below it, and the 1.8 FTE of labour that
    freed raised a need of 0.13 million euros to 15,455% of its target."""
    if step.status != "optimal" or step.row_dual.size != lp.n_rows or step.col_dual.size != lp.n_cols:
        return 0.0
    return tolerance * dual_size(lp, step.row_dual, step.col_dual)


def _fulfilment(model: PlanModel, x: FloatArray, coef: FloatArray) -> FloatArray:
    """Each need's fulfilment in plan ``x`` (its least over its rows, lambda's own term left out)."""
    assert model.lambda_col is not None
    rows = model.need_rows
    counted = (model.lp.A @ x)[rows] - coef * x[model.lambda_col]
    out = np.full(len(model.need_goods), np.inf)
    np.minimum.at(out, model.need_of_row, counted / -coef)
    return out


def _priced(model: PlanModel, step: LpSolution, lam: float) -> tuple[IntArray, IntArray]:
    """The goods (labour kinds, resources) and techniques (capacities) whose multipliers in ``step`` times their
    bound are at least :data:`PRICED_SHARE` of the fulfilment ``lam``, and above 0 (at a fulfilment of 0 every
    such worth is 0, and none is priced)."""
    lp, n_t = model.lp, model.n_techniques
    primary = np.flatnonzero(model.kind_is("primary"))
    available = lp.row_upper[primary]
    # (an unlimited one holds nothing back: 0 * inf warned "invalid value" to a user who had lifted a limit)
    worth = np.abs(step.row_dual[primary] * np.where(np.isfinite(available), available, 0.0))
    goods = model.rows["good"].to_numpy()[primary[(worth > 0) & (worth >= PRICED_SHARE * abs(lam))]]
    cap = lp.col_upper[:n_t]
    limited = np.flatnonzero(np.isfinite(cap))
    rent = np.abs(step.col_dual[limited]) * cap[limited]
    return goods, limited[(rent > 0) & (rent >= PRICED_SHARE * abs(lam))]


def _priced_user_rows(model: PlanModel, step: LpSolution, lam: float) -> list[str]:
    """The names of the user constraints whose multipliers in ``step`` times the larger of their bound and their
    flows at its plan are priced (as limits). By the bound alone, a ratio row (``x_c - 2 x_a <= 0``) holding a need
    back was worth 0 and never named (a helper's fuzzing)."""
    user = model.user_rows
    bound = np.where(np.isfinite(model.lp.row_upper[user]), model.lp.row_upper[user], model.lp.row_lower[user])
    flows = row_flows(model.lp, user, step.x)  # (a round's plan has more columns: the model's come first)
    worth = np.abs(step.row_dual[user]) * np.maximum(np.abs(bound), flows)
    names = model.rows["name"].to_numpy()[user[(worth > 0) & (worth >= PRICED_SHARE * abs(lam))]]
    return [str(name) for name in names]


def _binding(model: PlanModel, step: LpSolution, lam: float) -> list[str]:
    """The labour kinds, resources, capacities and user constraints a round's multipliers price, by name."""
    goods, caps = _priced(model, step, lam)
    return ([str(model.economy.goods[g]) for g in goods]
            + [f"the capacity of {model.economy.techniques[j]}" for j in caps] + _priced_user_rows(model, step, lam))


def _all_labour_priced(model: PlanModel, sol: LpSolution) -> bool:
    """Whether every labour kind has a positive price in the ray's dual: then every optimal plan uses all of it
    (complementary slackness), so the labour is the same in all and the least-labour round can change nothing. A
    kind without a finite availability has no row, hence no price."""
    assert model.lambda_col is not None
    goods, _ = _priced(model, sol, float(sol.x[model.lambda_col]))
    return bool(np.isin(model.economy.labour, goods).all())
