"""Read a solved plan back into tables, verify it against the economy itself, and write or print it.

Everything here is recomputed from the activities and the economy's own matrices (not from the LP the solver
saw), so a mistake in building the LP shows up as a residual, not as a silently wrong plan. This module does
not solve anything except, for an infeasible problem, the small LPs of the conflict search in
:mod:`needplan.plan.explain`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import pandas as pd
import scipy.sparse as sp

from needplan.economy.io import atomic_folder
from needplan.economy.model import LABOUR
from needplan.plan.explain import BOTTLENECK_COLUMNS, CONFLICT_SECONDS, bottlenecks, find_conflict
from needplan.plan.lp import (
    BEYOND_TIGHTEST,
    BROKEN_RESIDUAL,
    TIGHTEST_HIGHS_TOLERANCE,
    LpSolution,
    as_range,
    check_solution,
    row_flows,
)
from needplan.quality import delivered, level_one_binds

if TYPE_CHECKING:
    from needplan.plan.model import PlanModel


ACTIVITY_COLUMNS = ("good", "activity", "capacity", "utilisation", "quality", "capacity_price")
PRODUCT_COLUMNS = ("made", "used", "net_output", "quality_adjusted", "target", "quantity_index", "quality_index",
                   "shadow_price")
PRIMARY_COLUMNS = ("kind", "used", "available", "shadow_price")
NEED_COLUMNS = ("target", "weight", "quality_weighted", "counted", "fulfilment", "quantity_index", "quality_index",
                "shadow_price")
CONSTRAINT_COLUMNS = ("name", "activity", "lower", "upper", "shadow_price")
CONFLICT_COLUMNS = ("constraint", "kind", "bound", "text")
JSON_CHUNK = 65_536
"""Entries of a map that :meth:`PlanResult.write_json` formats at a time."""
SUMMARY_SOLVER_KEYS = ("name", "message", "method", "iterations", "seconds", "tolerance", "gap", "rounds",
                       "dual_residual", "duality_gap", "user_constraint_residual", "note", "labour_weights")
"""The solver facts ``summary.csv`` always has, in this order, empty where a run has none (they differed by
solver and status); any other fact of a solver follows them."""


def _no_rows(columns: tuple[str, ...], index: str | None = None) -> pd.DataFrame:
    """A table of these columns with no rows (for a result without a plan: its files keep their headers)."""
    frame = pd.DataFrame(columns=list(columns))
    return frame.set_axis(pd.Index([], dtype=object, name=index), axis=0) if index else frame


@dataclass(frozen=True)
class PlanResult:
    """A solved (or refused) plan. Quantities per period; tables indexed by technique or good id.

    ``activity`` (techniques): :data:`ACTIVITY_COLUMNS`. ``products`` (products): :data:`PRODUCT_COLUMNS`
    (net_output physical). ``primaries`` (labour kinds and resources): :data:`PRIMARY_COLUMNS`. ``needs``
    (products with a positive target): :data:`NEED_COLUMNS`. ``constraints`` (user rows):
    :data:`CONSTRAINT_COLUMNS`. Columns and units: docs/plan.md, "Output files".
    ``indices``: economy-wide ``quantity`` and ``quality_adjusted`` (need-weighted means of the per-need
    indices). ``residuals``: largest relative violations of balance, resources and capacity recomputed from
    the plan. ``bottlenecks``: constraint, kind, shadow_price, elasticity, explanation, ranked by elasticity.
    ``conflict`` (infeasible only, :data:`CONFLICT_COLUMNS`): the smallest conflicting set of constraints found.
    When the status is not optimal or stopped the tables have their columns and no rows, and
    ``objective``/``fulfilment`` are ``None``.
    """

    objective_name: str
    status: str
    objective: float | None
    fulfilment: float | None
    activity: pd.DataFrame
    products: pd.DataFrame
    primaries: pd.DataFrame
    needs: pd.DataFrame
    indices: dict[str, float | None]
    residuals: dict[str, float | None]
    bottlenecks: pd.DataFrame
    explanation: str
    solver: dict[str, Any]
    constraints: pd.DataFrame
    conflict: pd.DataFrame = field(default_factory=lambda: _no_rows(CONFLICT_COLUMNS))

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "stopped") and not self.activity.empty

    @property
    def median_fulfilment(self) -> float | None:
        """The median need's counted net output over its target (``None`` without a plan): beside ``fulfilment``,
        the least fulfilled need's, for the objectives that do not hold every need at one fulfilment."""
        if not self.has_plan or not len(self.needs):
            return None
        return float(self.needs["fulfilment"].median())

    @property
    def shadow_prices(self) -> pd.Series:
        """Objective gained per extra unit of each product, labour kind and resource (min-labour: labour saved)."""
        if not self.has_plan:
            return pd.Series(dtype=np.float64, name="shadow_price")
        return pd.concat([self.products["shadow_price"], self.primaries["shadow_price"]]).rename("shadow_price")

    def to_json(self) -> dict[str, Any]:
        """The result as the JSON object of ``needplan plan --json`` (non-finite numbers become ``null``); a filled
        plan's ``solver`` also has filling's ``note`` and ``fill_rounds``."""
        return self._json_scalars() | {key: {str(k): _num(v) for k, v in series.items()}
                                       for key, series in self._json_maps().items()}

    def write_json(self, stream: TextIO, *, indent: int | None = None) -> None:
        """Write :meth:`to_json`'s object to ``stream``, the same text as ``json.dump(..., indent=indent)``, without
        building its maps of every technique and product: at 10^6 goods they held 500 MiB more than the rest of
        ``needplan plan --json`` (1,775 MiB against 1,270 MiB without ``--json``)."""
        item_sep = ", " if indent is None else ","
        pad = "" if indent is None else "\n" + " " * indent
        inner = "" if indent is None else pad + " " * indent
        maps = self._json_maps()
        stream.write("{")
        for i, (key, value) in enumerate(self._json_scalars().items()):
            stream.write(("" if i == 0 else item_sep) + pad + encode_basestring_ascii(key) + ": ")
            series = maps.get(key)
            if series is None or not len(series):
                text = json.dumps(value, indent=indent)
                stream.write(text if indent is None else text.replace("\n", pad))
                continue
            names, values = series.index, series.to_numpy(dtype=np.float64)
            stream.write("{")
            for start in range(0, len(series), JSON_CHUNK):
                stop = start + JSON_CHUNK
                stream.write(("" if start == 0 else item_sep) + item_sep.join(
                    inner + encode_basestring_ascii(str(k)) + ": " + _json_float(v)
                    for k, v in zip(names[start:stop], values[start:stop].tolist(), strict=True)))
            stream.write(pad + "}")
        stream.write(("" if indent is None else "\n") + "}")

    def _json_maps(self) -> dict[str, pd.Series]:
        """The per-technique and per-product maps of the JSON object, as series (none without a plan: they stay
        ``{}``)."""
        if not self.has_plan:
            return {}
        return {"activity": self.activity["activity"], "net_output": self.products["net_output"],
                "shadow_prices": self.shadow_prices}

    def _json_scalars(self) -> dict[str, Any]:
        """The JSON object with its maps empty, in its order."""
        bottl = [{"constraint": str(r.constraint), "kind": str(r.kind), "shadow_price": _num(r.shadow_price),
                  "explanation": str(r.explanation)} for r in self.bottlenecks.itertuples()]
        # Beyond the three keys: the solver line's message and note (why a run stopped, targets met
        # only within the tolerance: a helper's audit of the real tables found them in the text alone) and the
        # verification's dual figures (the primal ones are "residuals").
        solver = {"name": str(self.solver["name"]), "seconds": float(self.solver["seconds"]),
                  "iterations": int(self.solver["iterations"]), "message": str(self.solver.get("message", "")),
                  "note": str(self.solver.get("note", "")),
                  **{k: _num(self.solver.get(k)) for k in ("dual_residual", "duality_gap")}}
        if "fill_rounds" in self.solver:  # (asked for: filling's rounds)
            solver["fill_rounds"] = int(self.solver["fill_rounds"])
        return {
            "status": self.status,
            "objective": _num(self.objective),
            "fulfilment": _num(self.fulfilment),
            "activity": {},
            "net_output": {},
            "shadow_prices": {},
            "residuals": {k: _num(self.residuals.get(k)) for k in ("balance", "resources", "capacity")},
            "bottlenecks": bottl,
            "indices": {k: _num(self.indices.get(k)) for k in ("quantity", "quality_adjusted")},
            "solver": solver,
        }

    def write(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the result as tidy CSV tables plus ``plan.json`` into ``folder``, atomically.

        Tables: ``activity``, ``products``, ``primaries``, ``needs``, ``bottlenecks``, ``constraints``,
        ``conflict`` (each with its id column first), ``summary`` (one row per scalar: objective, fulfilment,
        indices, residuals, solver facts).
        """
        solver = {k: self.solver.get(k) for k in SUMMARY_SOLVER_KEYS} | self.solver
        if isinstance(solver["rounds"], float) and solver["rounds"].is_integer():
            solver["rounds"] = int(solver["rounds"])  # a count (it was written "10.0")
        summary = {"objective_name": self.objective_name, "status": self.status, "objective": self.objective,
                   "fulfilment": self.fulfilment, **{f"index_{k}": v for k, v in self.indices.items()},
                   **{f"residual_{k}": v for k, v in self.residuals.items()},
                   **{f"solver_{k}": v for k, v in solver.items()}, "explanation": self.explanation}
        tables = {
            "activity": self.activity.reset_index(), "products": self.products.reset_index(),
            "primaries": self.primaries.reset_index(), "needs": self.needs.reset_index(),
            "bottlenecks": self.bottlenecks, "constraints": self.constraints, "conflict": self.conflict,
            "summary": pd.DataFrame({"key": list(summary), "value": [_cell(v) for v in summary.values()]}),
        }
        with atomic_folder(folder, overwrite=overwrite) as tmp:
            for name, frame in tables.items():
                frame.to_csv(tmp / f"{name}.csv", index=False)
            with open(tmp / "plan.json", "w", encoding="utf-8") as stream:
                self.write_json(stream, indent=1)
                stream.write("\n")
        return Path(folder)


def _json_float(v: float) -> str:
    """``v`` as ``json.dumps`` writes it, ``null`` where it is not finite (as :func:`_num` makes it; JSON has no NaN
    or Infinity, and fuzzing found both among a harmony plan's shadow prices)."""
    return repr(v) if math.isfinite(v) else "null"


def _num(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _cell(v: Any) -> Any:
    return "" if v is None else v


def _empty(model: PlanModel, sol: LpSolution, explanation: str, solver: dict[str, Any],
           conflict: pd.DataFrame | None = None, bottl: pd.DataFrame | None = None) -> PlanResult:
    return PlanResult(
        model.objective, sol.status, None, None, _no_rows(ACTIVITY_COLUMNS, "technique"),
        _no_rows(PRODUCT_COLUMNS, "good"), _no_rows(PRIMARY_COLUMNS, "good"), _no_rows(NEED_COLUMNS, "good"),
        {"quantity": None, "quality_adjusted": None}, {"balance": None, "resources": None, "capacity": None},
        bottl if bottl is not None else _no_rows(BOTTLENECK_COLUMNS),
        explanation, solver, _no_rows(CONSTRAINT_COLUMNS),
        # (a review: a search that could not confirm the verdict returned a table without columns)
        conflict if conflict is not None and len(conflict.columns) else _no_rows(CONFLICT_COLUMNS))


def read_back(model: PlanModel, sol: LpSolution, *, tolerance: float, note: str = "",
              time_limit: float | None = None) -> PlanResult:
    """Turn a solver's answer into a verified :class:`PlanResult` (see the module docstring). ``time_limit``
    (seconds) also bounds an infeasible plan's conflict search, which otherwise takes up to
    :data:`~needplan.plan.explain.CONFLICT_SECONDS`. Arithmetic that overflows gives infinite or nan residuals,
    which fail the verification, without numpy's warnings (fuzzing: a quality of 1.7e308)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _read_back(model, sol, tolerance=tolerance, note=note, time_limit=time_limit)


def _read_back(model: PlanModel, sol: LpSolution, *, tolerance: float, note: str,
               time_limit: float | None) -> PlanResult:
    eco, lp = model.economy, model.lp
    solver: dict[str, Any] = {"name": sol.solver, "seconds": sol.seconds, "iterations": sol.iterations,
                              "message": sol.message, "tolerance": tolerance, "note": note}
    solver.update(sol.extra)
    if model.objective == "min-labour":  # what the objective counts (``--labour-weight``), for summary.csv
        solver["labour_weights"] = "; ".join(f"{eco.goods[g]}={model.labour_weights[g]:g}" for g in eco.labour)
    if sol.status == "infeasible":
        conflict, message, bottl = find_conflict(model, seconds=min(CONFLICT_SECONDS, time_limit or math.inf),
                                                 tolerance=tolerance)
        return _empty(model, sol, message, solver, conflict, bottl)
    if sol.status == "unbounded" or sol.x.size == 0:
        why = (f"the objective is unbounded: {sol.message}" if sol.status == "unbounded" and
               sol.message.startswith("nothing limits") else
               "the objective is unbounded: no labour kind, resource or capacity limits the needs "
               "(give availabilities in resources.csv or capacities)" if sol.status == "unbounded"
               else f"the solver stopped without a plan ({sol.message})")
        return _empty(model, sol, why, solver)

    n_t = model.n_techniques
    x = sol.x[:n_t]
    np.add(x, 0.0, out=x)  # -0.0 (HiGHS's idle techniques, 4 of 500 structured goods) to 0.0, in place: no copy
    checks = check_solution(lp, sol.x, sol.row_dual)
    cap = model.capacity
    off = checks.col_violation[:n_t]
    noise = (off > 0) & (off <= tolerance * np.maximum(np.where(np.isfinite(cap), cap, 0.0), checks.col_unit[:n_t]))
    if noise.any():
        # An activity beyond its bounds within the tolerance is the solver's rounding, not the plan: it goes to the
        # bound, in place, and the check measures the plan so clipped, which is the one reported. HiGHS leaves a
        # basic activity within its tolerance of a bound on either side, and in a plan of nothing -4.5e-11 read as
        # a product used 4.5e-8 of its row's unit beyond what was made: "stopped" (fuzzing). A larger violation
        # stays, and fails the check.
        x[noise] = np.clip(x[noise], lp.col_lower[:n_t][noise], lp.col_upper[:n_t][noise])
        checks = check_solution(lp, sol.x, sol.row_dual)
    solver.update({"dual_residual": checks.dual_residual, "duality_gap": checks.duality_gap})
    y = sol.row_dual
    reduced = lp.cost - lp.A.T @ y

    # --- quantities recomputed from the economy ---
    made = eco.make @ x
    made_q = eco.make @ (eco.technique_quality * x)
    used = eco.use @ x
    net = made - used
    net_q = delivered(eco.make, eco.technique_quality, x, used)  # quality-adjusted final delivery
    prods, prim = eco.products, eco.primaries
    goods = eco.goods.to_numpy(dtype=object)

    price = _product_prices(model, y, x, used)
    row_good = model.rows["good"].to_numpy()
    sel = model.kind_is("primary")
    price[row_good[sel]] = -y[sel]  # an extra unit available loosens a <= row
    available = model.available
    cap_price = np.where(np.isfinite(cap), np.maximum(-reduced[:n_t], 0.0), 0.0)
    # A limit the plan leaves unused has no price, whatever the rounding left in the dual (complementary slackness):
    # "unlimited" written as 1e15, used 459, had a reduced cost of 4e-20, and price x limit ranked it a bottleneck.
    cap_price[cap - x > tolerance * np.abs(cap)] = 0.0
    slack = available - used
    price[prim[slack[prim] > tolerance * np.abs(available[prim])]] = 0.0

    # --- the objective and the needs ---
    t = eco.target
    ng = model.need_goods
    # Quality counts only toward needs (the LP's need rows); any other product just has to balance physically.
    quality_counted = np.zeros(eco.n_goods, dtype=bool)
    quality_counted[ng] = eco.quality_weighted[ng]
    counted = np.where(quality_counted, net_q, net)
    fulfil = counted[ng] / t[ng]
    if model.objective == "harmony":
        from needplan.plan.model import harmony

        objective = float(eco.weight[ng] @ harmony((counted[ng] - t[ng]) / t[ng]))
    else:
        objective = lp.objective(sol.x) + 0.0  # + 0.0: a plan of nothing reads 0, not -0
    lam = float(sol.x[model.lambda_col]) + 0.0 if model.lambda_col is not None else None
    fulfilment = lam if lam is not None else float(np.min(fulfil))
    w = eco.weight[ng]
    heaviest = float(np.max(w, initial=0.0))
    # (relative to the largest weight: a weight of 1.7e308 made the sums overflow and the indices read inf%, where
    # the mean is finite; a helper's fuzzing)
    w = w / heaviest if heaviest > 0 else np.ones_like(w)
    indices: dict[str, float | None] = {"quantity": float(w @ (net[ng] / t[ng]) / w.sum()),
                                        "quality_adjusted": float(w @ (net_q[ng] / t[ng]) / w.sum())}

    # --- verified residuals: a balance relative to the largest of its requirement and the gross flow through it
    # (made plus used), since a net output is a difference of flows computed to floating-point precision;
    # resources and capacities relative to their bound; none relative to less than a thousandth of one unit of its
    # row, or one unit of its column, as HiGHS sees them (Checks.row_unit, col_unit), whatever the user's units ---
    required = np.zeros(eco.n_goods)
    if lam is not None:
        required[ng] = lam * t[ng]
    elif model.objective == "min-labour":
        required[ng] = t[ng]
    unit = np.full(eco.n_goods, np.inf)
    sel = model.kind_is("balance", "need", "primary")
    np.minimum.at(unit, row_good[sel], checks.row_unit[sel])
    unit = np.where(np.isfinite(unit), unit, 0.0)
    # (a target, where there is one, and not the unit floor for rows of noise-level flows: see check_solution). A
    # product used up beyond what is made counts against its flows alone, never its target: harmony's need row
    # carries the balance as net >= target (1 + s), and with a target of 1e15 beside flows of 100 an s of -1 less
    # 1.3e-13 (within any tolerance) let 132.7 units be used that nothing made, "optimal" (fuzzing).
    # One unit of a row as HiGHS sees it counts for no more than the plan's largest flow or target: with every
    # quality at 1e-300 the needs' rows carried targets of 2e304, HiGHS's unit grew to 3e299, and coal used but
    # never mined read as 7e-298 short (fuzzing).
    gross = np.maximum(made_q[prods], made[prods]) + used[prods]
    floor = np.minimum(unit[prods], max(float(np.max(gross, initial=0.0)), float(np.max(t[prods], initial=0.0))))
    gross = np.maximum(gross, floor)
    # A ray plan's need is measured against what it requires, lambda times the target: against the target, a need
    # 68% short of a fulfilment of 2.2e-11 read 1.5e-11 short (fast's answer on a helper's generated economy).
    flow = np.maximum(np.where(t[prods] > 0, required[prods] if lam is not None else t[prods], floor), gross)
    bal = np.maximum(np.maximum(-net[prods] / np.maximum(gross, 1e-300),
                                (required[prods] - counted[prods]) / np.maximum(flow, 1e-300)), 0.0)
    fin = prim[np.isfinite(available[prim])]
    res = np.maximum(used[fin] - available[fin], 0.0) / np.maximum(
        np.where(available[fin] > 0, available[fin], unit[fin]), 1e-300)
    col_unit = checks.col_unit[:n_t]
    capv = np.maximum(np.maximum(np.maximum(x - cap, -x), 0.0) / np.maximum(col_unit, np.where(np.isfinite(cap), cap,
                                                                                                0.0)),
                      checks.col_flow[:n_t])  # an activity below 0 or above capacity, also by the flows it feigns
    residuals: dict[str, float | None] = {"balance": float(np.max(bal, initial=0.0)),
                                          "resources": float(np.max(res, initial=0.0)),
                                          "capacity": float(np.max(capv, initial=0.0))}
    del made_q, required, unit, floor, gross, flow, bal, capv  # (each 8 MB at 10^6 goods; the tables below take views)
    user = model.user_rows
    # A user row's violation against the largest of its flows at the plan, its bound and a thousandth of one unit
    # of it as HiGHS sees it, as check_solution measures every row: against the bound alone, a ratio row (x_a -
    # 0.182 x_b <= 0, activities of 1.5e6) broken by 1.2e-9, one unit in the last place of its flows, read 1.2e-6,
    # "stopped" (a helper's fuzzing).
    user_flows = row_flows(lp, user, sol.x)
    user_violation = float(np.max(checks.row_violation[user] / np.maximum(np.maximum(checks.row_unit[user], np.abs(
        np.where(np.isfinite(lp.row_upper[user]), lp.row_upper[user], lp.row_lower[user]))), user_flows),
        initial=0.0))
    solver["user_constraint_residual"] = user_violation

    status = sol.status
    # (a residual that overflowed to nan proves nothing: fuzzing, a quality of 1.7e308 read "optimal")
    worst = max(max(math.inf if v is None or math.isnan(v) else v for v in residuals.values()),
                math.inf if math.isnan(user_violation) else user_violation)
    if status == "optimal" and max(worst, checks.dual_residual, checks.duality_gap) > tolerance:
        status = "stopped"
        solver["message"] = (f"{sol.message}; verification failed: largest primal residual {worst:.2g}, "
                             f"dual residual {checks.dual_residual:.2g}, duality gap {checks.duality_gap:.2g} "
                             f"(tolerance {tolerance:g})")
        if model.objective == "min-labour" and not math.isfinite(objective):
            from needplan.plan.model import labour_overflow

            solver["message"] += "; " + labour_overflow(model.economy, model.labour_weights, "the plan")
        if tolerance < TIGHTEST_HIGHS_TOLERANCE:  # (fuzzing: 1e-12 on Sweden 2016, balances right to 1.3e-12)
            solver["message"] += f"; {BEYOND_TIGHTEST}"
    if status == "stopped" and worst > BROKEN_RESIDUAL:
        # (the demo's harmony with every availability at 2^64 - 1: HiGHS's "optimal" last round used 19 times the
        # resources, and was printed as the best plan found)
        return _empty(model, replace(sol, status="stopped"), (
            f"the solver stopped without a plan (its last answer breaks the plan's limits by up to {worst:.3g} of "
            f"their size; {solver['message']})"), solver)

    level = lam if lam is not None else 1.0 if model.objective == "min-labour" else None
    if level is not None and status == "optimal":
        # A target below the precision of its product's flows reads short of lambda (of itself, for min-labour)
        # although its row holds to the tolerance (fuzzing: grain's target of 1e-15 beside 224 units made and used
        # read 0.00% in a plan at 262.93%; a target of 1e-10 beside another of 10 was left at 0 by min-labour):
        # said, not hidden.
        below = np.flatnonzero(fulfil < level * (1 - tolerance))
        if below.size:
            g = int(ng[below[0]])
            solver["note"] = "; ".join(filter(None, [solver["note"], (
                f"{below.size:,} need{'s' if below.size != 1 else ''} read below "
                f"{'the fulfilment' if lam is not None else 'their targets' if below.size != 1 else 'its target'}: "
                f"{'their targets are' if below.size != 1 else 'its target is'} below the precision of the flows "
                f"({eco.goods[g]}: target {t[g]:.3g} beside {made[g] + used[g]:,.6g} made and used), so "
                f"{'their rows hold' if below.size != 1 else 'its row holds'} to the tolerance")]))

    # --- tables ---
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(np.isfinite(cap) & (cap > 0), x / cap, np.nan)
    # Columns are taken, not copied (copy=False): each is a fresh array. The capacity (a view of the LP) and the
    # quality (the economy's own, read-only) are copied: a user editing the table got "assignment destination is
    # read-only".
    activity = pd.DataFrame({"good": goods[eco.technique_good], "activity": x,
                             "capacity": cap.copy(), "utilisation": util, "quality": eco.technique_quality.copy(),
                             "capacity_price": cap_price}, index=eco.techniques.rename("technique"), copy=False)
    t_p = t[prods]
    with np.errstate(divide="ignore", invalid="ignore"):
        qi = np.where(t_p > 0, _rows_of(net, prods) / t_p, np.nan)
        qai = np.where(t_p > 0, _rows_of(net_q, prods) / t_p, np.nan)
    products = pd.DataFrame({"made": _rows_of(made, prods), "used": _rows_of(used, prods),
                             "net_output": _rows_of(net, prods), "quality_adjusted": _rows_of(net_q, prods),
                             "target": t_p, "quantity_index": qi, "quality_index": qai,
                             "shadow_price": _rows_of(price, prods)},
                            index=pd.Index(goods[prods], name="good"), copy=False)
    primaries = pd.DataFrame({"kind": np.where(eco.good_kind[prim] == LABOUR, "labour", "resource"),
                              "used": used[prim], "available": available[prim], "shadow_price": price[prim]},
                             index=pd.Index(goods[prim], name="good"))
    needs = pd.DataFrame({"target": t[ng], "weight": eco.weight[ng], "quality_weighted": eco.quality_weighted[ng],
                          "counted": _rows_of(counted, ng), "fulfilment": fulfil, "quantity_index": net[ng] / t[ng],
                          "quality_index": net_q[ng] / t[ng], "shadow_price": price[ng]},
                         index=pd.Index(goods[ng], name="good"), copy=False)
    constraints = pd.DataFrame({"name": model.rows["name"].iloc[user].to_numpy(), "activity": lp.A[user] @ sol.x,
                                "lower": lp.row_lower[user], "upper": lp.row_upper[user],
                                # objective gained per unit the binding bound is moved outwards
                                "shadow_price": np.abs(y[user])})  # (was -0.0 where y was)
    if status != "optimal" and checks.dual_residual > tolerance:
        # Prices that fail the dual check say nothing about what binds (a ray plan stopped by its time limit before
        # HiGHS's first pivot, all zeros, read "no labour, resource or capacity binds").
        bottl = _no_rows(BOTTLENECK_COLUMNS)
        top = (f"no bottleneck is named: the solver stopped before its prices were verified (dual residual "
               f"{checks.dual_residual:.1e}, tolerance {tolerance:g})")
    else:
        bottl = bottlenecks(model, x, used, price, cap_price, needs, objective, lam, sol.ranges)
        top = "; ".join(bottl["explanation"].head(3)) if len(bottl) else "no labour, resource or capacity binds"
        top += _binding_user_rows(constraints, tolerance)
    return PlanResult(model.objective, status, objective, fulfilment, activity, products, primaries, needs,
                      indices, residuals, bottl, top, solver, constraints)


def _binding_user_rows(constraints: pd.DataFrame, tolerance: float, most: int = 3) -> str:
    """``"; user constraint c binds (...)"`` for the user rows at a bound with a positive shadow price (fuzzing: a
    plan held back by a user quota alone was explained as "no labour, resource or capacity binds"), else ``""``."""
    at = [lo if abs(a - lo) <= abs(a - hi) else hi for a, lo, hi in
          zip(constraints["activity"], constraints["lower"], constraints["upper"], strict=True)]
    binding = constraints[(constraints["shadow_price"] > 0) & (np.abs(constraints["activity"] - np.asarray(at))
                                                               <= tolerance * np.maximum(1.0, np.abs(at)))]
    if binding.empty:
        return ""
    binding = binding.sort_values("shadow_price", ascending=False, kind="stable")
    listed = ", ".join(f"{r.name} (at {r.activity:,.6g}; shadow price {r.shadow_price:.4g})"
                       for r in binding.head(most).itertuples())
    more = f" and {len(binding) - most:,} more" if len(binding) > most else ""
    return f"; user constraint{'s' if len(binding) > 1 else ''} {listed}{more} bind{'' if len(binding) > 1 else 's'}"


def _rows_of(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[idx]``, as a view where ``idx`` is a consecutive range (products and needs usually are): for the
    result tables' columns, which take this module's own fresh arrays (a copy is 8 MB a column at 10^6 goods).
    No two tables may view the same array: an edit of one table in place would show in the other."""
    span = as_range(idx)
    return values[idx] if span is None else values[span]


def _product_prices(model: PlanModel, y: np.ndarray, x: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Per good, the objective gained from one more unit of standard quality delivered from outside (0 off the
    balance and need rows), from the row duals ``y`` of the plan ``x`` (``used``: units used as inputs).

    A physical row gains one unit. A row counting a quality-weighted need's delivery at level ``q`` gains
    ``max(1, q)`` standard units (industry takes the unit in place of its best one, which goes to final use:
    :mod:`needplan.quality`). Where the delivery row of level 1, which the LP lacks, ties the delivery
    (:func:`~needplan.quality.level_one_binds`), the unit's worth is limited by it: between levels ``lo < 1 < hi``
    that row is the combination ``w`` row ``lo`` + ``(1 - w)`` row ``hi`` with ``w = (hi - 1) / (hi - lo)``, so
    the duals of those two rows move onto it as far as they allow, which lowers the price by ``(1 - w)(hi - 1)``
    per unit moved; with no level below 1 the lowest row's dual moves onto it (exact when industry cannot use the
    product, a lower bound otherwise).
    """
    eco = model.economy
    rows = model.rows
    sel = np.flatnonzero(model.kind_is("balance", "need"))
    good = rows["good"].to_numpy()[sel].astype(np.int64)
    level = rows["level"].to_numpy(dtype=np.float64)[sel]
    price = np.zeros(eco.n_goods)
    phys = np.isnan(level)
    np.add.at(price, good[phys], y[sel][phys])
    q = ~phys
    if not q.any():
        return price
    g, lv = good[q], level[q]
    Y = y[sel][q] * rows["per_delivered"].to_numpy(dtype=np.float64)[sel][q]  # per standard unit delivered
    np.add.at(price, g, Y * np.maximum(lv, 1.0))
    weighted = np.unique(g)  # only these goods' makers matter (10^6 goods may have a handful)
    tie = np.zeros(eco.n_goods, dtype=bool)
    tie[weighted] = level_one_binds(sp.csr_matrix(eco.make)[weighted], eco.technique_quality, x, used[weighted])
    if not tie[g].any():
        return price
    lo = np.full(eco.n_goods, -np.inf)
    np.maximum.at(lo, g[lv < 1.0], lv[lv < 1.0])
    hi = np.full(eco.n_goods, np.inf)
    np.minimum.at(hi, g[lv > 1.0], lv[lv > 1.0])
    y_lo, y_hi = np.zeros(eco.n_goods), np.zeros(eco.n_goods)
    np.add.at(y_lo, g, np.where(lv == lo[g], Y, 0.0))
    np.add.at(y_hi, g, np.where(lv == hi[g], Y, 0.0))
    b = np.flatnonzero(tie & np.isfinite(lo) & np.isfinite(hi))
    w = (hi[b] - 1.0) / (hi[b] - lo[b])
    moved = np.maximum(np.minimum(y_lo[b] / w, y_hi[b] / (1.0 - w)), 0.0)
    price[b] -= moved * (1.0 - w) * (hi[b] - 1.0)
    a = np.flatnonzero(tie & ~np.isfinite(lo) & np.isfinite(hi))
    price[a] -= np.maximum(y_hi[a], 0.0) * (hi[a] - 1.0)
    return price

