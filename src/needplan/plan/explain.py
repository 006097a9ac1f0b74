"""Plain-language explanations: what binds and what it holds back, or why no plan exists.

:func:`bottlenecks` ranks the binding labour kinds, resources and capacities by elasticity (per cent of the
objective gained per per cent more of the constraint, so that constraints in different units compare) and
names the needs each one holds back (the needs with a positive shadow price that the constraint reaches
through the techniques the plan runs, nearest in the production chain first, then least fulfilled).
:func:`find_conflict` isolates an irreducible infeasible subset of the target, labour, resource, capacity and
user constraints by a deletion filter over feasibility LPs (HiGHS's, or ``fast``'s ray solver for large economies
in its structure), and says how much of each conflicting limit every target needs. This module writes no files and
prints nothing.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from needplan.economy.model import LABOUR
from needplan.plan.errors import PlanInputError
from needplan.plan.lp import (
    MET_WITHIN,
    HighsSession,
    IntArray,
    LinearProgram,
    LpScaleError,
    LpSolution,
    PriceRanges,
    abs_entries,
    dual_bound,
)

if TYPE_CHECKING:
    from needplan.plan.model import PlanModel

MAX_EXPLAINED = 20
"""Bottlenecks explained in full (the rest are listed with a shorter text): reachability costs time."""
BINDING_ELASTICITY = 1e-9
"""A limit binds when 1% more of it changes the objective by more than this many %; a need is held back when 1% more
of its target would (both free of the units the goods are measured in)."""

CONFLICT_SECONDS = 60.0
"""Time allowed to find and shrink a conflicting set, HiGHS's runs included (each gets what is left of it, at least
:data:`CONFLICT_LEAST_RUN`). Past it the constraints not yet checked stay in the set, which then conflicts but may
not be the smallest (the message says so)."""
CONFLICT_LEAST_RUN = 1.0
"""Seconds a conflict search's HiGHS run may take at least, however little of :data:`CONFLICT_SECONDS` is left."""
CONFLICT_FULFILMENT = MET_WITHIN[-1] * 1e-6
"""The targets of a min-labour model conflict when at most ``1 - CONFLICT_FULFILMENT`` of every one of them can be
met together, as the prices prove: the shortfall the plan itself accepts within its default tolerance of 1e-6
(:data:`~needplan.plan.lp.MET_WITHIN`); :func:`find_conflict` takes it from the plan's own tolerance."""
CONFLICT_RESIDUAL = 1e-5
"""Largest residual of a conflict search's LP solve taken without a re-solve (:class:`HighsSession`'s tolerance);
prices that bound the fulfilment below 1 must be feasible to it."""

CONFLICT_FAST_FROM = 0
"""A min-labour model of this many techniques or more has its conflict checks answered by ``fast``'s ray solver
where its structure fits (:class:`_FastChecks`): on a uniform economy of 3,000 goods one check by HiGHS took 40 s,
and the search kept every candidate unchecked; fast answers it in about 0.01 s. It was 3,000; since most checks
need no solve (:meth:`_FastChecks._screen`) it is 0: uniform 1,500 goods with labour halved, the same set of 379
in 0.09 s against HiGHS's 36.6 s, 500 goods 0.08 s against 1.48 s. Outside fast's structure HiGHS checks as
before."""
WITNESS_CAPACITIES = 64
"""Capacities that the conflict search's plan of one technique per product (:class:`_Witness`) may exceed when it
meets every target: each costs a Leontief solve, once, and a row of that plan's checks."""
CONFLICT_NAMED = 8
"""A conflicting set of at most this many constraints is spelled out in the message; a larger one (a shortage of one
labour kind conflicts with hundreds of targets) is counted there, with its first members named, and listed in the
conflict table."""
CONFLICT_SHORTFALLS = 3
"""Limits of a conflicting set (labour kinds, resources, capacities) for which a min-labour model's message says how
much of each meeting every target needs, with the other limits as they are: one LP each."""
CONFLICT_COST_RAISE = 2.0**20
"""A feasibility check whose prices prove nothing after its other retries is run once more with its cost (the common
fulfilment's) this many times larger: on a structured economy of 300 goods HiGHS priced the goods near 1e-13,
below its absolute dual tolerance, left multipliers of 1e-8 of the wrong sign on freed rows, and two targets were
kept in a set that was then not the smallest (a helper's fuzzing)."""
CONFLICT_SHORT_TOO = 8
"""Where more of one limit alone cannot meet every target, the labour kinds and resources (the first this many) that
are tried, one LP each, to say which are short as well."""

BOTTLENECK_COLUMNS = ("constraint", "kind", "shadow_price", "elasticity", "price_holds_to", "explanation")
"""The columns of a bottleneck table (docs/plan.md, "Bottleneck explanations")."""


def _label(model: PlanModel, g: int) -> str:
    eco = model.economy
    name = str(eco.good_name[g] or "")
    gid = str(eco.goods[g])
    return f"{name} ({gid})" if name and name.lower() != gid.lower() else (name or gid)


def _gain(objective_name: str, price: float, unit: str | None, at_most: bool = False) -> str:
    """What one more unit of a limit gains; ``unit`` is the good's unit (a user's word, often plural: "hours",
    "full-time equivalents", so it is named, not counted) or ``None`` for a capacity's unit of activity."""
    by = "by at most" if at_most else "by"
    one = ("one more unit of activity of it" if unit is None else f"one more unit of it ({unit})" if unit
           else "one more unit of it")
    if objective_name == "ray":
        return f"{one} raises fulfilment {by} {100 * price:.3g} percentage points"
    if objective_name == "min-labour":
        return f"{one} saves {'at most ' if at_most else ''}{price:.4g} units of (weighted) labour"
    return f"{one} raises the harmony {by} {price:.4g}"


def _range(bound: float, holds_to: float, used_up: Sequence[str] = ()) -> str:
    """How far a binding limit's price holds, in words (empty where unknown). The basis's range is a floor: the
    gain per unit is exactly the price that far at least, and never more than the price beyond (concavity).
    ``used_up`` names the limits the plan also uses up at a price of 0, which make it degenerate."""
    if math.isnan(holds_to):
        return ""
    if holds_to == math.inf:
        return ", for any amount more"
    if holds_to - bound >= 1:  # (not holds_to >= bound + 1: from 2^53 on, bound + 1 is bound)
        return f", up to a limit of at least {holds_to:,.6g}"
    if holds_to <= bound + 1e-9 * abs(bound):  # (a floor of 1 called every capacity in a unit 10^12 larger degenerate)
        if used_up:  # (fuzzing: Sweden 2016 with hours, CO2 used up too and never named; which of them, or a basic
            # variable at 0, makes the basis degenerate is not said: a review)
            more = f" and {len(used_up) - 3} more" if len(used_up) > 3 else ""
            names = ", ".join(used_up[:3])
            return f" (the plan is degenerate at this limit; used up too, at a price of 0: {names}{more})"
        return " (the plan is degenerate at this limit)"
    return f" (the price is known to hold only up to a limit of {holds_to:,.6g})"


def _reached_needs(model: PlanModel, active: np.ndarray, use_b: sp.csr_matrix, make_b: sp.csr_matrix,
                   start_techniques: np.ndarray) -> np.ndarray:
    """Per good (n_goods), how many links of the plan's production chains separate it from what
    ``start_techniques`` make: 0 for their own products, 1 for goods made with those, ...; -1 where unreached.

    The chains run through the plan's active techniques. A good the plan does not make at all (its makers idle,
    e.g. a need left at 0 by a harmony plan) is reached where one of its idle makers would use what is reached,
    or is itself a starting technique: making it would take the constraint, and the chain ends there.
    """
    unmade = ~(np.asarray(make_b @ active).ravel() > 0)

    def idle_products(techs: np.ndarray) -> np.ndarray:
        return (np.asarray(make_b @ (techs & ~active)).ravel() > 0) & unmade

    techs = start_techniques & active
    goods = np.asarray(make_b @ techs).ravel() > 0
    steps = np.where(goods | idle_products(start_techniques), 0, -1).astype(np.int16)
    for step in range(1, 65):  # the chains of real economies are short; 64 steps bound the cost
        using = (np.asarray(use_b.T @ goods).ravel() > 0) & ~techs
        steps[idle_products(using) & (steps < 0)] = step
        more = using & active
        if not more.any():
            break
        techs |= more
        goods = np.asarray(make_b @ techs).ravel() > 0
        steps[goods & (steps < 0)] = step
    return steps


def _one_technique(n: int, j: int) -> np.ndarray:
    """A mask of ``n`` techniques with ``j`` alone (a capacity's start, built only for an explained bottleneck: one
    per binding capacity took 482 MiB at 10^5 goods under harmony, 7,245 capacities, a profile)."""
    mask = np.zeros(n, dtype=bool)
    mask[j] = True
    return mask


def _techniques_using(use: sp.csc_matrix, g: int) -> np.ndarray:
    """Techniques (bool, n_techniques) with a positive input of good ``g``, read off the CSC matrix's columns."""
    csc = sp.csc_matrix(use)
    entries = np.flatnonzero(csc.indices == g)
    entries = entries[csc.data[entries] > 0]
    start = np.zeros(csc.shape[1], dtype=bool)
    start[np.searchsorted(csc.indptr, entries, side="right") - 1] = True
    return start


def _pattern(m: sp.csc_matrix) -> sp.csc_matrix:
    """A matrix with the sign pattern of ``m > 0``, for reachability (products with 0/1 vectors tested ``> 0``).

    When every stored entry is positive (use and make of a validated economy) that is ``m`` itself: no copy of
    its 10^7 entries at 10^6 goods. Otherwise 1.0 where ``m > 0``, sharing ``m``'s index arrays.
    """
    csc = sp.csc_matrix(m)
    if csc.dtype == np.float64 and (csc.nnz == 0 or float(csc.data.min()) > 0):
        return csc
    return sp.csc_matrix(((csc.data > 0).astype(np.float64), csc.indices, csc.indptr), shape=csc.shape)


def bottlenecks(model: PlanModel, x: np.ndarray, used: np.ndarray, price: np.ndarray, cap_price: np.ndarray,
                needs: pd.DataFrame, objective: float, lam: float | None,
                ranges: PriceRanges | None = None) -> pd.DataFrame:
    """The binding labour kinds, resources and capacities, ranked by elasticity, each with an explanation.

    ``used`` (n_goods) is what the plan ``x`` uses of each good; ``price`` (n_goods) and ``cap_price``
    (n_techniques) are shadow prices in objective units per unit; ``needs`` is the result's needs table;
    ``ranges``, where known, gives the upper bounds up to which the prices of LP rows and columns hold
    (:meth:`~needplan.plan.lp.HighsSession.price_ranges`); it is asked for the binding limits only. Returns
    columns constraint, kind, shadow_price, elasticity, price_holds_to (NaN where unknown), explanation. Where a
    price holds for less than one more unit (or less than 1% more), or how far it holds is unknown, the gain of
    one unit (or of 1%) reads "at most": past the range it is smaller.
    """
    eco = model.economy
    cap = model.capacity
    scale = max(abs(objective), 1e-12)
    prim = eco.primaries
    available = model.available
    fin = prim[np.isfinite(available[prim])]
    binding = fin[price[fin] * _size(available[fin]) > BINDING_ELASTICITY * scale]
    capped = np.isfinite(cap)
    bound_caps = np.flatnonzero(capped & (cap_price * _size(np.where(capped, cap, 0.0)) > BINDING_ELASTICITY * scale))
    # Limits the plan uses up at a price of 0 (another binding limit's price is then degenerate; named with it).
    used_up = [str(eco.goods[g]) for g in np.setdiff1d(fin[is_used_up(used[fin], available[fin])], binding)]
    full_caps = np.flatnonzero(is_used_up(x, np.where(capped, cap, np.inf)))
    used_up += [f"the capacity of {eco.techniques[j]}" for j in np.setdiff1d(full_caps, bound_caps)]
    limit_to, cap_to = np.full(eco.n_goods, np.nan), np.full(eco.n_techniques, np.nan)
    if ranges is not None and (binding.size or bound_caps.size):
        primary_rows = np.flatnonzero(model.kind_is("primary"))
        row_of = np.full(eco.n_goods, -1)
        row_of[model.rows["good"].to_numpy()[primary_rows]] = primary_rows
        asked = row_of[binding]
        got = ranges(asked[asked >= 0], bound_caps)
        if got is not None:
            limit_to[binding[asked >= 0]] = got[1][asked[asked >= 0]]
            cap_to[bound_caps] = got[0][bound_caps]
    items: list[tuple[str, str, float, float, str, str | None, Callable[[], np.ndarray], float, float]] = []
    # A constraint binds when 1% more of it would change the objective by more than BINDING_ELASTICITY %: a test
    # free of units (a price per hour of labour is 10^-10 of one per million hours; the threshold must not care).
    # A limit of 0 has no 1%: it binds when one unit of it would (a capacity set to 0 that holds the plan at 0).
    for g in binding:
        kind = "labour" if eco.good_kind[g] == LABOUR else "resource"
        avail = float(available[g])
        unit = str(eco.good_unit[g])
        text = f"{_label(model, int(g))} is fully used ({_of(float(used[g]), avail)} {unit})"
        start = functools.partial(_techniques_using, eco.use, int(g))  # built for the explained ones only
        items.append((str(eco.goods[g]), kind, float(price[g]), _elasticity(float(price[g]), avail, scale),
                      text, unit, start, avail, float(limit_to[g])))
    for j in bound_caps:
        makes = _label(model, int(eco.technique_good[j]))
        text = (f"the capacity of {eco.techniques[j]}, which makes {makes}, is fully used "
                f"({_of(float(x[j]), float(cap[j]))} per period)")
        start = functools.partial(_one_technique, eco.n_techniques, int(j))
        items.append((str(eco.techniques[j]), "capacity", float(cap_price[j]),
                      _elasticity(float(cap_price[j]), float(cap[j]), scale), text, None, start,
                      float(cap[j]), float(cap_to[j])))
    if not items:
        return pd.DataFrame(columns=list(BOTTLENECK_COLUMNS))
    items.sort(key=lambda it: -it[3] if math.isfinite(it[3]) else -math.inf)  # a limit of 0 first
    # (relative to the largest activity alone: with a floor of 1, activities counted in a unit 10^12 larger all
    # read idle, and "it holds back" lost the needs reached through them; a helper's metamorphic fuzzing)
    active = x > 1e-9 * float(np.max(np.abs(x), initial=0.0))
    use_b, make_b = _pattern(eco.use), _pattern(eco.make)
    need_pos = model.need_goods  # the needs table's rows, in its order (no lookup of 10^6 labels)
    valued = needs["shadow_price"].to_numpy() * needs["target"].to_numpy() > BINDING_ELASTICITY * scale
    fulfilment = needs["fulfilment"].to_numpy()
    rows = []
    for k, (name, kind, p, elasticity, head, per, start_of, bound, holds) in enumerate(items):
        gain = _gain(model.objective, p, per, at_most=not holds - bound >= 1) + _range(bound, holds, used_up)
        if k < MAX_EXPLAINED:
            steps = _reached_needs(model, active, use_b, make_b, start_of())[need_pos]
            # Nearest in the chain first (a capacity's own product before what is made with it), then least
            # fulfilled; ties (to 1e-9) in the needs' own order, not by rounding noise.
            held = np.flatnonzero(valued & (steps >= 0))
            held = held[np.lexsort((np.round(fulfilment[held], 9), steps[held]))]
            if len(held):
                # Rounded to the 0.1% shown first, so that a fulfilment of -1e-12 reads 0.0%, not -0.0%.
                parts = [f"{_label(model, int(need_pos[i]))} at {round(float(fulfilment[i]), 3) + 0.0:.1%} of target"
                         for i in held[:4]]
                more = f" and {len(held) - 4} more" if len(held) > 4 else ""
                hold = f"; it holds back {', '.join(parts)}{more}"
            else:
                hold = "; no need that it supplies has a shadow price, it binds only through the other constraints"
        else:
            hold = ""
        moves = "raises the objective" if model.objective != "min-labour" else "lowers total labour"
        by = "by" if holds - bound >= 0.01 * bound else "by at most"  # a price bounds the gain past its range
        share = f"1% more {moves} {by} {elasticity:.3g}%" if math.isfinite(elasticity) else "its limit is 0"
        rows.append({"constraint": name, "kind": kind, "shadow_price": p, "elasticity": elasticity,
                     "price_holds_to": holds, "explanation": f"{head}{hold}; {gain} ({share})"})
    return pd.DataFrame(rows, columns=list(BOTTLENECK_COLUMNS))


def is_used_up(used: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Where a plan uses a positive (finite) limit to within 1e-9 of it."""
    return (used >= limit * (1 - 1e-9)) & (limit > 0) & np.isfinite(limit)


def _size(bound: np.ndarray) -> np.ndarray:
    """A limit's size for the binding test: itself, or one unit where it is 0 (a share of 0 is no test)."""
    return np.where(bound > 0, bound, 1.0)


def _elasticity(price: float, bound: float, scale: float) -> float:
    """Per cent of the objective per 1% more of a limit (NaN for a limit of 0, which has no 1%)."""
    return price * bound / scale if bound > 0 else math.nan


def find_conflict(model: PlanModel, *, seconds: float = CONFLICT_SECONDS,
                  tolerance: float = 1e-6) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """:func:`_find_conflict`, its fast checks sharing the square blocks' Perron pairs (:func:`fast.keep_deflations`:
    every check solves the same economy with other bounds and targets). The targets conflict when at most ``1 -
    gap`` of each can be met together, ``gap`` the shortfall that the plan at ``tolerance`` (the plan's) accepts
    as met (:data:`~needplan.plan.lp.MET_WITHIN`). A fixed 1e-7 disagreed with the plan both ways: a plan asked at
    1e-8 was called infeasible 5e-8 short of its targets, and the search found no conflict; at 1e-6, Sweden 2012
    with CO2 at 70% was 5.7e-7 short of labour once CO2 was lifted, which the plan meets within its tolerance, and
    labour was called "short too" (helpers' fuzzing)."""
    from needplan.plan.solve import fast_module

    fast = fast_module()
    gap = MET_WITHIN[-1] * tolerance
    with fast.keep_deflations() if fast is not None else contextlib.nullcontext():
        return _find_conflict(model, seconds=seconds, gap=gap)


def _find_conflict(model: PlanModel, *, seconds: float, gap: float) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """An irreducible set of constraints that cannot hold together (with the product balances and x >= 0).

    Deletion filter: relax candidate constraints (first those HiGHS's dual ray does not use, then in blocks, then
    one by one); a constraint whose relaxation leaves the problem infeasible is dropped for good. What stays is
    irreducible: relaxing any one member makes the rest feasible. The checks go to ``fast`` where
    :class:`_FastChecks` applies (from :data:`CONFLICT_FAST_FROM` techniques), else to HiGHS. Past ``seconds``
    (wall clock) the candidates not yet checked are kept, and so are those HiGHS could not decide: the set then
    conflicts but may not be irreducible, and the message says so. Returns (conflict table with constraint, kind,
    bound, text; a plain-language message; the labour/resource/capacity members as bottleneck rows with an
    undefined shadow price).
    """
    eco, lp = model.economy, model.lp
    rows = model.rows
    is_primary = model.kind_is("primary")
    goods = rows["good"].to_numpy()
    feas, relaxed_rows, relax_to = _feasibility_lp(model)
    phi = feas.n_cols - 1
    # Each verdict is judged below by its own evidence, not by HiGHS's re-solves: verifying each run at 1e-7 made
    # HiGHS re-solve a third of them from nothing, then run at its tightest tolerances, where it failed and its
    # interior point method took every later run (38 s and 68 s against 5.5 s and 10 s at 1,500 goods).
    try:
        session = HighsSession(feas, tolerance=min(1e-7, gap), verify=False)
    except LpScaleError as exc:
        raise PlanInputError(exc.describe(lambda row, col: _feasibility_entry(model, row, col))) from None
    # candidates: ("need", position in need_goods), ("row", primary or user row), ("col", capped technique)
    # A need is one candidate, whatever the number of its rows (one per quality level of its makers).
    rows_of_need = {int(k): relaxed_rows[model.need_of_row == k] for k in np.unique(model.need_of_row)}
    cands: list[tuple[str, int]] = [("need", k) for k in rows_of_need]
    cands += [("row", int(i)) for i in np.flatnonzero(model.kind_is("primary", "user"))]
    n_t = eco.n_techniques
    cands += [("col", int(j)) for j in np.flatnonzero(np.isfinite(lp.col_upper[:n_t]))]
    saved = {c: _bounds(feas, c, rows_of_need) for c in cands}

    def relax(c: tuple[str, int]) -> None:
        if c[0] == "need":
            feas.row_lower[rows_of_need[c[1]]] = relax_to[rows_of_need[c[1]]]
            feas.row_upper[rows_of_need[c[1]]] = np.inf
        elif c[0] == "row":
            feas.row_lower[c[1]], feas.row_upper[c[1]] = -np.inf, np.inf
        else:
            feas.col_upper[c[1]] = np.inf

    def restore(c: tuple[str, int]) -> None:
        lo, hi = saved[c]
        if c[0] == "need":
            feas.row_lower[rows_of_need[c[1]]], feas.row_upper[rows_of_need[c[1]]] = lo, hi
        elif c[0] == "row":
            feas.row_lower[c[1]], feas.row_upper[c[1]] = lo, hi
        else:
            feas.col_upper[c[1]] = hi

    undecided = timed_out = 0
    last: list[LpSolution] = []
    proof: list[float] = []  # the bound on the common fulfilment that the last check's prices proved
    oracle = _FastChecks.make(model, feas, gap) if model.n_techniques >= CONFLICT_FAST_FROM else None
    by_fast: list[Any] = []  # fast's answer to the last check, where fast decided it
    # The search's time counts HiGHS's runs: on uniform economies of 3,000 goods one run took 43 s, and a search
    # meant to stop after 60 s took 300 s.
    deadline = time.perf_counter() + seconds

    def infeasible() -> bool:
        # Infeasible: HiGHS proves it (a user row, say), or the prices bound the common fulfilment of the targets
        # below 1 (the dual objective, whatever the plan's own residuals). A check HiGHS cannot decide, or a plan
        # below 1 whose prices do not prove it, keeps the constraint: the set stays conflicting, perhaps not the
        # smallest. So does a check the time ran out on (counted apart).
        nonlocal undecided, timed_out, oracle
        by_fast.clear()
        if oracle is not None:
            verdict = oracle.infeasible(feas)
            if oracle.outside:
                oracle = None
            elif verdict is not None:
                by_fast.append(oracle.last)
                return verdict
        session.limit_time(max(deadline - time.perf_counter(), CONFLICT_LEAST_RUN))
        sol = session.run()
        # An answer that proves nothing is tried again at HiGHS's tightest tolerances from its own basis (a few
        # pivots: structured, 3,000 goods, 0.01-0.05 s), then from nothing, then from nothing's basis at the tightest
        # (fuzzing: a min-labour LP of 200 goods whose answer from nothing had the same dual residual, 6.7e-5), then
        # with its cost raised (CONFLICT_COST_RAISE). Run from nothing first, the retries took 4-5 s each at 3,000
        # structured goods, most of a 60 s search.
        for again in ("tightest", "cold", "tightest", "raised", ""):
            last[:] = [sol]
            # "Infeasible" where the plan of all zeros keeps every bound is HiGHS's error (fuzzing, targets of 1e-6
            # to 1e8 in one economy): it proves nothing, like prices that do not bound the fulfilment below 1.
            wrong = sol.status == "infeasible" and _zeros_feasible(feas)
            if not (wrong or (sol.status == "optimal" and sol.x[phi] < 1.0 - gap)):
                break
            if not wrong and (bound := -dual_bound(feas, sol.row_dual, CONFLICT_RESIDUAL)) < 1.0 - gap:
                proof[:] = [bound]
                return True
            if not again:
                undecided += 1
                return False
            sol = (session.run(cold=True) if again == "cold" else session.run_tightest() if again == "tightest"
                   else session.run_costs_raised(CONFLICT_COST_RAISE))
        if session.limit_reached():
            timed_out += 1
        else:  # ("unbounded" is HiGHS's error where only phi, between 0 and 1, is priced: min-labour's LP)
            undecided += sol.status not in ("infeasible", "optimal", "unbounded") or (
                sol.status == "unbounded" and not feas.cost[:phi].any())
        return sol.status == "infeasible"

    if not infeasible():
        why = (f"its check did not end within {seconds:g} s, so no conflicting set was found" if timed_out
               else "a second solve did not confirm it" if not undecided
               else "HiGHS could not decide it again, so no conflicting set was found")
        return (pd.DataFrame(columns=["constraint", "kind", "bound", "text"]),
                f"the solver reported infeasibility; {why}", pd.DataFrame(columns=list(BOTTLENECK_COLUMNS)))
    # "At most": the bound the prices proved, not the plan's own fulfilment, which HiGHS's answer unverified may
    # leave short of the optimum (fuzzing: 0.83644 against 0.836514, "at most 83.6%" where 83.7% can be met).
    best = (min(float(by_fast[0].lam), 1.0) if by_fast
            else proof[0] if proof and model.objective == "min-labour" else None)

    pruned_by: list[Any] = []  # the fast answer whose prices pruned last

    def prune(pending: list[tuple[str, int]]) -> list[tuple[str, int]]:
        # Duality: the constraints that the last solve's dual (its prices below a fulfilment of 1, or HiGHS's
        # Farkas ray) does not use can go, all at once.
        if by_fast and pruned_by and by_fast[0] is pruned_by[0]:
            return pending  # the same prices (fast's screen reused them): what they do not use has gone already
        pruned_by[:] = by_fast[:1]
        if by_fast and oracle is not None:
            used: list[bool] | None = oracle.support(by_fast[0], feas, rows_of_need, pending)
        else:
            sol = last[0]
            used = (_dual_support(sol, feas, rows_of_need, pending) if sol.status == "optimal"
                    else _ray_support(session, feas, rows_of_need, pending))
        if used is None or all(used):
            return pending
        unused = [c for c, u in zip(pending, used, strict=True) if not u]
        for c in unused:
            relax(c)
        if infeasible():
            return [c for c, u in zip(pending, used, strict=True) if u]
        for c in unused:  # the dual was too inexact to trust: check them one by one
            restore(c)
        return pending

    cands = prune(cands)
    block = max(1, len(cands) // 8)
    kept: list[tuple[str, int]] = []
    unchecked = 0
    for s in range(0, len(cands), block):
        blk = cands[s:s + block]
        if time.perf_counter() > deadline:  # kept, and counted as unchecked one by one below
            kept += blk
            continue
        for c in blk:
            relax(c)
        # Warm, from the last basis: with the retries above at the tightest tolerances first, the whole search on
        # structured 3,000 goods (a 600 s limit) took 59 s warm against 96 s from nothing (seed 1) and 139 s
        # against 217 s (seed 2, labour at 80%), the same sets. (With the retries from nothing first, warm blocks
        # had taken up to 22,701 pivots and 31 s each, where a run from nothing takes about 3,000 and 2 s.)
        if infeasible():
            continue
        for c in blk:
            restore(c)
        kept += blk
    conflict: list[tuple[str, int]] = []
    pending = kept
    while pending:
        c, pending = pending[0], pending[1:]
        if time.perf_counter() > deadline:
            conflict.append(c)
            unchecked += 1
            continue
        relax(c)
        before = timed_out
        if infeasible():
            pending = prune(pending)
            continue
        restore(c)
        conflict.append(c)
        unchecked += timed_out > before  # the time ran out on its check: kept unchecked

    table_rows = []
    for kind_, i in conflict:
        if kind_ == "col":
            table_rows.append({"constraint": str(eco.techniques[i]), "kind": "capacity", "bound": lp.col_upper[i],
                               "text": f"capacity of {eco.techniques[i]} <= {_figure(lp.col_upper[i])}"})
            continue
        if kind_ == "need":
            g = int(model.need_goods[i])
            unit = str(eco.good_unit[g])
            table_rows.append({"constraint": str(eco.goods[g]), "kind": "target", "bound": eco.target[g],
                               "text": f"target {eco.goods[g]} >= {_figure(eco.target[g])} {unit}"})
            continue
        g = int(goods[i])
        if is_primary[i]:
            k = "labour" if eco.good_kind[g] == LABOUR else "resource"
            table_rows.append({"constraint": str(eco.goods[g]), "kind": k, "bound": lp.row_upper[i],
                               "text": f"{eco.goods[g]} <= {_figure(lp.row_upper[i])} {eco.good_unit[g]}"})
        else:
            lo, hi = float(lp.row_lower[i]), float(lp.row_upper[i])
            side = (f"between {_figure(lo)} and {_figure(hi)}" if np.isfinite(lo) and np.isfinite(hi)
                    else f">= {_figure(lo)}" if np.isfinite(lo) else f"<= {_figure(hi)}")
            table_rows.append({"constraint": str(rows["name"].iloc[i]), "kind": "user",
                               "bound": hi if np.isfinite(hi) else lo,
                               "text": f"user constraint {rows['name'].iloc[i]} {side}"})
    table = pd.DataFrame(table_rows, columns=["constraint", "kind", "bound", "text"])
    targets = table.loc[table["kind"] == "target", "constraint"].tolist()
    what = ("the constraints cannot hold together" if not targets
            else f"the target for {targets[0]} cannot be met" if len(targets) == 1
            else f"the targets for {', '.join(targets)} cannot be met together" if len(targets) <= CONFLICT_NAMED
            else f"the targets for {len(targets):,} needs ({_listed(targets)}) cannot be met together")
    if len(table) <= CONFLICT_NAMED:
        members = "; ".join(table["text"])
    else:  # a shortage of one labour kind conflicts with hundreds of targets: the table lists them, not the text
        others = table.loc[table["kind"] != "target", "text"].tolist()
        members = "; ".join(([_listed(others, sep="; ")] if others else [])
                            + ([f"and the {len(targets):,} targets above"] if targets else []))
        members = f"{len(table):,} constraints, each in the conflict table: {members}"
    message = f"no feasible plan: {what}; smallest conflicting set (with the product balances): {members}"
    if undecided:
        message += (f" (HiGHS could not decide {undecided} of the feasibility checks, so the set conflicts but may "
                    "not be the smallest)")
    if unchecked:
        message += (f" (after {seconds:g} s, {unchecked} of its constraints were kept without being checked, so the "
                    "set conflicts but may not be the smallest)")
    if best is not None:
        message += f"; at most {share(best)} of every target can be met together (objective ray)"
    if model.objective == "min-labour":
        limits = [c for c in conflict if c[0] == "col" or (c[0] == "row" and is_primary[c[1]])]
        if limits:
            base = _feasibility_lp(model)[0]  # every bound as given; one copy of the matrix for all of them
            for c in limits[:CONFLICT_SHORTFALLS]:
                message += _shortfall(model, base, c, max(deadline - time.perf_counter(), CONFLICT_LEAST_RUN),
                                      gap, oracle)
    bottl = pd.DataFrame([{"constraint": r.constraint, "kind": r.kind, "shadow_price": np.nan, "elasticity": np.nan,
                           "price_holds_to": np.nan,
                           "explanation": f"{r.text} is part of the smallest conflicting set: {message}"}
                          for r in table.itertuples() if r.kind in ("labour", "resource", "capacity")],
                         columns=list(BOTTLENECK_COLUMNS))
    return table, message, bottl


class _FastChecks:
    """The conflict search's feasibility checks answered by ``fast``'s ray solver: the largest common fulfilment of
    the targets not relaxed, under the limits not lifted (``net @ x >= lam * target``), proves "infeasible" where
    its prices bound it below ``1 - gap`` and "feasible" where its plan reaches that. Only for a
    min-labour model without user rows whose every need has one row, its product's balance (a relaxed target then
    leaves ``net output >= 0``, as in :func:`_feasibility_lp`); checks it leaves open go to HiGHS, and where the
    economy is outside fast's structure (``outside``) HiGHS takes the rest of the search."""

    def __init__(self, model: PlanModel, fast: Any, gap: float = CONFLICT_FULFILMENT) -> None:
        self.gap = gap  # the targets count as met at 1 - gap of them (see find_conflict)
        from needplan.plan.solve import fast_blocks

        lp, n_t = model.lp, model.n_techniques
        self.fast = fast
        self.n_lp_rows = lp.n_rows
        self.blocks = fast_blocks(model)  # the LP's own rows, as the solve hands them to fast
        net_rows, self.prim_rows = self.blocks.net_rows, self.blocks.prim_rows
        self.net, self.primary, self.main = self.blocks.net, self.blocks.primary, self.blocks.main
        self.abs_net = abs_entries(self.net)
        at = np.full(lp.n_rows, -1)
        at[net_rows] = np.arange(net_rows.size)
        self.need_at = at[model.need_rows]  # each need row's place among the net rows
        self.need_target = lp.row_lower[model.need_rows]
        self.n_t = n_t
        self.capacity = self.blocks.per_column(lp.col_upper, n_t)  # as given: the search only lifts them
        self.outside = False
        self.last: Any = None
        self.target = np.zeros(net_rows.size)
        self.proof: Any = None  # the prices of the last "infeasible" that fast proved (see _screen)
        self.proof_share = np.zeros(self.need_at.size)
        self.witness: _Witness | None = None

    @classmethod
    def make(cls, model: PlanModel, feas: LinearProgram, gap: float = CONFLICT_FULFILMENT) -> _FastChecks | None:
        from needplan.plan.solve import fast_module

        fast = fast_module()
        if fast is None or model.objective != "min-labour" or model.user_rows.size:
            return None
        goods = model.rows["good"].to_numpy()
        has_balance = np.zeros(model.economy.n_goods, dtype=bool)
        has_balance[goods[model.kind_is("balance")]] = True
        if model.need_rows.size != model.need_goods.size or has_balance[goods[model.need_rows]].any():
            return None  # a need row beside its balance (quality levels): relaxed, it is free, which fast cannot say
        return cls(model, fast, gap)

    def _kept(self, feas: LinearProgram) -> np.ndarray:
        """Per need, whether its copy row in ``feas`` is kept (not relaxed)."""
        return np.isfinite(feas.row_lower[self.n_lp_rows:self.n_lp_rows + self.need_at.size])

    def _set_targets(self, feas: LinearProgram) -> None:
        """``self.target`` per net row: each need's target where its copy row in ``feas`` is kept, else 0."""
        self.target[:] = 0.0
        self.target[self.need_at] = np.where(self._kept(feas), self.need_target, 0.0)

    def infeasible(self, feas: LinearProgram) -> bool | None:
        """Whether the feasibility LP as relaxed now is infeasible (proven either way), or ``None`` (left open)."""
        kept = self._kept(feas)
        if not (kept & (self.need_target != 0)).any():
            return False
        verdict = self._screen(feas, kept)
        if verdict is not None:
            self.last = self.proof
            return verdict
        self._set_targets(feas)
        fr = self.fast.solve_ray(self.net, self.primary, feas.row_upper[self.prim_rows],
                                 self.blocks.per_column(feas.col_upper, self.n_t), self.target, tol=self.gap,
                                 main=self.main, fallback=False)
        self.last = fr
        if fr.status == "stopped" and str(fr.message).startswith(self.fast.OUTSIDE):
            self.outside = True
            return None
        if fr.status == "unbounded":
            return False
        if fr.status != "optimal" or not math.isfinite(fr.lam):
            return None
        if fr.lam >= 1.0 - self.gap and fr.primal_residual <= CONFLICT_RESIDUAL:
            return False
        bound = fr.lam + fr.gap * max(1.0, abs(fr.lam))
        if fr.dual_residual <= CONFLICT_RESIDUAL and bound < 1.0 - self.gap:
            self.proof = fr
            self.proof_share = np.asarray(fr.row_duals)[self.need_at] * self.need_target  # p t, need by need
            return True
        return None

    def _screen(self, feas: LinearProgram, kept: np.ndarray) -> bool | None:
        """The verdict on the needs ``kept`` under the limits of ``feas`` where it follows without a solve.

        Infeasible where the prices of the last proof still bound the common fulfilment below ``1 - gap``: they
        stay dual feasible whatever the targets and limits (only those enter the dual's
        objective), so they bound it by ``(pi a + mu u) / (p t)`` for any targets ``t``, availabilities ``a`` and
        capacities ``u``. Feasible where :class:`_Witness`'s plan for these targets keeps within the limits. The
        deletion filter relaxes one constraint at a time, so most of its checks are one of the two: at 10^4 goods
        a solve each took 17 ms and the search 43 s. Each costs a few products over the needs instead."""
        fr = self.proof
        if fr is None:
            return None
        available = feas.row_upper[self.prim_rows]
        weights = kept.astype(np.float64)
        pi, mu = np.asarray(fr.primary_duals), np.asarray(fr.capacity_duals)[:self.n_t]
        priced = np.flatnonzero(mu > 0)  # (the extra columns' capacity is 0 for fast: no term)
        cap = feas.col_upper[priced]
        fa = np.isfinite(available)
        if not (np.any(pi[~fa] > 0) or not np.all(np.isfinite(cap))):
            bound = float(pi[fa] @ available[fa] + mu[priced] @ cap)
            if bound < (1.0 - self.gap) * float(self.proof_share @ weights):
                return True
        if self.witness is None:
            self.witness = _Witness.make(self, fr)
        if self.witness.meets(weights, available, feas.col_upper, self.gap):
            return False
        return None

    def least_use(self, feas: LinearProgram) -> float | None:
        """The least ``feas.cost @ x`` (a limit's row or a technique's activity, the limit lifted in ``feas``) that
        meets every target under the other limits of ``feas``: ``inf`` where none does (certified), ``None`` where
        fast leaves it open."""
        from needplan.plan.fast_min_labour import solve_min_labour

        self._set_targets(feas)
        self.target *= feas.col_lower[-1]  # (every kept target times the least common fulfilment asked for)
        fr = solve_min_labour(self.net, self.primary, feas.row_upper[self.prim_rows],
                              self.blocks.per_column(feas.col_upper, self.n_t), self.target,
                              labour_cost=self.blocks.per_column(feas.cost, self.n_t), tol=1e-9, main=self.main,
                              fallback=False)
        if fr.status == "infeasible":
            return math.inf
        return float(fr.lam) if fr.status == "optimal" else None

    def support(self, fr: Any, feas: LinearProgram, rows_of_need: dict[int, np.ndarray],
                cands: list[tuple[str, int]]) -> list[bool]:
        """Per candidate, whether the prices of ``fr`` (an infeasible verdict) use it: price times flows at the
        plan (plus the bound) above 1e-12 of a fulfilment of 1, as :func:`_dual_support`."""
        x = np.asarray(fr.x, dtype=np.float64)  # (one per column of net: the techniques, then any extra)
        row_share = np.asarray(fr.row_duals) * (self.abs_net @ x + self.target)
        available = feas.row_upper[self.prim_rows]
        prim_share = np.asarray(fr.primary_duals) * (self.primary @ x + np.where(np.isfinite(available), available, 0))
        cap = feas.col_upper[:self.n_t]
        cap_share = np.asarray(fr.capacity_duals)[:self.n_t] * (x[:self.n_t] + np.where(np.isfinite(cap), cap, 0.0))
        prim_at = {int(i): k for k, i in enumerate(self.prim_rows)}
        share = np.zeros(len(cands))
        # Vectorised (a profile at 10^5 goods: 6.7 s of the search in a loop over the candidates): a need's share is
        # the largest over its rows, gathered in one pass.
        needs = [(k, rows_of_need[i]) for k, (kind, i) in enumerate(cands) if kind == "need"]
        needs = [(k, r) for k, r in needs if r.size]
        if needs:
            flat = self.need_at[np.concatenate([r for _, r in needs]) - self.n_lp_rows]
            starts = np.cumsum([0] + [r.size for _, r in needs[:-1]])
            share[[k for k, _ in needs]] = np.maximum.reduceat(row_share[flat], starts)
        for k, (kind, i) in enumerate(cands):
            if kind == "row":
                share[k] = prim_share[prim_at[i]]
            elif kind == "col":
                share[k] = cap_share[i]
        return (share > 1e-12).tolist()


class _Witness:
    """Plans of one technique per product for every subset of the targets, for :meth:`_FastChecks._screen`.

    The technique of each product is the one the first proof's plan ran most. Where none of them makes a joint
    product, the plan for targets ``t`` is ``x(t) = B^-1 t`` with ``B^-1 >= 0``, so ``x(t) <= x(t_all)`` for every
    subset ``t`` of all the targets ``t_all``. Its use of the primaries is ``V t`` with ``V = P B^-1`` (one
    transposed Leontief solve per primary), and so is the activity of each technique whose capacity ``x(t_all)``
    exceeds (at most :data:`WITNESS_CAPACITIES` of them, one row of ``B^-1`` each); the other techniques keep
    within their capacities for every subset. ``x(t)`` is then a feasible plan whenever ``V t`` keeps within those
    limits, scaled by the largest share of the targets they allow. ``chosen`` is None where the economy does not
    have this form (a joint product among the techniques, a product nobody makes, a solve that did not converge,
    too many capacities exceeded)."""

    def __init__(self, chosen: IntArray | None = None, capped: IntArray | None = None,
                 use: np.ndarray | None = None) -> None:
        self.chosen, self.capped, self.use = chosen, capped, use

    @classmethod
    def make(cls, checks: _FastChecks, fr: Any) -> _Witness:
        """Built from the model's capacities as given: the search only lifts them."""
        from needplan.leontief import check_productive
        from needplan.leontief import solve as leontief_solve

        net, main = checks.net, checks.main
        m = net.shape[0]
        x = np.asarray(fr.x, dtype=np.float64)
        techs = np.flatnonzero(main >= 0)
        # per row, the technique making it that the proof's plan ran most (the first listed where it ran none)
        order = techs[np.lexsort((techs, -x[techs], main[techs]))]
        rows, first = np.unique(main[order], return_index=True)
        if rows.size != m:
            return cls()
        chosen = order[first]
        B = sp.csr_matrix(net[:, chosen])
        out = B.diagonal()
        inputs = B - sp.diags(out)
        if not np.all(out > 0) or (inputs.data > 0).any():
            return cls()
        A = sp.csr_matrix(-inputs @ sp.diags(1.0 / out))
        if not check_productive(A)[0]:  # (A >= 0: productive is B^-1 >= 0)
            return cls()
        t_all = np.zeros(m)
        t_all[checks.need_at] = checks.need_target
        try:
            y, rep = leontief_solve(A, t_all, tol=1e-12)
            capped = np.flatnonzero(y / out > checks.capacity[chosen])
            if capped.size > WITNESS_CAPACITIES:
                return cls()
            per_unit = sp.vstack([checks.primary[:, chosen] @ sp.diags(1.0 / out),
                                  sp.csr_matrix((1.0 / out[capped], (np.arange(capped.size), capped)),
                                                shape=(capped.size, m))]).toarray()
            values, rep_v = leontief_solve(A, np.ascontiguousarray(per_unit.T), transpose=True, tol=1e-12)
        except ValueError:
            return cls()
        if not (rep.converged and rep_v.converged and np.all(y >= 0) and np.all(values >= 0)):
            return cls()
        # per limit (the primaries, then the capacities exceeded), its use by the plan for each need's target
        use = np.ascontiguousarray(values[checks.need_at].T * checks.need_target)
        return cls(chosen, chosen[capped], use)

    def meets(self, kept: np.ndarray, available: np.ndarray, capacity: np.ndarray, gap: float) -> bool:
        """Whether the plan for the targets of the needs ``kept`` (1 or 0 per need) meets ``1 - gap`` of them
        within ``available`` and ``capacity`` (per column, at least as given)."""
        if self.use is None or self.capped is None:
            return False
        limit = np.concatenate([available, capacity[self.capped]])
        fa = np.isfinite(limit)
        return bool(np.all((self.use @ kept)[fa] * (1.0 - gap) <= limit[fa]))


def _figure(value: float) -> str:
    """``value`` with thousands separators in the fewest significant digits from 6 to 12 that give it back exactly
    (12 where none does): a bound of 0.99999995 hours read "lab <= 1 h" at 6 (fuzzing)."""
    return f"{value:,.{next((k for k in range(6, 12) if float(f'{value:.{k}g}') == value), 12)}g}"


def _beyond(need: float, limit: float) -> str:
    """``need`` (above ``limit``) in the fewest significant digits from 6 on that still read above ``limit``:
    "needs at least 1 h of lab (1 available)" was 1 against 0.99999995 (fuzzing)."""
    k = next((k for k in range(6, 17) if float(f"{need:.{k}g}") > limit), 17)
    return f"{need:,.{k}g}"


def _listed(names: list[str], most: int = 6, sep: str = ", ") -> str:
    """The first ``most`` names, then how many more there are."""
    shown = sep.join(names[:most])
    return shown if len(names) <= most else f"{shown}{sep}and {len(names) - most:,} more"


def _shortfall(model: PlanModel, base: LinearProgram, c: tuple[str, int], seconds: float, gap: float,
               oracle: _FastChecks | None = None) -> str:
    """``"; meeting every target ... needs at least X of L (Y available)"``: the least use of limit ``c`` (a labour,
    resource or capacity candidate of :func:`find_conflict`) with that limit lifted, every target met and every
    other constraint as it is; ``"; more of L alone cannot meet every target"`` where that LP is infeasible; ``""``
    where HiGHS does not decide it within ``seconds``. One LP, minimising the limit's row (or the technique's
    activity) over the feasibility LP with the common fulfilment fixed at 1; by fast's min-labour solver with that
    cost where ``oracle`` is given and fast decides it. ``base`` is :func:`_feasibility_lp`'s LP, left as it is
    (this LP shares its matrix and copies its bounds)."""
    eco = model.economy
    feas = LinearProgram(base.A, base.row_lower.copy(), base.row_upper.copy(), base.cost, base.col_lower.copy(),
                         base.col_upper.copy(), activities=base.activities)
    # The common fulfilment phi, the last column, at least 1 less the search's gap: the targets are
    # met as the search counts them met (fuzzing: Sweden 2016 with CO2 at 70% needs 3e-14 more labour than there is
    # once CO2 is lifted, and labour was called "short too", where min-labour plans it, optimal).
    feas.col_lower[-1] = 1.0 - gap
    kind, i = c
    if kind == "col":
        limit, name = float(feas.col_upper[i]), str(eco.techniques[i])
        what = f"{name}'s capacity"
        feas.col_upper[i] = np.inf
        feas.cost = np.zeros(feas.n_cols)
        feas.cost[i] = 1.0
    else:
        g = int(model.rows["good"].iat[i])
        limit, name = float(feas.row_upper[i]), str(eco.goods[g])
        what = name
        feas.row_upper[i] = np.inf
        feas.cost = np.asarray(feas.A[i].toarray(), dtype=np.float64).ravel()
    start = time.perf_counter()
    decided = _least_use(feas, seconds, oracle)
    if decided == math.inf:
        return f"; more of {what} alone cannot meet every target" + _short_too(model, feas, start + seconds, oracle)
    need = decided
    if not need > limit:  # undecided, or within the LP's tolerances of the limit: no number beats a wrong one
        return ""
    needs = (f"{name} at an activity of at least {_beyond(need, limit)} (capacity {_figure(limit)})" if kind == "col"
             else f"at least {_beyond(need, limit)} {eco.good_unit[g]} of {name} ({_figure(limit)} available)")
    return f"; meeting every target with the other limits as they are needs {needs}"


def _least_use(feas: LinearProgram, seconds: float, oracle: _FastChecks | None) -> float:
    """The least ``feas.cost @ x`` over ``feas``: ``inf`` where it is infeasible, ``nan`` where neither fast (by
    ``oracle``) nor HiGHS within ``seconds`` decides it."""
    decided = oracle.least_use(feas) if oracle is not None else None
    if decided is not None:
        return decided
    try:
        sol = HighsSession(feas, tolerance=1e-7, time_limit=max(seconds, CONFLICT_LEAST_RUN)).run()
    except LpScaleError:
        return math.nan
    if sol.status == "optimal" and sol.extra.get("unverified"):
        # (fuzzing: a plan of 0.04 hours of labour breaking its rows by 7e-6 in units of 0.01, where the re-solve
        # from nothing, rightly, called the LP infeasible: "needs at least 0.0402982 hours" of a labour that, lifted,
        # cannot meet every target)
        return math.nan
    return math.inf if sol.status == "infeasible" else float(feas.cost @ sol.x) if sol.status == "optimal" else math.nan


def _short_too(model: PlanModel, feas: LinearProgram, deadline: float, oracle: _FastChecks | None) -> str:
    """Which other labour kinds and resources are short as well (``feas`` with one limit lifted and infeasible):
    those with which, lifted too, every target can be met (fuzzing: Sweden 2009's needs embody 45,465.61 kt of
    CO2 against 45,465.30, and only "more of labour_hours alone cannot meet every target" was said). One LP with
    all of them lifted first: where that has no plan either (a capacity is short, or two more limits are), none
    is named and no more LPs are run (a review measured the conflict of 1,500 goods at 46 s against 16 s), and where
    it is the only one, that LP was its own (structured 3,000 goods, two labour kinds short: 2 of 10 LPs saved)."""
    eco = model.economy
    rows = np.flatnonzero(model.kind_is("primary") & np.isfinite(feas.row_upper[:model.lp.n_rows]))

    def lifted(free: IntArray) -> LinearProgram:
        # Only whether it has a plan counts: no costs, so HiGHS may stop at the first plan it finds.
        lp = LinearProgram(feas.A, feas.row_lower, feas.row_upper.copy(), np.zeros(feas.n_cols), feas.col_lower,
                           feas.col_upper, activities=feas.activities)
        lp.row_upper[free] = np.inf
        return lp

    if not rows.size or not math.isfinite(_least_use(lifted(rows), deadline - time.perf_counter(), oracle)):
        return ""
    short = [str(eco.goods[int(model.rows["good"].iat[rows[0]])])] if rows.size == 1 else []
    for i in rows[:CONFLICT_SHORT_TOO] if rows.size > 1 else ():  # one: the LP above was its own
        if time.perf_counter() > deadline:
            break
        if math.isfinite(_least_use(lifted(np.array([i])), deadline - time.perf_counter(), oracle)):
            short.append(str(eco.goods[int(model.rows["good"].iat[i])]))
    if not short:
        return ""
    return (f": {', '.join(short)} {'is' if len(short) == 1 else 'are'} short too (with "
            f"{'it' if len(short) == 1 else 'any one of them'} lifted as well, every target can be met)")


def share(fraction: float) -> str:
    """A fraction as a percentage rounded up, for the bound "at most" states: with one decimal, or as many as it
    takes to stay below 100% for a shortfall. (Rounded to the nearest, "at most 99.4%" stood where 99.4421% can be
    met, in 4 of a helper's 10 infeasible generated economies.)"""
    short = 100.0 * (1.0 - fraction)
    decimals = 1 if not 0 < short < 0.1 else math.ceil(-math.log10(short) - 1e-9)
    scale = 10.0 ** (decimals + 2)
    # (less 1e-6 of the last digit: 0.5 held as 0.50000000000000011 stays 50.0%; + 0.0: never "-0.0%")
    return f"{math.ceil(fraction * scale - 1e-6) / scale + 0.0:.{decimals}%}"


def _feasibility_lp(model: PlanModel) -> tuple[LinearProgram, np.ndarray, np.ndarray]:
    """The model's constraints with one more column, the common fulfilment ``phi`` of the targets (0 to 1,
    maximised): ``(lp, relaxed_rows, relax_to)``.

    In a min-labour model each row carrying a target gets a copy ``row - phi * target >= 0`` (appended), and the
    row itself keeps only its physical balance (``>= 0`` where it is the product's balance row, else free); the
    targets conflict when the optimal ``phi`` is below 1. Such an LP is always feasible with ``x = 0, phi = 0``
    unless other constraints (user rows) conflict, and its optimal prices say which constraints hold ``phi``
    below 1; HiGHS was seen to fail on the infeasible min-labour LPs themselves and to take seconds on each
    (1,500 goods). Other objectives carry no hard targets: ``phi`` stays free of rows and their own objective is
    kept. ``relaxed_rows`` are the rows relaxing a need frees (aligned with ``model.need_rows``), ``relax_to`` the
    lower bound each row takes then (per row of the new LP).
    """
    lp = model.lp
    goods = model.rows["good"].to_numpy()
    rows = model.need_rows
    has_balance = np.zeros(model.economy.n_goods, dtype=bool)
    has_balance[goods[model.kind_is("balance")]] = True
    freed = np.where(has_balance[goods[rows]], -np.inf, 0.0)  # a need row that is its product's balance keeps it
    A = sp.hstack([lp.A, sp.csr_matrix((lp.n_rows, 1))], format="csr")
    lower, upper = lp.row_lower.copy(), lp.row_upper.copy()
    cost = np.append(lp.cost if model.objective != "min-labour" else np.zeros(lp.n_cols), -1.0)
    if model.objective == "min-labour":
        target = lp.row_lower[rows]
        copies = sp.hstack([lp.A[rows], sp.csr_matrix(-target[:, None])], format="csr")
        A = sp.vstack([A, copies], format="csr")
        lower[rows], upper[rows] = freed, np.inf
        lower, upper = np.append(lower, np.zeros(rows.size)), np.append(upper, np.full(rows.size, np.inf))
        relaxed, relax_to = lp.n_rows + np.arange(rows.size), np.full(A.shape[0], -np.inf)
    else:
        relaxed, relax_to = rows, np.full(A.shape[0], -np.inf)
        relax_to[rows] = freed
    feas = LinearProgram(A, lower, upper, cost, np.append(lp.col_lower, 0.0), np.append(lp.col_upper, 1.0),
                         maximize=True, activities=lp.activities)
    return feas, relaxed, relax_to


def _zeros_feasible(lp: LinearProgram) -> bool:
    """Whether the plan of all zeros keeps every bound of ``lp`` (as the feasibility LP's does, without user rows)."""
    return bool(np.all(lp.row_lower <= 0) and np.all(lp.row_upper >= 0) and np.all(lp.col_lower <= 0)
                and np.all(lp.col_upper >= 0))


def _feasibility_entry(model: PlanModel, row: int, col: int) -> str:
    """Where entry ``(row, col)`` of :func:`_feasibility_lp`'s LP sits, in the model's words (a target's copy row
    by the name of the row it copies)."""
    lp = model.lp
    base = row if row < lp.n_rows else int(model.need_rows[row - lp.n_rows])
    if col == lp.n_cols:  # (its min-labour LP has no lambda: fuzzing found "the fulfilment lambda" named there)
        return (f"row {model.rows['name'].iloc[base]!r}, the common fulfilment of the targets (the column the search "
                "for a conflicting set adds)")
    return model.entry_name(base, col)


def _dual_support(sol: LpSolution, lp: LinearProgram, rows_of_need: dict[int, np.ndarray],
                  cands: list[tuple[str, int]]) -> list[bool]:
    """Per candidate, whether the optimal prices of ``sol`` (an optimum of :func:`_feasibility_lp`'s LP) use it:
    its price times its flows at the plan (plus its bound) is more than 1e-12 of a fulfilment of 1. Dropping the
    constraints they do not use leaves those prices feasible, so the fulfilment stays where it is."""
    x, y, d = sol.x, sol.row_dual, sol.col_dual
    def bound(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(hi), np.abs(hi), np.where(np.isfinite(lo), np.abs(lo), 0.0))

    row_share = np.abs(y) * (abs_entries(lp.A) @ np.abs(x) + bound(lp.row_lower, lp.row_upper))
    col_share = np.abs(d) * (np.abs(x) + bound(lp.col_lower, lp.col_upper))
    used = []
    for kind, i in cands:
        share_ = (row_share[rows_of_need[i]].max(initial=0.0) if kind == "need"
                  else row_share[i] if kind == "row" else col_share[i])
        used.append(bool(share_ > 1e-12))
    return used


def _ray_support(session: HighsSession, lp: LinearProgram, rows_of_need: dict[int, np.ndarray],
                 cands: list[tuple[str, int]]) -> list[bool] | None:
    """Per candidate, whether the dual ray of the session's last (infeasible) solve uses it: a row with a nonzero
    multiplier, a column that the ray's combination of rows touches. None when HiGHS has no ray at hand (its
    presolve or interior point method decided); it is not asked to compute one, which costs a solve without
    presolve (seen to take 50 s and fail at 3,000 goods)."""
    h = session.highs
    if not h.getDualRayExist()[1]:  # type: ignore[attr-defined]
        return None
    _, has_ray, values = h.getDualRay()  # type: ignore[attr-defined]
    if not has_ray:
        return None
    y = np.asarray(values, dtype=np.float64) * session.row_scale  # per unit of the LP's own rows
    big = float(np.max(np.abs(y), initial=0.0))
    if not big > 0:
        return None
    y = np.where(np.abs(y) > 1e-12 * big, y, 0.0)
    touch = np.abs(lp.A.T @ y)
    scale = abs_entries(lp.A).T @ np.abs(y)
    col_used = touch > 1e-9 * np.maximum(scale, 1e-300)
    used = []
    for kind, i in cands:
        if kind == "need":
            used.append(bool(np.any(y[rows_of_need[i]] != 0)))
        elif kind == "row":
            used.append(bool(y[i] != 0))
        else:
            used.append(bool(col_used[i]))
    return used


def _of(used: float, limit: float) -> str:
    """"used of limit" to 6 significant digits; a use within 1e-9 of its limit reads as the limit itself (a plan
    at 76,307.5499999927 of 76,307.55 is at its limit, not "76,307.5 of 76,307.6")."""
    shown = limit if abs(used - limit) <= 1e-9 * abs(limit) else used
    return f"{shown:,.6g} of {limit:,.6g}"


def _bounds(lp: LinearProgram, c: tuple[str, int], rows_of_need: dict[int, np.ndarray]) -> tuple[Any, Any]:
    if c[0] == "need":
        return lp.row_lower[rows_of_need[c[1]]].copy(), lp.row_upper[rows_of_need[c[1]]].copy()
    if c[0] == "row":
        return float(lp.row_lower[c[1]]), float(lp.row_upper[c[1]])
    return float(lp.col_lower[c[1]]), float(lp.col_upper[c[1]])

