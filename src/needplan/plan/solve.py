"""Solve a :class:`~needplan.plan.model.PlanModel`: pick the solver, run it, hand the solution to read-back.

``highs`` solves the LP with HiGHS (warm-started on re-solves); the harmony objective is solved by Kelley's
cutting planes on HiGHS LPs until the certified gap (the LP bound over the cuts minus the true harmony at the
LP's plan) is within the tolerance. ``fast`` calls :func:`needplan.plan.fast.solve_ray` (ray),
:func:`needplan.plan.fast_min_labour.solve_min_labour` (min-labour) or, for harmony on a Leontief economy,
:mod:`needplan.plan.fast_harmony` (as ``auto`` does), and falls back to HiGHS, saying so, for what it does not
support. This module builds no model and formats no output.
"""

from __future__ import annotations

import functools
import importlib
import math
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from needplan.data.names import FILLS, SOLVERS
from needplan.leontief import rows_view
from needplan.plan.errors import PlanInputError, SolverUnavailableError
from needplan.plan.fill import LeastLabour
from needplan.plan.fill import fill as fill_plan
from needplan.plan.lp import (
    BEYOND_TIGHTEST,
    IPM_FROM_ROWS,
    MET_WITHIN,
    TIGHTEST_HIGHS_TOLERANCE,
    FloatArray,
    HighsSession,
    IntArray,
    LinearProgram,
    LpScaleError,
    LpSolution,
    PriceRanges,
    as_range,
    column_entries,
)
from needplan.plan.model import HARMONY_START_POINTS, PlanModel, add_harmony_cuts, harmony, harmony_unit, real
from needplan.plan.result import PlanResult, read_back

if TYPE_CHECKING:
    from needplan.plan.fast import FastResult

AUTO_FAST_TECHNIQUES = 3_000
"""``auto`` hands the ray and min-labour objectives to ``fast`` from this many techniques on (below it HiGHS is
quick).

Measured (docs/benchmarks.md, "Plan engine"): on generated economies fast is two orders of magnitude ahead of the
best peer from 3,000 goods on where its own path applies, and no slower than HiGHS (it falls back to it) where
it does not."""

FAST_OBJECTIVES = ("ray", "min-labour")
MAX_HARMONY_ROUNDS = 500
HARMONY_IPM_FROM_ROWS = 10_000
"""Kelley's first LP goes to HiGHS's interior point method from this many rows on (the rounds after it to its
simplex, warm). Measured on structured economies (docs/benchmarks.md, "Harmony"): at 6,000 goods (30,245 rows)
the first LP took 17 s against the simplex's 119 s, the whole solve 187 s against 280 s; at 3,000 (14,215 rows)
16.8 s against 18.5 s; at 1,000 the same."""
def fast_module() -> ModuleType | None:
    """The ``fast`` solver module, or ``None`` when it cannot be imported (a broken installation; ``fast`` then
    raises :class:`SolverUnavailableError` and ``auto`` uses HiGHS). The tests import it unconditionally."""
    try:
        module = importlib.import_module("needplan.plan.fast")
    except ImportError:
        return None
    return module if hasattr(module, "solve_ray") else None


def solve_model(model: PlanModel, *, solver: str = "auto", tolerance: float = 1e-6,
                time_limit: float | None = None, fill: str | None = None) -> PlanResult:
    """Solve ``model`` to relative ``tolerance`` and return the verified :class:`PlanResult`.

    ``solver``: ``highs``, ``fast`` (ray and min-labour; harmony on Leontief economies; the rest, and user
    constraints, fall back to HiGHS, noted in ``result.solver["note"]``) or ``auto`` (``fast`` for large ray and
    min-labour problems when it is installed, and for harmony wherever its dual path applies).
    ``time_limit`` in seconds per solver call. Raises :class:`SolverUnavailableError` for ``fast`` when it is
    not installed, and :class:`PlanInputError` when HiGHS refuses the LP (numbers too many orders of magnitude
    apart), naming the row and column.

    ``fill`` (ray only): of the optimal plans, ``"leximin"`` takes the one that raises the needs the bottlenecks do
    not hold back as far as they go, in turn, then uses the least labour; ``"least-labour"`` the one that keeps
    every need at the ray's fulfilment with the least labour (:mod:`needplan.plan.fill`); the note says what it did.
    """
    if fill is not None and fill not in FILLS:
        raise PlanInputError(f"fill must be one of {', '.join(FILLS)} (or None), got {fill!r}")
    if fill and model.objective != "ray":
        raise PlanInputError(f"fill applies to the ray objective only, not to {model.objective}")
    try:
        with one_blas_thread():
            warm = model.session is not None
            result = _solve_model(model, solver, tolerance, time_limit, fill)
            if (warm and result.status == "stopped" and result.solver["name"] == "highs"
                    and model.session is not None and not model.session.limit_reached()):
                # The HiGHS session kept from earlier solves (its basis, the units it chose for the bounds then)
                # ended without a verified plan: once more in a new session, as a model built afresh would be (fast's
                # own answers do not depend on the session, and at its sizes a second run costs as much again; a
                # helper's fuzzing of re-solves after extreme edits: harmony "stopped" at 29.9 where a fresh model
                # was optimal at 87.2; a primal residual of 1.1e-4 where it was optimal).
                model.session = None
                again = _solve_model(model, solver, tolerance, time_limit, fill)
                if again.status != "stopped":
                    again.solver["seconds"] += result.solver["seconds"]
                    again.solver["iterations"] += result.solver["iterations"]
                    again.solver["message"] = (f"{again.solver['message']} (in a new HiGHS session: the one kept from "
                                               f"earlier solves ended stopped, {result.solver['message']})")
                    return again
            return result
    except LpScaleError as exc:
        raise PlanInputError(model.refusal(exc)) from None


def one_blas_thread() -> AbstractContextManager[object]:
    """A block whose BLAS calls (numpy's and scipy's OpenBLAS) run on one thread, as they were after it.

    The engine's dense BLAS calls are products of single vectors (norms, dot products, a few small matrices), where
    waking BLAS's threads costs more than the arithmetic, and far more when another process holds a core: with one
    busy process beside it on this 2-core machine, fast's ray at 10^5 uniform goods took 1.20 s with BLAS's two
    threads and 0.39 s with one, and a conflict search at 3x10^4 goods 48.7 s against 1.6 s (its screening's dot
    products over 15,000 needs, 4 ms each instead of microseconds). The controller is made once, at the first
    solve (its search of the loaded libraries costs 0.6 ms; each limit after it, 9 us)."""
    return _blas_controller().limit(limits=1, user_api="blas")


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def _solve_model(model: PlanModel, solver: str, tolerance: float, time_limit: float | None,
                 fill: str | None) -> PlanResult:
    if solver not in SOLVERS:
        raise PlanInputError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    tolerance = real(tolerance, "tolerance")
    if not (np.isfinite(tolerance) and 0 < tolerance < 1):
        raise PlanInputError(f"tolerance must be a number in (0, 1), got {tolerance}")
    if time_limit is not None:
        time_limit = real(time_limit, "time_limit")
        if not time_limit > 0:
            raise PlanInputError(f"time_limit must be a number of seconds above 0 (or None), got {time_limit}")
        time_limit = None if math.isinf(time_limit) else time_limit
    fast = fast_module()
    note = ""
    use_fast = False
    if solver == "fast":
        if fast is None:
            raise SolverUnavailableError("solver 'fast' is not available in this installation yet "
                                         "(use --solver highs or auto)")
        if model.objective in FAST_OBJECTIVES:  # harmony: fast's own path below
            if model.user_rows.size:
                note = "fast does not take user constraints; solved by HiGHS"
            else:
                use_fast = True
    elif solver == "auto":
        use_fast = (fast is not None and model.objective in FAST_OBJECTIVES and not model.user_rows.size
                    and model.n_techniques >= AUTO_FAST_TECHNIQUES)
    dual = None
    if use_fast:
        assert fast is not None
        start = time.perf_counter()
        fast_sol, declined = (None, model.fast_declined) if model.fast_declined else _solve_fast(
            model, fast, tolerance, time_limit)
        if fast_sol is None:
            # Outside fast's structure: the model's own HiGHS session (warm on re-solves after edits, where fast's
            # own LP would start cold each time: 2.2 s against 0.01 s after halving a capacity, found by fuzzing).
            before = " before" if model.fast_declined else ""
            model.fast_declined = declined
            note = f"fast's path declined this LP{before} ({declined}); solved by HiGHS"
            tried = time.perf_counter() - start
            left = None if time_limit is None else max(time_limit - tried, 0.1)
            fast_sol = _by_highs(model, tolerance, left)
            fast_sol.extra["method"] = f"highs (fast path declined: {declined})"
            fast_sol.seconds += tried  # fast's attempt counts (a profile: 0.15 s of 0.31 s at 1,000 goods, unseen)
        sol = fast_sol
    else:
        tried = 0.0
        if model.objective == "harmony" and solver in ("fast", "auto"):
            start = time.perf_counter()
            dual, why = _solve_harmony_dual(model, tolerance, time_limit)
            tried = time.perf_counter() - start
            if dual is None and solver == "fast":
                note = f"fast's harmony path declined ({why}); solved by Kelley's cutting planes on HiGHS"
        if dual is None:
            sol = _by_highs(model, tolerance, time_limit)
            sol.seconds += tried  # the declined smooth dual's attempt counts too (a review)
        else:
            sol = dual
    result = _read_back(model, _within_tolerance(model, sol, tolerance, time_limit), tolerance, time_limit, note,
                        fill)
    retry = (_resolve_tighter(model, tolerance, time_limit)
             if sol.solver == "highs" and sol.status == "optimal" and result.status == "stopped" else None)
    if retry is not None:
        # HiGHS's answer passed its session's check, row by row in the LP's units, but not read-back's, good by good
        # against its flows: solved once more, tighter (_resolve_tighter); that answer stands where it passes at the
        # tolerance asked for.
        again, how = retry
        again.seconds += sol.seconds
        again.iterations += sol.iterations
        tight = _read_back(model, again, tolerance, time_limit, note, fill)
        if tight.status == "optimal":
            tight.solver["message"] = f"{tight.solver['message']} ({how}: the first answer failed the engine's check)"
            result = tight
    limited = model.session is not None and model.session.limit_reached()
    if (solver == "auto" and sol.solver == "highs" and sol.status in ("optimal", "stopped") and not limited
            and result.status == "stopped" and fast is not None and model.objective in FAST_OBJECTIVES
            and not model.user_rows.size and not model.fast_declined):
        # HiGHS's answer failed the engine's check even from nothing at its tightest tolerances (two goods each
        # using 0.9999999999 of the other: reduced costs of 5e-11 beside activities of 10^10), or HiGHS stopped
        # short of an answer without a limit (an "unbounded" its ray does not prove: a helper's generated economy
        # whose optimum is 0.139): fast, whose Leontief solves hold at such a structure, where it applies.
        fast_sol, declined = _solve_fast(model, fast, tolerance, time_limit)
        if fast_sol is not None:
            fast_sol.seconds += sol.seconds
            by_fast = _read_back(model, fast_sol, tolerance, time_limit, (
                f"HiGHS's answer failed the engine's verification ({result.solver['message']}); solved by fast"),
                                 fill)
            if by_fast.status == "optimal":
                return by_fast
        else:
            model.fast_declined = declined
    if (sol.solver == "fast" and sol.status == "optimal" and result.status == "stopped"
            and model.n_techniques < AUTO_FAST_TECHNIQUES):
        # fast's answer failed the engine's own check (seen with goods in units 10^11 apart): at this size HiGHS
        # answers at once, as auto would have chosen. Larger economies keep the honest "stopped".
        first = sol.seconds
        sol = _within_tolerance(model, _by_highs(model, tolerance, time_limit), tolerance, time_limit)
        sol.seconds += first  # fast's answer that failed the check counts too (a review)
        result = _read_back(model, sol, tolerance, time_limit, (
            f"fast's answer failed the engine's verification ({result.solver['message']}); solved by HiGHS"), fill)
    return result


def _resolve_tighter(model: PlanModel, tolerance: float, time_limit: float | None) -> tuple[LpSolution, str] | None:
    """For an answer of HiGHS that read-back refused: the model solved again, tighter, and how (None where no
    tighter solve is left).

    - ray and min-labour: from nothing at HiGHS's tightest tolerances and without its presolve (fuzzing: 1.3e-6
      against a tolerance of 1e-6, a ring of 60 products); not after its interior point method.
    - harmony: Kelley's rounds resumed from their cuts at a tolerance :data:`HARMONY_TIGHTER` times smaller (a
      helper's fuzzing: one labour kind at 0.001 beside targets of 1 to 10, a need's deviation 6e-8 below -1
      within HiGHS's tolerance, and 5e-7 of a product used that nothing made, 5e-4 of its flows: 8 of 180 such
      economies "stopped")."""
    if model.objective == "harmony":
        tighter = tolerance * HARMONY_TIGHTER
        if tighter < TIGHTEST_HIGHS_TOLERANCE:
            return None
        return _by_highs(model, tighter, time_limit), f"Kelley's rounds resumed at a tolerance of {tighter:g}"
    if model.session is None or model.session.last_run_by_ipm:
        return None
    again = model.session.run_exact()
    again.ranges = model.session.ranges_of(again)
    return again, "re-solved from nothing at HiGHS's tightest tolerances without its presolve"


def _read_back(model: PlanModel, sol: LpSolution, tolerance: float, time_limit: float | None, note: str,
               fill: str | None) -> PlanResult:
    """Read back ``sol``, filled first where asked (an optimal ray plan only; the note says what filling did)."""
    if fill:
        ray = sol
        if sol.status == "optimal":
            fast = fast_module() if sol.solver == "fast" else None
            least = None if fast is None else _fast_least_labour(model, tolerance)
            # HiGHS's rounds after fast's ray only where HiGHS is quick (auto's own rule)
            sol, filling = fill_plan(model, sol, how=fill, tolerance=tolerance, time_limit=time_limit,
                                     least_labour=least, rounds_by_highs=(
                                         sol.solver != "fast" or model.n_techniques < AUTO_FAST_TECHNIQUES))
            sol.extra["fill_rounds"] = filling.rounds
            told = filling.sentence()
        else:
            told = f"not filled: the ray plan is {sol.status}"
            sol.extra["fill_rounds"] = 0  # (0 where no filled plan is returned)
        filled = read_back(model, sol, tolerance=tolerance, note="; ".join(filter(None, [note, told])),
                           time_limit=time_limit)
        if filled.status == "optimal" or sol is ray:
            return filled
        # Its flows differ from the ray plan's, and so do the floors of the check: where the filled plan fails it and
        # the ray plan passes, the ray plan stands, saying so.
        ray.extra["fill_rounds"] = 0
        plain = read_back(model, ray, tolerance=tolerance, time_limit=time_limit, note="; ".join(filter(None, [
            note, f"not filled: the filled plan failed the engine's verification ({filled.solver['message']})"])))
        return plain if plain.status == "optimal" else filled
    return read_back(model, sol, tolerance=tolerance, note=note, time_limit=time_limit)


def _fast_least_labour(model: PlanModel, tolerance: float) -> LeastLabour:
    """fast's min-labour path for filling's least-labour round of a ray plan fast solved (:mod:`needplan.plan.fill`):
    the ray's own blocks, its lambda column kept at capacity 0. Declines (``None``) outside fast's structure or
    without a certified optimum; HiGHS then takes the round (a uniform economy of 3,000 goods: 23 s)."""
    from needplan.plan.fast_min_labour import solve_min_labour

    def solve(lp: LinearProgram, time_limit: float | None) -> LpSolution | None:
        blocks = fast_blocks(model)
        start = time.perf_counter()
        fr = solve_min_labour(blocks.net, blocks.primary, lp.row_upper[blocks.prim_rows],
                              blocks.per_column(lp.col_upper, model.n_techniques), lp.row_lower[blocks.net_rows],
                              labour_cost=blocks.per_column(lp.cost, model.n_techniques), tol=tolerance,
                              time_limit=time_limit, main=blocks.main, fallback=False)
        if str(fr.status) != "optimal" or fr.x is None:
            return None
        x = np.zeros(lp.n_cols)
        x[:model.n_techniques] = np.asarray(fr.x, dtype=np.float64)[:model.n_techniques]
        return LpSolution("optimal", x, np.zeros(0), np.zeros(0), int(fr.iterations), time.perf_counter() - start,
                          "fast", str(fr.message))

    return solve


def _by_highs(model: PlanModel, tolerance: float, time_limit: float | None) -> LpSolution:
    """HiGHS on the model's LP; for harmony, Kelley's cutting planes on HiGHS."""
    if model.objective == "harmony":
        return _solve_harmony(model, tolerance, time_limit)
    session = _session(model, tolerance, time_limit, IPM_FROM_ROWS)
    sol = session.run()
    sol.ranges = session.ranges_of(sol)
    return sol


def _within_tolerance(model: PlanModel, sol: LpSolution, tolerance: float,
                      time_limit: float | None) -> LpSolution:
    """``sol``, unless it calls a min-labour LP infeasible. That is checked against the tolerance: re-solved with
    every target lowered by each share of the tolerance in ``MET_WITHIN`` in turn (the rest is left for the plan's
    own rounding). Where that has a plan, the targets
    as given are met within the tolerance (a real table's observed year: its labour is what its final demand
    needs, to rounding or to the table's own precision), and that plan is returned, saying so; read-back verifies
    it against the targets as given. Otherwise ``sol`` stands."""
    # HiGHS failing without a plan is tried the same way (fuzzing: Sweden 2012 under the product-technology
    # assumption, its ray at 0.99999942 and 22 inputs of 4e-23 to 5e-13 a unit: both its methods failed on the
    # targets as given, and had a plan at 15/16 of the tolerance lower).
    failed = (sol.status == "stopped" and not sol.x.size and sol.solver == "highs" and model.session is not None
              and not model.session.limit_reached())
    if not (sol.status == "infeasible" or failed) or model.objective != "min-labour":
        return sol
    if sol.solver == "fast":
        # fast calls it infeasible only with the ray's fulfilment certified below 1 - 2 tolerance (closer, it
        # hands the LP to HiGHS): no lowering within the tolerance has a plan. Each re-solve by HiGHS took 70 s
        # on a uniform economy of 3,000 goods.
        return sol
    lp = model.lp
    need = model.kind_is("need") & np.isfinite(lp.row_lower) & (lp.row_lower > 0)
    for share in MET_WITHIN:
        lower = np.where(need, lp.row_lower * (1.0 - share * tolerance), lp.row_lower)
        relaxed = LinearProgram(lp.A, lower, lp.row_upper, lp.cost, lp.col_lower, lp.col_upper, lp.maximize,
                                lp.activities)
        session = HighsSession(relaxed, tolerance=tolerance, time_limit=time_limit)
        again = session.run()
        sol.iterations += again.iterations  # the infeasible answer counts every run made to check it
        sol.seconds += again.seconds
        if again.status == "stopped" and session.limit_reached():
            # Not settled: the targets may be met within the tolerance (a helper's fuzzing: Sweden 2016 by fast
            # with a time limit of 1e-9 s read "infeasible", where it is optimal and HiGHS's own said "stopped").
            if sol.status == "infeasible":
                sol.status, sol.message = "stopped", (
                    f"Time limit reached before the targets, called infeasible ({sol.message}), were checked within "
                    "the tolerance")
            return sol
        if again.status == "optimal":
            called = "were called infeasible" if sol.status == "infeasible" else "made HiGHS fail"
            again.message = (f"{again.message}: the targets as given {called} ({sol.message}), but "
                             f"with every target lowered by {share * tolerance:.2g} relative (within the tolerance) "
                             "they have this plan, so the targets are met within the tolerance")
            again.iterations, again.seconds = sol.iterations, sol.seconds
            return again
    return sol


def _session(model: PlanModel, tolerance: float, time_limit: float | None, ipm_from_rows: int) -> HighsSession:
    # Re-solves keep the HiGHS instance (and its basis); only new rows and changed bounds are passed. A new
    # session's first run goes to the interior point method from ipm_from_rows rows on. Edits that change the unit
    # the activities are counted in (lp.activity_units: every availability and capacity 10^6 times smaller) start
    # a new session: the old one passed them in its first units, and harmony came back "stopped" without a plan
    # where a fresh model was optimal (a helper's fuzzing).
    if model.session is not None and model.session.units_changed():
        model.session = None
    if model.session is None:
        model.session = HighsSession(model.lp, tolerance=tolerance, time_limit=time_limit,
                                     ipm_from_rows=ipm_from_rows)
        model.session.row_name = lambda i: f"row {model.rows['name'].iloc[i]!r}"
    else:  # each solve's own tolerance and time limit (fuzzing: the first solve's stuck to the model for good)
        model.session.set_tolerance(tolerance)
        model.session.limit_time(time_limit)
    return model.session


def _solve_harmony_dual(model: PlanModel, tolerance: float,
                        time_limit: float | None) -> tuple[LpSolution | None, str]:
    """The harmony plan by :mod:`needplan.plan.fast_harmony` where the economy is a Leontief system (one technique
    per product, no joint products, one row per need, no user constraints); ``(None, why)`` elsewhere or when it
    does not certify the plan. The answer is the LP's solution over one more cut per need, at the plan itself."""
    from needplan.plan.fast_harmony import LeontiefHarmony, solve

    lp, n_t = model.lp, model.n_techniques
    net_rows = np.flatnonzero(model.kind_is("balance", "need"))
    prim_rows = np.flatnonzero(model.kind_is("primary"))
    if model.user_rows.size:
        return None, "user constraints"
    if net_rows.size != n_t or np.unique(model.need_of_row).size != model.need_rows.size:
        return None, "not one technique per product and one row per need"
    main = main_rows(model, net_rows)
    if np.any(main < 0) or np.unique(main).size != n_t:
        return None, "not one technique per product"
    net = _block(lp.A, net_rows, n_t)
    diag = np.asarray(net[main, np.arange(n_t)]).ravel()
    if np.any(diag <= 0) or int(np.count_nonzero(net.data > 0)) != n_t:
        return None, "joint products"
    weight = model.economy.weight[model.need_goods][model.need_of_row]
    if np.any(weight <= 0):
        return None, "a need of weight 0"
    if np.any(lp.col_upper[:n_t] <= 0):
        return None, "a technique of capacity 0 (nothing that uses its product can run)"
    choice = np.empty(n_t, dtype=np.int64)
    choice[main] = np.arange(n_t)
    position = np.full(lp.n_rows, -1, dtype=np.int64)
    position[net_rows] = np.arange(net_rows.size)
    start = time.perf_counter()
    deadline = start + (time_limit if time_limit is not None else math.inf)
    try:
        with np.errstate(over="raise", invalid="raise"):  # an overflow means prices beyond any plan: decline
            problem = LeontiefHarmony(net, choice, diag, _block(lp.A, prim_rows, n_t), lp.row_upper[prim_rows],
                                      lp.col_upper[:n_t], position[model.need_rows], lp.row_lower[model.need_rows],
                                      weight)
            answer, why = solve(problem, tol=tolerance, deadline=deadline)
    except ArithmeticError as err:  # FloatingPointError included
        return None, f"the dual's arithmetic failed ({err})"
    if answer is None:
        return None, why
    s = np.full(model.need_goods.size, np.nan)
    s[model.need_of_row] = answer.s
    first_cut = model.lp.n_rows
    add_harmony_cuts(model, s[:, None])  # the tangent at the plan, which carries each need's weight
    model.plan_cuts = np.append(model.plan_cuts, np.arange(first_cut, model.lp.n_rows))
    x = np.zeros(model.lp.n_cols)
    x[:n_t], x[model.s_cols], x[model.z_cols] = answer.x, s, harmony(s)
    y = np.zeros(model.lp.n_rows)
    y[net_rows] = answer.p
    y[prim_rows[problem.limited]] = -answer.mu  # <= rows: nonpositive in the minimisation convention
    y[first_cut:] = -model.economy.weight[model.need_goods]
    d = model.lp.cost - model.lp.A.T @ y
    seconds = time.perf_counter() - start
    gap = answer.bound - answer.value
    newton = ("matrix-free Newton's method (conjugate gradients) in {} steps" if answer.matrix_free else
              "Newton's method over the binding limits in {} rounds").format(answer.newton_rounds)
    message = f"optimal by leontief-dual (L-BFGS-B, then {newton}), certified gap {gap:.2g}"
    return LpSolution("optimal", x, y, d, answer.evaluations, seconds, "fast", message,
                      {"gap": float(gap), "method": "leontief-dual", "rounds": float(answer.newton_rounds)}), ""


HARMONY_TIGHTER = 1e-2
"""How much tighter Kelley's rounds are resumed where their answer fails read-back's check (:func:`solve_model`)."""

HARMONY_FAR_POINTS = (2.0**16 - 1, 2.0**32 - 1, 2.0**64 - 1, 2.0**128 - 1)
"""Tangent points of harmony's cuts far out (``1 + s`` up to ``2^128`` times the target), added to Kelley's LP when its
first round comes back unbounded with a ray that does not prove it."""


def _solve_harmony(model: PlanModel, tolerance: float, time_limit: float | None) -> LpSolution:
    """Kelley's outer approximation: add tangent cuts at the LP's point until the certified gap is small."""
    if model.plan_cuts.size:
        # The smooth dual's cuts at its plan lie so close to those Kelley adds near the optimum that HiGHS's
        # simplex failed and its rounds took 20-80 s against 0.5 s on a fresh model (uniform, 300 goods, fuzzing the
        # API's re-solves): free them. They were valid for that plan's duals; Kelley places its own.
        model.lp.row_lower[model.plan_cuts], model.lp.row_upper[model.plan_cuts] = -np.inf, np.inf
        model.plan_cuts = np.zeros(0, dtype=np.int64)
    # A large first round goes to HiGHS's interior point method (its crossover leaves a basis for the warm
    # simplex rounds after it); a re-solve keeps its session's basis.
    session = _session(model, tolerance, time_limit, HARMONY_IPM_FROM_ROWS)
    eco = model.economy
    # The gap in units of the mean weight (harmony_unit), compared with tolerance * max(1, |harmony|) in the same
    # units: weights in any unit give the same rounds (with a floor of 1 in the weights' own unit, weights of
    # 1e-12 stopped up to 3% short and read optimal; weights of 5e-324 need the division to keep any precision).
    unit = harmony_unit(eco.weight[model.need_goods])
    weights = eco.weight[model.need_goods] / unit
    start = time.perf_counter()
    iterations = 0
    gap = np.inf
    value = 0.0
    sol = session.run()
    rounds = 1
    if sol.extra.get("unproven_unbounded"):
        # The first cuts end at 256 times each target. A need whose target is a tiny share of what the economy can
        # make of it (1e-20 of a good made by the hundred; fuzzing) leaves the LP's harmony beyond HiGHS's infinity
        # (1e20), and HiGHS called a bounded problem unbounded, with a ray that does not prove it: cut far out as
        # well, and ask again. (A ray that proves it raises some deviation, none falls below -1 along it: then
        # the harmony itself has no bound.)
        add_harmony_cuts(model, np.tile(np.asarray(HARMONY_FAR_POINTS), (model.need_goods.size, 1)))
        iterations += sol.iterations
        sol = session.run()
        rounds += 1
    if (sol.status == "unbounded" or sol.extra.get("unproven_unbounded")
            or (sol.status == "optimal" and np.any(sol.x[model.s_cols] >= HARMONY_OUTERMOST))):
        # A deviation at the last cut may have no bound at all (nothing limits that need): a harmony that grows
        # like log(1 + s) without end, which Kelley's rounds would chase for ever (fuzzing: the demo with no
        # labour or resource listed ran for minutes). An LP proven unbounded gets the needs named as well, and so
        # does one HiGHS calls unbounded without a ray that proves it, even after the far cuts (fuzzing: with every
        # limit lifted, "stopped" or "unbounded" by tolerance and by whether the model was solved before).
        unlimited = _unlimited_needs(model, tolerance)
        if unlimited:
            sol.status, sol.x = "unbounded", np.zeros(0)
            sol.message = (f"nothing limits {_some(unlimited)}: {'its' if len(unlimited) == 1 else 'their'} delivery "
                           "can grow without end while no other need gets less (give availabilities in resources.csv "
                           "or capacities)")
            sol.seconds = time.perf_counter() - start
            return sol
    first_ipm = session.last_run_by_ipm
    last: tuple[LpSolution, float, float] | None = None  # the last round solved to the end, its gap and harmony
    while True:
        iterations += sol.iterations
        failed = sol.status == "unbounded" or (sol.status == "stopped" and not session.limit_reached())
        if last is not None and failed:
            # Cuts only shrink a bounded LP, which had an optimum: "unbounded", or no answer without a limit reached,
            # is HiGHS's warm start going wrong (seen on 300 goods, a need whose deviation reaches 10^5; and "Not
            # Set" or "Solve error" on fuzzed economies of 40 to 300 goods). Once more from nothing; a round that
            # still fails counts as stopped.
            session.highs.clearSolver()
            sol = session.run()
            iterations += sol.iterations
            if sol.status == "unbounded":
                sol.status, sol.message = "stopped", "HiGHS called the LP with cuts added unbounded, which it cannot be"
        if sol.status == "infeasible" and not model.user_rows.size:
            # Producing nothing (s = -1) is a plan of every harmony LP without user constraints: HiGHS's word is
            # wrong (metamorphic fuzzing: every quantity of a structured economy times 1e-9).
            sol.status = "stopped"
            sol.message = f"HiGHS called the LP of round {rounds} infeasible, which it cannot be ({sol.message})"
        if sol.status == "optimal" and sol.extra.get("broken") and last is not None:
            # HiGHS's "optimal" broke its rows even after its re-solves (the demo with every availability at
            # 2^64 - 1: from round 7 on, by 84% and more): no whole round, as a limit stops one.
            sol.status, sol.message = "stopped", f"HiGHS's answer failed verification ({sol.message})"
        if sol.status != "optimal":
            if last is not None and sol.status == "stopped":
                # A limit stopped this round: the last whole round's plan is feasible, with a certified gap. Its
                # duals price the cuts added since at zero (a dual of the larger LP as well).
                message = f"{sol.message} in LP round {rounds}; the plan of round {rounds - 1}"
                sol, gap, value = last
                added = model.lp.n_rows - sol.row_dual.size
                sol.row_dual = np.concatenate([sol.row_dual, np.zeros(added)])
                sol.status, sol.message = "stopped", message
            break
        s_lp = sol.x[model.s_cols]
        value = float(weights @ harmony(true_deviation(model, sol.x)))
        # The bound is the LP's own optimum: every cut is valid, so no plan does better. (The cuts evaluated at the
        # LP's point are no bound: that point is optimal only to HiGHS's feasibility tolerance.)
        gap = float(weights @ sol.x[model.z_cols]) - value
        last = (sol, gap, value)
        close = tolerance * max(1.0, abs(value))
        if gap <= close or rounds >= MAX_HARMONY_ROUNDS:
            break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
        z = _envelope(model, sol.x)
        if float(weights @ z) - value <= close:
            # The cuts are fine enough; the LP's z stands above them by HiGHS's tolerance: solve it tighter.
            if not session.tighten():
                break
        else:
            # Cut where the outer approximation overstates the term, weighted as the gap weighs it (a need of weight
            # 6e4 overstated by 1e-4 is 7 of the gap); the LP point is then cut off.
            over = weights * (z - harmony(s_lp)) > 0.1 * close / len(s_lp)
            if add_harmony_cuts(model, np.where(over, s_lp, np.nan)[:, None]) == 0:
                break
        sol = session.run()
        rounds += 1
    sol.iterations = iterations
    sol.seconds = time.perf_counter() - start
    optimal = abs(gap) <= tolerance * max(1.0, abs(value))
    gap *= unit  # (in the harmony's own units from here on)
    sol.extra = {"rounds": float(rounds), "gap": float(gap)}
    if sol.status == "optimal" and not optimal:
        # A gap below -tolerance is no better: the plan's harmony above the LP's optimum means that HiGHS's LP was
        # not the one written (entries it dropped, fuzzing: a target 1e-20 of its good's flows), so it bounds
        # nothing.
        sol.status = "stopped"
        sol.message = (f"harmony gap {gap:.3g} above tolerance after {rounds} rounds" if gap > 0 else
                       f"the plan's harmony is {-gap:.3g} above the LP's bound after {rounds} rounds, which proves "
                       "nothing: the LP is beyond HiGHS's precision")
        if tolerance < TIGHTEST_HIGHS_TOLERANCE:
            sol.message += f"; {BEYOND_TIGHTEST}"
    else:
        first = " (the first by HiGHS's interior point method)" if first_ipm else ""
        sol.message = f"{sol.message}; Kelley cutting planes, {rounds} LP rounds{first}, certified gap {gap:.2g}"
    return sol


HARMONY_OUTERMOST = max(HARMONY_START_POINTS)
"""Where the first harmony cuts end (``1 + s = 256``): a deviation there may have no bound at all
(:func:`_unlimited_needs`)."""


def _unlimited_needs(model: PlanModel, tolerance: float) -> list[str]:
    """The weighted needs whose delivery can grow without bound while no need's delivery falls: those that grow
    along a direction ``d`` of the LP's recession cone (activities ``d >= 0``, none on a technique with a capacity;
    every other row made homogeneous, cuts left out). One LP finds them all at once: each need's ``t_g`` (0 to 1)
    is at most the growth of each of its rows (one per quality level of its makers) per unit of the row's largest
    entry, ``d`` is free in size, and the LP maximises the sum of ``t``. Directions add up, so one direction grows
    every such need by 1 and the optimum has ``t_g = 1`` exactly for them (a largest-growth direction under a
    normalisation named one need where 27 could grow, and a need made in small units none). A need of weight 0
    adds nothing to the harmony, however it grows, and is left out."""
    lp, n_t, k = model.lp, model.n_techniques, model.need_goods.size
    keep = np.flatnonzero(~model.kind_is("cut"))
    # Each row divided by its largest entry (the rows are homogeneous, so the cone is the same), and a need's growth
    # then counted in those units: a solver's absolute feasibility tolerance means the same on every row. Unscaled, a
    # row of 1e-9s let 1e-9 of labour be used that there is not, within HiGHS's 1e-7, and a need limited by 1,000
    # hours read "unlimited" (fuzzing).
    A = sp.csr_matrix(lp.A[keep][:, :n_t])
    largest = abs(A).max(axis=1).toarray().ravel()
    A = sp.csr_matrix(sp.diags(1.0 / np.where(largest > 0, largest, 1.0)) @ A)
    row_lower, row_upper = lp.row_lower[keep], lp.row_upper[keep]
    need_rows = np.searchsorted(keep, model.need_rows)
    growth = sp.csr_matrix((-(largest[need_rows] > 0).astype(np.float64), (need_rows, model.need_of_row)),
                           shape=(keep.size, k))
    weighted = model.economy.weight[model.need_goods] > 0
    cone = LinearProgram(
        sp.hstack([A, growth], format="csr"), np.where(np.isfinite(row_lower), 0.0, -np.inf),
        np.where(np.isfinite(row_upper), 0.0, np.inf), np.concatenate([np.zeros(n_t), -np.ones(k)]),
        np.zeros(n_t + k), np.concatenate([np.where(np.isfinite(lp.col_upper[:n_t]), 0.0, np.inf),
                                           weighted.astype(np.float64)]), activities=n_t)
    sol = HighsSession(cone, tolerance=tolerance).run()
    if sol.status != "optimal" or sol.extra.get("unverified"):
        return []
    grows = sol.x[n_t:] > 0.5
    return [str(model.economy.goods[g]) for g in model.need_goods[grows]]


def _some(names: list[str], first: int = 5) -> str:
    """``a, b, c and 4 more``."""
    more = f" and {len(names) - first} more" if len(names) > first else ""
    return ", ".join(names[:first]) + more


def _envelope(model: PlanModel, x: np.ndarray) -> np.ndarray:
    """Each harmony term's outer approximation ``min over its cuts`` at the LP's ``s``, capped by the LP's ``z``.

    The LP's own ``z`` may exceed the cuts by the solver's feasibility tolerance; the cuts evaluated exactly tell
    whether more cuts are needed or only a tighter LP solve.
    """
    z = x[model.z_cols].copy()
    cut = np.flatnonzero(model.kind_is("cut"))
    need_of_good = np.full(model.economy.n_goods, -1, dtype=np.int64)
    need_of_good[model.need_goods] = np.arange(len(model.need_goods))
    g = need_of_good[model.rows["good"].to_numpy()[cut]]
    # a cut row reads z_g - slope * s_g <= b; its value at s_g is b + z_g - (row activity)
    value = model.lp.row_upper[cut] + x[model.z_cols][g] - model.lp.A[cut] @ x
    np.minimum.at(z, g, value)
    return z


def true_deviation(model: PlanModel, x: np.ndarray) -> np.ndarray:
    """``s_g = (counted_g - target_g) / target_g`` of each need, recomputed from the activities ``x`` (the counted
    output of a need with several rows is the least of them)."""
    n_t = model.n_techniques
    # harmony's need rows read `row @ x - T s >= T`, T the row's own target (the balance row's is target / q)
    row_target = model.lp.row_lower[model.need_rows]
    s = np.full(model.need_goods.size, np.inf)
    np.minimum.at(s, model.need_of_row, (model.lp.A[model.need_rows][:, :n_t] @ x[:n_t] - row_target) / row_target)
    return s


def main_rows(model: PlanModel, net_rows: np.ndarray) -> np.ndarray:
    """Per technique, the position in ``net_rows`` of the row of its good that ``fast`` pivots on.

    The first row of a good that carries its need (for a quality-weighted need, the balance row carrying the best
    makers' level, or the need row of a product nobody uses) is the technique's main row; the good's other rows
    (its balance where the need has a row of its own, the other quality levels' rows) become coupling rows that
    ``fast`` adds to its master only when a plan violates them.
    """
    goods = model.rows["good"].to_numpy()[net_rows]
    pref = np.full(model.economy.n_goods, -1, dtype=np.int64)
    for kind in ("balance", "need"):  # need rows override the balance row of their good; the first need row wins
        sel = np.flatnonzero(model.kind_is(kind)[net_rows])[::-1]
        pref[goods[sel]] = sel
    return pref[model.economy.technique_good]


def _rows(A: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """The consecutive ``rows`` of ``A`` (or none) as a CSR matrix sharing ``A``'s values and column indices (read
    only)."""
    span = as_range(rows)
    if span is None:
        assert not rows.size, "rows must be consecutive"
        return sp.csr_matrix((0, A.shape[1]))
    return rows_view(A, span.start, span.stop)


def _block(A: sp.csr_matrix, rows: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """``A[rows][:, :n_cols]`` as a new CSR matrix, copying only the block itself.

    The LP's rows come in kinds (balances and needs first, then the primaries), so ``rows`` is usually one
    contiguous range: slicing both axes then copies the block once, without the intermediate row copy.
    """
    span = as_range(rows)
    if span is not None:
        return sp.csr_matrix(A[span, :n_cols])
    return sp.csr_matrix(A[rows][:, :n_cols])


@dataclass(frozen=True)
class FastBlocks:
    """The model's LP in ``fast``'s terms: ``net`` (the balance and need rows ``net_rows``), ``primary`` (the rows
    ``prim_rows``), ``main`` (per column of ``net``, the place in ``net_rows`` of its main product's row) and
    ``extra``, the columns of ``net`` beyond the techniques (ray's lambda, shared with the LP's rows: capacity 0
    and no main product for fast)."""

    net: sp.csr_matrix
    primary: sp.csr_matrix
    main: np.ndarray
    net_rows: np.ndarray
    prim_rows: np.ndarray
    extra: int

    def per_column(self, values: np.ndarray, n_t: int) -> np.ndarray:
        """Per column of ``net``: the techniques' ``values`` (capacities, costs), and 0 for the extra columns."""
        return np.append(values[:n_t], np.zeros(self.extra))


def fast_blocks(model: PlanModel) -> FastBlocks:
    """The model's rows for ``fast`` (see :class:`FastBlocks`), sharing the LP's own rows where they are
    consecutive (no copy of the block: at 10^6 goods it is 138 MiB), else one copy of the technique columns."""
    lp, n_t = model.lp, model.n_techniques
    net_rows = np.flatnonzero(model.kind_is("balance", "need"))
    prim_rows = np.flatnonzero(model.kind_is("primary"))
    A = lp.A
    main = main_rows(model, net_rows)
    if lp.n_cols - n_t <= 1 and as_range(net_rows) is not None and (
            as_range(prim_rows) is not None or not prim_rows.size):
        extra = lp.n_cols - n_t
        return FastBlocks(_rows(A, net_rows), _rows(A, prim_rows), np.append(main, np.full(extra, -1)), net_rows,
                          prim_rows, extra)
    # one copy of the block (the solver shares it, never copies it again); the primaries are a few rows
    return FastBlocks(_block(A, net_rows, n_t), _block(A, prim_rows, n_t), main, net_rows, prim_rows, 0)


def _solve_fast(model: PlanModel, fast: ModuleType, tolerance: float,
                time_limit: float | None) -> tuple[LpSolution | None, str]:
    """Hand the ray or min-labour LP to ``fast`` in its own terms and map its answer back to the LP's rows;
    ``(None, why)`` where the LP is outside its structure."""
    lp, n_t = model.lp, model.n_techniques
    blocks = fast_blocks(model)
    net, primary, main = blocks.net, blocks.primary, blocks.main
    net_rows, prim_rows = blocks.net_rows, blocks.prim_rows
    A = lp.A
    available = lp.row_upper[prim_rows]
    capacity = blocks.per_column(lp.col_upper, n_t)
    start = time.perf_counter()
    # Without fast's own fallback: outside its structure the model's HiGHS session answers (see _solve_model).
    if model.objective == "ray":
        assert model.lambda_col is not None
        col = model.lambda_col
        target = -column_entries(A, net_rows, col)
        fr = fast.solve_ray(net, primary, available, capacity, target, tol=tolerance, time_limit=time_limit,
                            main=main, fallback=False)
    else:
        from needplan.plan.fast_min_labour import solve_min_labour

        fr = solve_min_labour(net, primary, available, capacity, lp.row_lower[net_rows],
                              labour_cost=lp.cost[:n_t], tol=tolerance, time_limit=time_limit, main=main,
                              fallback=False)
    seconds = time.perf_counter() - start
    status = str(fr.status)
    if status == "stopped" and str(fr.message).startswith(fast.OUTSIDE):
        return None, str(fr.message)[len(fast.OUTSIDE):]
    # A stop before any plan (fast's time limit before a first plan) comes back as
    # zeros with lam (fulfilment, or least labour) nan: that is no plan, not a plan of zero activity.
    no_plan = fr.x is None or not np.all(np.isfinite(fr.x)) or not math.isfinite(float(fr.lam))
    if status not in ("optimal", "stopped") or no_plan:
        return LpSolution(status, np.zeros(0), np.zeros(0), np.zeros(0), int(fr.iterations), seconds, "fast",
                          _fast_message(fr, status)), ""
    x = np.asarray(fr.x, dtype=np.float64)[:n_t]
    if model.objective == "ray":
        x = np.concatenate([x, [float(fr.lam)]])
    y = np.zeros(lp.n_rows)
    y[net_rows] = np.asarray(fr.row_duals, dtype=np.float64)
    # fast reports nonnegative prices of <= rows; in the minimisation convention they are <= 0.
    y[prim_rows] = -np.asarray(fr.primary_duals, dtype=np.float64)
    d = lp.cost - lp.A.T @ y
    sol = LpSolution(status, x, y, d, int(fr.iterations), seconds, "fast",
                     _fast_message(fr, status, float(fr.gap)), {"gap": float(fr.gap), "method": str(fr.method)})
    if model.objective == "ray" and status == "optimal":
        sol.ranges = scaling_ranges(model, sol)
    return sol, ""


SCALING_TIGHT = 1e-9
"""A limit counts as reached by a plan when it uses it to within this share, and as priced when one more unit of
it is worth this share of the objective (:func:`scaling_ranges`)."""


def scaling_ranges(model: PlanModel, sol: LpSolution) -> PriceRanges | None:
    """How far the prices of a ray plan hold as one limit rises, by scaling: for fast's answers, which come
    without a basis to range (HiGHS's answers are ranged on theirs).

    The ray LP without user rows is homogeneous but for its limits (primaries and capacities): ``s x`` meets
    every balance and need row that ``x`` does, tight where ``x`` is tight, and leaves idle techniques idle. So
    where one limit alone is reached, ``s x`` with that limit raised ``s`` times is feasible and complementary to
    the same prices, which therefore stay optimal until ``s`` reaches the next limit: a floor on the range, as
    the basis's range is. Where another limit is reached at a price of 0, the range ends at the limit itself (the
    plan is degenerate there, as HiGHS's ranging says of its basis); where another is reached at a price, it is
    not known (``nan``). ``None`` for other objectives or with user rows, which scaling does not keep."""
    if model.objective != "ray" or model.user_rows.size or model.lambda_col is None:
        return None
    lp, lam = model.lp, model.lambda_col
    x, row_dual, col_dual = sol.x, sol.row_dual, sol.col_dual  # not sol itself: no cycle through sol.ranges

    def ranges(asked_rows: IntArray, asked_cols: IntArray) -> tuple[FloatArray, FloatArray]:
        # Computed when asked (read-back asks for the binding limits once): nothing of the LP's size is held.
        rows = np.flatnonzero(model.kind_is("primary") & np.isfinite(lp.row_upper))
        cols = np.flatnonzero(np.isfinite(lp.col_upper))
        bound = np.concatenate([lp.row_upper[rows], lp.col_upper[cols]])
        used = np.concatenate([lp.A[rows] @ x, x[cols]])  # a few primary rows
        worth = np.abs(np.concatenate([row_dual[rows], col_dual[cols]])) * np.maximum(bound, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(used > 0, bound / used, np.inf)
        reached = ratio <= 1.0 + SCALING_TIGHT
        priced = reached & (worth > SCALING_TIGHT * abs(float(x[lam])))
        where = np.full(lp.n_rows + lp.n_cols, -1)
        where[rows], where[lp.n_rows + cols] = np.arange(rows.size), rows.size + np.arange(cols.size)
        col_to, row_to = np.full(lp.n_cols, np.nan), np.full(lp.n_rows, np.nan)
        for out, asked, offset in ((row_to, asked_rows, 0), (col_to, asked_cols, lp.n_rows)):
            for i in np.asarray(asked, dtype=np.int64):
                k = where[offset + i]
                if k < 0 or not reached[k] or np.count_nonzero(priced) - int(priced[k]) > 0:
                    continue  # not a limit this plan reaches, or another priced one is reached too: unknown
                others = np.delete(ratio, k)
                out[i] = bound[k] * max(float(np.min(others, initial=np.inf)), 1.0)
        return col_to, row_to

    return ranges


def _fast_message(fr: FastResult, status: str, gap: float | None = None) -> str:
    """One line for the user: the status, the method that reached it (``highs (fast path declined: ...)`` when
    fast handed the LP over), the certified gap and fast's own message, if any."""
    parts = [f"{status} by {fr.method}"] + ([f"gap {gap:.2g}"] if gap is not None else [])
    parts += [fr.message] if fr.message else []
    return ", ".join(parts)
