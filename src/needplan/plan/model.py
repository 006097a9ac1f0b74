"""Build the planning LP from an :class:`~needplan.economy.model.Economy` and hold it between build and solve.

:func:`build_plan` assembles the LP with whole sparse blocks (no Python loop over goods or techniques);
:class:`PlanModel` keeps it in structured form (which row is which good's balance, need, labour or resource), so
that a user can add a constraint or change a bound and re-solve without rebuilding. Solving and reading the
solution back live in :mod:`needplan.plan.solve` and :mod:`needplan.plan.result`; this module does no solving.

Rows (all ``>=`` unless said):

* balance, one per product: physical net output ``sum_j (make_gj - use_gj) x_j >= 0`` (free disposal);
* need, for every product with a positive target: the counted net output ``>= lambda * target`` (ray),
  ``>= target`` (min-labour) or ``>= target * (1 + s_g)`` (harmony). For a quality-weighted need, when some
  technique making the product has a quality other than 1, the counted output is the quality-adjusted final
  delivery ``V_g`` (the best units to final use, the shoddiest to intermediate use: :mod:`needplan.quality`), the
  minimum of one linear row per quality level ``q_k`` of the makers, ``sum_j (max(q_j, q_k) make_gj - q_k
  use_gj) x_j``. The row of the best level ``q`` is ``q`` times the physical balance, so the balance row carries
  that level as ``>= lambda * target / q`` (and so on); the other levels' rows sit beside it. An unweighted need,
  or one whose makers all have quality 1, tightens the balance row with its target;
* primary, one per labour kind or resource with a finite availability: ``sum_j use_rj x_j <= available_r``;
* user and cut rows appended later.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan.data.names import OBJECTIVES, Objective, SolverName
from needplan.economy.model import LABOUR, Economy
from needplan.plan.errors import PlanInputError
from needplan.plan.lp import HighsSession, LinearProgram, LpScaleError
from needplan.quality import delivery_rows

if TYPE_CHECKING:
    from needplan.plan.result import PlanResult

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

HARMONY_START_POINTS = (-0.75, -0.5, -0.25, 0.0, 0.5, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0, 127.0, 255.0)
"""Where the first tangent cuts of each harmony term are placed (relative deviation from target). Beyond ``s = 1``
at ``1 + s = 2^k`` up to 256 times the target: without them the last cut (slope 1/4 at ``s = 3``) let the first
LPs promise ``ln`` terms up to 25 times their worth for needs that are cheap to overfulfil, and Kelley spent its
first ten rounds taking that back (docs/benchmarks.md, "Harmony")."""


def real(value: object, what: str) -> float:
    """``value`` as a float, or :class:`PlanInputError` naming ``what`` when it is no real number (a string,
    ``None``, a bool, an array); NaN and infinities pass, for the caller to judge."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PlanInputError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if math.isnan(value):
        raise PlanInputError(f"{what} must be a number, got nan")
    return value


def harmony(s: FloatArray) -> FloatArray:
    """Cockshott's harmony ``H(s) = s - s^2/2`` for ``s < 0``, ``ln(1 + s)`` for ``s >= 0`` (``s >= -1``)."""
    s = np.asarray(s, dtype=np.float64)
    low = np.minimum(s, 0.0)  # the quadratic branch only where it applies (no overflow for large s)
    return np.where(s < 0, low - 0.5 * low * low, np.log1p(np.maximum(s, 0.0)))


def harmony_unit(weight: FloatArray) -> float:
    """The size below which a harmony's gap counts absolutely, ``tolerance * max(unit, |harmony|)``: the mean of the
    positive weights (1 where there is none), so that weights in any unit give the same plans. A unit of 1 let
    weights of 1e-12 (harmonies near 5e-12) stop 3% short of the optimum, "optimal" (a helper's fuzzing)."""
    positive = weight[weight > 0]
    return float(np.mean(positive)) if positive.size else 1.0


def harmony_slope(s: FloatArray) -> FloatArray:
    """``H'(s)``: ``1 - s`` below zero, ``1 / (1 + s)`` above (continuous, equal to 1 at zero)."""
    s = np.asarray(s, dtype=np.float64)
    return np.where(s < 0, 1.0 - s, 1.0 / (1.0 + np.maximum(s, 0.0)))


@dataclass
class PlanModel:
    """The planning LP of one economy and objective, in structured form (see the module docstring).

    Columns: ``x`` (one per technique, activity per period) first, then ``lambda`` (ray) or ``s_g`` and ``z_g``
    per weighted need (harmony). ``need_rows`` lists every row that carries a need's target (a quality-weighted
    need has one per quality level of its makers; on the balance row the target is divided by the best level)
    and ``need_of_row`` the need each carries (a position in ``need_goods``). ``rows`` has one row per LP row
    with ``name``, ``kind`` (``balance``, ``need``, ``primary``, ``user``, ``cut``), ``good`` (position in
    ``economy.goods``, -1 if none); on a row that counts a quality-weighted need's delivery at one quality level,
    ``level`` and ``per_delivered`` (the row's units per standard unit delivered: 1 / level on the balance row, 1
    on the others), NaN on the other rows.
    """

    economy: Economy
    objective: Objective
    lp: LinearProgram
    rows: pd.DataFrame
    need_goods: IntArray
    need_rows: IntArray
    need_of_row: IntArray
    lambda_col: int | None
    s_cols: IntArray
    z_cols: IntArray
    labour_weights: FloatArray
    session: HighsSession | None = None
    fast_declined: str = ""
    """Why ``fast`` declined this model's LP, once it has (its re-solves then go to the warm HiGHS session)."""
    plan_cuts: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Rows of the tangent cuts harmony's smooth dual placed at its plans; Kelley's rounds free them (see
    :func:`needplan.plan.solve._solve_harmony`)."""

    # --- sizes ------------------------------------------------------------------------------------------
    @property
    def n_techniques(self) -> int:
        return self.economy.n_techniques

    @property
    def capacity(self) -> FloatArray:
        """Current capacity of each technique (activity per period, ``inf`` = unlimited), edits included; a read-only
        view (edits go through :meth:`set_capacity`, which checks them: fuzzing wrote NaN and -5 through the view)."""
        view = self.lp.col_upper[: self.n_techniques].view()
        view.flags.writeable = False
        return view

    @property
    def available(self) -> FloatArray:
        """Current availability per good (``inf`` where unlimited, 0 for products), edits included."""
        out = np.asarray(self.economy.available, dtype=np.float64).copy()
        sel = self.kind_is("primary")
        out[self.rows["good"].to_numpy()[sel]] = self.lp.row_upper[sel]
        return out

    def refusal(self, exc: LpScaleError) -> str:
        """HiGHS's refusal of this model's LP (or of one sharing its matrix) in the names of its rows and columns."""
        return exc.describe(self.entry_name) if exc.lp.A is self.lp.A else str(exc)

    def entry_name(self, row: int, col: int) -> str:
        """Where entry ``(row, col)`` of the LP sits, in words: the row's name and what the column counts."""
        eco = self.economy
        what = f"column {col}"
        if col < self.n_techniques:
            what = f"technique {eco.techniques[col]!r}"
        elif col == self.lambda_col:
            what = "the fulfilment lambda"
        for name, cols in (("deviation", self.s_cols), ("harmony term", self.z_cols)):
            hit = np.flatnonzero(cols == col)
            if hit.size:
                what = f"the {name} of need {eco.goods[self.need_goods[hit[0]]]!r}"
        return f"row {self.rows['name'].iloc[row]!r}, {what}"

    def kind_is(self, *kinds: str) -> NDArray[np.bool_]:
        """Per LP row, whether its kind is one of ``kinds`` (compared in pandas: no Python string per row)."""
        return np.asarray(self.rows["kind"].isin(kinds).to_numpy(dtype=bool))

    @property
    def user_rows(self) -> IntArray:
        return np.flatnonzero(self.kind_is("user"))

    # --- edits between build and solve --------------------------------------------------------------------
    def add_constraint(self, coefficients: Mapping[str, float] | pd.Series, *, lower: float = -np.inf,
                       upper: float = np.inf, name: str | None = None) -> int:
        """Add ``lower <= sum_j coefficients[j] * x_j <= upper`` over technique activities; returns the row.

        ``coefficients`` maps technique ids to coefficients (aligned by label: an unknown id raises
        :class:`PlanInputError`). The next :meth:`solve` passes only the new row to the solver.
        """
        if not isinstance(coefficients, Mapping | pd.Series):
            raise PlanInputError("constraint coefficients must be a mapping of technique ids to numbers, got "
                                 f"{type(coefficients).__name__}")
        # Each a number, as bounds are: text ("1e3") and bools were read as 1000 and 1.0 (fuzzing). A Series may
        # name a technique twice; its entries add up, as before.
        pairs = list(coefficients.items())
        series = pd.Series([real(v, f"the coefficient of {k!r}") for k, v in pairs],
                           index=pd.Index([k for k, _ in pairs], dtype=object), dtype=np.float64)
        lower, upper = real(lower, "the constraint's lower bound"), real(upper, "the constraint's upper bound")
        if name is not None and not isinstance(name, str):
            raise PlanInputError(f"a constraint's name must be a string, got {name!r}")
        pos = self.economy.techniques.get_indexer(series.index)
        if np.any(pos < 0):
            unknown = [str(k) for k, p in zip(series.index, pos, strict=True) if p < 0]
            raise PlanInputError(f"constraint names unknown technique(s): {', '.join(unknown[:5])}")
        if not (np.isfinite(series.to_numpy()).all()):
            raise PlanInputError("constraint coefficients must be finite")
        if lower == np.inf or upper == -np.inf:
            raise PlanInputError(f"constraint bounds admit no value: {'a lower' if lower == np.inf else 'an upper'} "
                                 f"bound of {lower if lower == np.inf else upper}")
        if lower > upper:
            raise PlanInputError(f"constraint bounds are empty: lower {lower} > upper {upper}")
        taken = set(self.rows["name"].iloc[self.user_rows])
        k = 1  # the first free user_k (after one named "mine_quota", user_1; len(taken) + 1 gave user_2)
        while f"user_{k}" in taken:
            k += 1
        label = name or f"user_{k}"
        if label in taken:
            raise PlanInputError(f"a constraint named {label!r} exists already")
        row = sp.csr_matrix((series.to_numpy(), (np.zeros(len(pos), dtype=np.int64), pos)),
                            shape=(1, self.lp.n_cols))
        self.lp.add_rows(row, np.array([lower], dtype=np.float64), np.array([upper], dtype=np.float64))
        user = pd.DataFrame({"name": [label], "kind": ["user"], "good": [-1], "level": [np.nan],
                             "per_delivered": [np.nan]})
        self.rows = pd.concat([self.rows, user], ignore_index=True)
        return self.lp.n_rows - 1

    def set_capacity(self, technique: str, capacity: float) -> None:
        """Change one technique's capacity (activity per period; ``inf`` = unlimited) for the next solve."""
        j = self.economy.techniques.get_indexer([technique])[0]
        if j < 0:
            raise PlanInputError(f"unknown technique {technique!r}")
        capacity = real(capacity, f"the capacity of {technique!r}")
        if not capacity >= 0:
            raise PlanInputError(f"capacity of {technique!r} must be >= 0, got {capacity}")
        self.lp.col_upper[j] = capacity

    def set_available(self, good: str, available: float) -> None:
        """Change the availability of a labour kind or resource that has a row (a finite availability)."""
        g = self.economy.goods.get_indexer([good])[0]
        hit = np.flatnonzero(self.kind_is("primary") & (self.rows["good"].to_numpy() == g))
        if g < 0 or hit.size == 0:
            raise PlanInputError(f"{good!r} is not a labour kind or resource with a finite availability")
        available = real(available, f"the availability of {good!r}")
        if not available >= 0:
            raise PlanInputError(f"availability of {good!r} must be >= 0, got {available}")
        self.lp.row_upper[hit[0]] = available

    def solve(self, solver: SolverName = "auto", tolerance: float = 1e-6,
              time_limit: float | None = None, fill: str | None = None) -> PlanResult:
        """Solve and read back (see :func:`needplan.plan.solve.solve_model`)."""
        from needplan.plan.solve import solve_model

        return solve_model(self, solver=solver, tolerance=tolerance, time_limit=time_limit, fill=fill)


def labour_overflow(eco: Economy, weights: FloatArray, where: str) -> str:
    """Why the weighted labour of ``where`` (a technique's unit, or the plan) cannot be counted: it overflows,
    naming the largest labour weight (``weights`` by good) where one above 1 was given."""
    g = int(eco.labour[np.argmax(weights[eco.labour])]) if len(eco.labour) else -1
    return f"the weighted labour of {where} overflows" + (
        f": the labour weight of {eco.goods[g]!r} ({weights[g]:g}) is too large; weights are relative, so divide "
        "them all by the same number" if g >= 0 and weights[g] > 1 else "")


def build_plan(economy: Economy, objective: Objective | str = "ray", *,
               labour_weights: Mapping[str, float] | None = None) -> PlanModel:
    """Build the planning LP for ``economy`` (see the module docstring for its rows and columns).

    ``labour_weights`` (``min-labour`` only) maps labour kinds to the weight of one unit of each in the total
    minimised (default 1 each; unnamed kinds keep 1). Raises :class:`PlanInputError` for an unknown objective,
    no positive target, all capacities zero, or a need that no technique with capacity can make.
    """
    if objective not in OBJECTIVES:
        raise PlanInputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if not isinstance(economy, Economy):
        raise PlanInputError(f"build_plan takes an Economy (read_economy(folder)), got {type(economy).__name__}")
    if labour_weights is not None and not isinstance(labour_weights, Mapping):
        raise PlanInputError("labour_weights must map labour kinds to weights, got "
                             f"{type(labour_weights).__name__}")
    if labour_weights and objective != "min-labour":
        raise PlanInputError(f"labour_weights apply to the min-labour objective only, not to {objective}")
    eco = economy
    n_t = eco.n_techniques
    products = eco.products
    target = eco.target
    if np.any(~np.isfinite(target)) or np.any(target < 0):
        bad = eco.goods[np.flatnonzero(~(target >= 0))[0]]
        raise PlanInputError(f"needs: target of {bad!r} must be a finite number >= 0")
    need_goods = np.flatnonzero(eco.need_listed & (target > 0)).astype(np.int64)
    if need_goods.size == 0:
        raise PlanInputError("needs: no product has a positive target, so there is nothing to plan for")
    if objective == "harmony" and not np.any(np.asarray(eco.weight)[need_goods] > 0):
        # (fuzzing: every weight at 0 gave every need nothing, exit 0)
        raise PlanInputError("needs: every need's weight is 0, so the harmony objective values no plan above another "
                             "(give some need a weight above 0)")
    cap = np.asarray(eco.technique_capacity, dtype=np.float64)
    if n_t == 0 or np.all(cap == 0):
        raise PlanInputError("techniques: every capacity is zero, so nothing can be produced")
    # A need is hopeless when every technique that makes it has capacity zero: say so instead of planning 0.
    makers = sp.csr_matrix(eco.make)[need_goods] @ (cap > 0).astype(np.float64)
    hopeless = need_goods[np.asarray(makers).ravel() <= 0]
    if hopeless.size:
        names = ", ".join(repr(str(eco.goods[g])) for g in hopeless[:5])
        raise PlanInputError(f"techniques: nothing can make {names}, which the needs ask for: every technique "
                             "that makes them has capacity 0")

    weights_by_labour = np.ones(eco.n_goods)
    if labour_weights:
        idx = eco.goods.get_indexer(list(labour_weights))
        for (name, w), g in zip(labour_weights.items(), idx, strict=True):
            if g < 0 or eco.good_kind[g] != LABOUR:
                known = [str(eco.goods[k]) for k in eco.labour]
                listed = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
                raise PlanInputError(f"labour weight given for {name!r}, which is not a labour kind ("
                                     + (f"the labour kinds: {listed})" if known else "the economy has none)"))
            w = real(w, f"the labour weight of {name!r}")
            if not (np.isfinite(w) and w >= 0):
                raise PlanInputError(f"labour weight of {name!r} must be a finite number >= 0, got {w}")
            weights_by_labour[g] = w
    labour = eco.labour

    # The blocks are built from the rows they need (row selection commutes with the sums) and stacked once, with
    # the extra columns, into the LP's matrix: at 10^6 goods each whole-matrix copy is 200 MiB.
    make = sp.csr_matrix(eco.make)
    use = sp.csr_matrix(eco.use)
    net_phys = make[products] - use[products]
    # A weighted need whose makers all have quality 1 counts exactly its physical net output: a row of its own
    # would repeat the balance row (and imply it), so its need tightens the balance row, as an unweighted need's.
    off_quality = (eco.technique_quality != 1.0).astype(np.float64)
    qw = eco.quality_weighted[need_goods] & (np.asarray(abs(make[need_goods]) @ off_quality).ravel() > 0)
    q_goods = need_goods[qw]
    # Such a need counts the quality-adjusted final delivery: one row per quality level of the good's makers
    # (needplan.quality), each carrying the target. The row of the best makers' level q is q times the physical
    # balance, so that level's target goes on the balance row itself, as target / q (no parallel row).
    make_q = make[q_goods]
    owner, level, net_qual = delivery_rows(make_q, use[q_goods], eco.technique_quality)
    best = np.zeros(len(q_goods))
    np.maximum.at(best, np.repeat(np.arange(len(q_goods)), np.diff(make_q.indptr)),
                  eco.technique_quality[make_q.indices])
    del make_q
    last = np.ones(owner.size, dtype=bool)  # the highest level of each need (pairs come sorted by level)
    last[:-1] = owner[1:] != owner[:-1]
    folded = last & (level == best[owner])
    fold_owner, fold_level = owner[folded], level[folded]
    owner, level, net_qual = owner[~folded], level[~folded], net_qual[np.flatnonzero(~folded)]
    primaries = eco.primaries
    finite = primaries[np.isfinite(eco.available[primaries])]
    prim_rows = use[finite]
    labour_use = use[eco.labour] if objective == "min-labour" else None
    del use, make

    n_p, n_q, n_r = len(products), net_qual.shape[0], len(finite)
    product_row = np.full(eco.n_goods, -1, dtype=np.int64)
    product_row[products] = np.arange(n_p)
    # Every row that carries a need's target, the need it carries (a weighted need may have several) and the
    # target on that row.
    unweighted, weighted = np.flatnonzero(~qw), np.flatnonzero(qw)
    carrying = np.concatenate([product_row[need_goods[unweighted]], product_row[q_goods[fold_owner]],
                               n_p + np.arange(n_q)]).astype(np.int64)
    carried = np.concatenate([unweighted, weighted[fold_owner], weighted[owner]]).astype(np.int64)
    with np.errstate(over="ignore"):
        carried_target = target[need_goods][carried] / np.concatenate([np.ones(unweighted.size), fold_level,
                                                                       np.ones(n_q)])
    beyond = np.flatnonzero(~np.isfinite(carried_target))
    if beyond.size:  # (fuzzing: every quality 5e-324, a target of 20,000 counted in units of it)
        g = need_goods[carried[beyond[0]]]
        raise PlanInputError(f"the target for {eco.goods[g]!r} ({target[g]:g}) in units of its best makers' quality "
                             f"({fold_level[beyond[0] - unweighted.size]:g}) is beyond double precision: give "
                             "qualities nearer 1")
    k = len(need_goods)

    # Extra columns and their coefficients in the need rows (one entry per need row, after its x entries).
    if objective == "ray":
        n_extra = 1
        extra_cols = np.zeros(carried.size, dtype=np.int64)
        rhs_need = np.zeros(carried.size)
    elif objective == "harmony":
        n_extra = 2 * k
        extra_cols = carried
        rhs_need = carried_target
    else:
        n_extra = 0
        extra_cols = np.zeros(0, dtype=np.int64)
        rhs_need = carried_target
    extra_rows = carrying if n_extra else extra_cols
    A = _stack_with_extra([net_phys, net_qual, prim_rows], n_t + n_extra, extra_rows, n_t + extra_cols,
                          -carried_target if n_extra else np.zeros(0))
    del net_phys, net_qual, prim_rows
    row_lower = np.concatenate([np.zeros(n_p + n_q), np.full(n_r, -np.inf)])
    row_upper = np.concatenate([np.full(n_p + n_q, np.inf), eco.available[finite]])
    row_lower[carrying] = rhs_need

    cost = np.zeros(n_t + n_extra)
    col_lower = np.zeros(n_t + n_extra)
    col_upper = np.concatenate([cap, np.full(n_extra, np.inf)])
    lambda_col = None
    s_cols = z_cols = np.zeros(0, dtype=np.int64)
    maximize = objective != "min-labour"
    if objective == "ray":
        lambda_col = n_t
        cost[n_t] = -1.0
    elif objective == "harmony":
        s_cols = np.arange(n_t, n_t + k, dtype=np.int64)
        z_cols = np.arange(n_t + k, n_t + 2 * k, dtype=np.int64)
        cost[z_cols] = -eco.weight[need_goods]
        # s >= -1 keeps the delivered (quality-adjusted) output nonnegative, where H is defined.
        col_lower[s_cols] = -1.0
        col_lower[z_cols] = -np.inf
    else:
        assert labour_use is not None
        with np.errstate(over="ignore"):
            cost[:n_t] = np.asarray(labour_use.T @ weights_by_labour[labour]).ravel()
        if not np.isfinite(cost[:n_t]).all():  # (fuzzing: labour_2=1e308 left HiGHS 'stopped', no weight named)
            raise PlanInputError(labour_overflow(eco, weights_by_labour,
                                                 f"one unit of {eco.techniques[np.argmin(np.isfinite(cost))]!r}"))

    goods_of_rows = np.concatenate([products, q_goods[owner], finite])
    kinds = np.array(["balance"] * n_p + ["need"] * n_q + ["primary"] * n_r, dtype=object)
    kinds[carrying[carrying < n_p]] = "need"
    ids = np.asarray(eco.goods, dtype=object)[goods_of_rows]  # one gather, not an Index lookup per row
    row_names = np.array([f"{k_}:{i}" for k_, i in zip(kinds, ids, strict=True)], dtype=object)
    # a need's rows beside its balance are named with their quality level (need:steel@0.8)
    row_names[n_p:n_p + n_q] = [f"{name}@{q:g}" for name, q in zip(row_names[n_p:n_p + n_q], level, strict=True)]
    # Rows that count a quality-weighted need's delivery at one quality level: the level, and the row's units per
    # standard unit delivered (the folded balance row counts the delivery / its level); NaN on physical rows.
    row_level = np.full(n_p + n_q + n_r, np.nan)
    folded_rows = product_row[q_goods[fold_owner]]
    row_level[folded_rows] = fold_level
    row_level[n_p:n_p + n_q] = level
    per_delivered = np.where(np.isnan(row_level), np.nan, 1.0)
    per_delivered[folded_rows] = 1.0 / fold_level
    rows = pd.DataFrame({"name": row_names, "kind": kinds, "good": goods_of_rows, "level": row_level,
                         "per_delivered": per_delivered})
    lp = LinearProgram(A, row_lower, row_upper, cost, col_lower, col_upper, maximize=maximize, activities=n_t,
                       large_units=objective == "harmony")
    model = PlanModel(eco, objective, lp, rows, need_goods, carrying, carried, lambda_col,
                      s_cols, z_cols, weights_by_labour)
    if objective == "harmony":
        add_harmony_cuts(model, np.tile(np.asarray(HARMONY_START_POINTS), (k, 1)))
    return model


def _stack_with_extra(blocks: list[sp.csr_matrix], n_cols: int, extra_rows: IntArray, extra_cols: IntArray,
                      extra_values: FloatArray) -> sp.csr_matrix:
    """``hstack([vstack(blocks), E])`` in one allocation, ``E`` holding at most one entry per row.

    ``blocks`` have sorted indices and fewer columns than ``E``'s entries' (``extra_cols``, rows ``extra_rows``),
    which go last in their rows, so the result's indices are sorted too. Equal to the scipy expression, without its
    intermediate copies of the whole matrix.
    """
    counts = np.concatenate([np.diff(b.indptr) for b in blocks]).astype(np.int64)
    counts[extra_rows] += 1
    n_rows = counts.size
    nnz = int(counts.sum())
    idx = np.int32 if max(nnz, n_cols, n_rows) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n_rows + 1, dtype=idx)
    np.cumsum(counts, out=indptr[1:])
    del counts
    indices = np.empty(nnz, dtype=idx)
    data = np.empty(nnz, dtype=np.float64)
    before = np.zeros(n_rows + 1, dtype=np.int64)  # extra entries in the rows above each row
    before[extra_rows + 1] = 1
    np.cumsum(before, out=before)
    row0 = entry0 = 0
    chunk = 1 << 22
    for b in blocks:
        b_rows = b.shape[0]
        for start in range(0, b.nnz, chunk):
            stop = min(start + chunk, b.nnz)
            pos = np.arange(start, stop, dtype=np.int64)
            rows = np.searchsorted(b.indptr, pos, side="right") - 1
            pos += entry0 + before[row0 + rows]
            indices[pos] = b.indices[start:stop]
            data[pos] = b.data[start:stop]
        row0 += b_rows
        entry0 += b.nnz
    last = indptr[extra_rows + 1].astype(np.int64) - 1
    indices[last] = extra_cols
    data[last] = extra_values
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


def add_harmony_cuts(model: PlanModel, points: FloatArray) -> int:
    """Add tangent cuts ``z_g <= H(p) + H'(p) (s_g - p)`` at points ``p`` (needs x cuts each, NaN = none).

    Every cut is valid everywhere because ``H`` is concave, so the LP over the cuts bounds the harmony from
    above. Returns the number of cuts added.
    """
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    g_idx, c_idx = np.nonzero(np.isfinite(pts))
    if g_idx.size == 0:
        return 0
    p = pts[g_idx, c_idx]
    slope = harmony_slope(p)
    n = g_idx.size
    r = np.repeat(np.arange(n), 2)
    cols = np.column_stack([model.z_cols[g_idx], model.s_cols[g_idx]]).ravel()
    vals = np.column_stack([np.ones(n), -slope]).ravel()
    block = sp.csr_matrix((vals, (r, cols)), shape=(n, model.lp.n_cols))
    model.lp.add_rows(block, np.full(n, -np.inf), harmony(p) - slope * p)
    ids = np.asarray(model.economy.goods, dtype=object)[model.need_goods]  # once: an Index lookup per cut took
    names = ["cut:" + str(i) for i in ids[g_idx]]  # 0.78 s for 7x10^5 cuts at 10^5 goods (a profile)
    cuts = pd.DataFrame({"name": names, "kind": ["cut"] * n, "good": model.need_goods[g_idx],
                         "level": np.nan, "per_delivered": np.nan})
    model.rows = pd.concat([model.rows, cuts], ignore_index=True)
    return n
