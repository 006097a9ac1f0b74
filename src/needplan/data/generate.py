"""Synthetic economies for tests and benchmarks: valid and productive by construction, from one seed.

Two families (see :data:`FAMILIES`):

* ``uniform``: every technique draws about ``inputs_per_good`` suppliers uniformly at random; one technique per
  good unless ``techniques_per_good > 1``; capacities on about 10% of goods; one kind of labour.
* ``structured``: supplier popularity is heavy-tailed (Zipf), so a few goods (``g0000001`` "energy",
  ``g0000002`` "steel", ...) are inputs to very many others; 20% of goods have an alternative technique; 5% of
  techniques have a joint product; two kinds of labour; capacities on about 8-9% of goods (10% drawn, less those
  the generator's own plan does not make: see :class:`GeneratorSpec`).

How validity is guaranteed: every technique's material inputs per unit of its output sum to a share drawn from
``material_share`` (below one, by default at most 0.75) and joint products per unit of output stay below
``1 - max(material_share)``, so every column of every technique's net technology matrix has absolute sum below
one and the Neumann series converges (about 40 to 60 iterations to 1e-12). Needs are made feasible by a witness
plan: the generator solves the Leontief system for the needs, with capacity-limited products that have an
alternative making part of their output by it and the demand raised where a lower quality leaves a need short
(needs count quality-adjusted output), sets the capacities from that plan (tight for products with an
alternative, up to ``capacity_slack`` above it for the others) and labour availability to ``labour_headroom``
times what the plan uses. So the needs are feasible, labour is scarce, and capacities bind or nearly bind.

All randomness comes from one :func:`numpy.random.default_rng` seeded with ``seed``, drawn in a fixed order: the
same arguments give bit-identical tables. Everything is vectorised over goods and techniques (10^6 goods with 10
inputs each take seconds, not minutes). This module builds tables and writes folders; it prints nothing (the CLI
shows progress through the ``progress`` callback).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan import leontief
from needplan.data.names import FAMILIES, Family
from needplan.economy.io import MANIFEST, TableFormat, atomic_folder, manifest_text, write_tables
from needplan.economy.model import Economy
from needplan.economy.validate import build_economy
from needplan.quality import delivered

FloatArray = NDArray[np.float64]

Progress = Callable[[str, float], None]
"""Called with a description of the step now starting and the fraction of the work done before it (0 to 1)."""

PARQUET_ABOVE = 10_000
"""Above this many goods the folder is written as Parquet unless a format is asked for (CSV gets too large)."""

WITNESS_ROUNDS = 30
"""Rounds of raising the witness plan's demand where quality leaves a need short (each cuts the shortfall ~5x)."""
WITNESS_SHORT = 1e-9
"""A need short by less than this share of its target counts as met (the Leontief solve's own rounding)."""

HUB_NAMES = ("energy", "steel", "transport", "chemicals", "machinery", "construction", "finance", "electronics")
"""Readable names of the most popular suppliers of the ``structured`` family (the goods listed first)."""

# Family defaults for the arguments left as None, in the order of GeneratorSpec's fields.
_FAMILY_DEFAULTS: dict[Family, dict[str, Any]] = {
    "uniform": {"techniques_per_good": 1, "labour_kinds": 1, "alternative_share": 1.0, "joint_share": 0.0,
                "need_share": 0.5, "supplier_zipf": 0.0},
    "structured": {"techniques_per_good": 2, "labour_kinds": 2, "alternative_share": 0.2, "joint_share": 0.05,
                   "need_share": 0.3, "supplier_zipf": 1.0},
}


class GeneratorError(ValueError):
    """Arguments that cannot make an economy; the message names the argument and its value."""


@dataclass(frozen=True)
class GeneratorSpec:
    """Every parameter of one generated economy (family defaults filled in); recorded in the manifest.

    ``techniques_per_good`` is the number of techniques of a product that has alternatives, ``alternative_share``
    the share of products that have them. ``material_share`` bounds the sum of material inputs per unit of output
    (the column sums of the technology matrix). ``capacity_share`` of products are drawn to get a capacity on
    their first technique, at what the generator's plan for the needs runs it; a product that plan does not make
    gets none (a capacity of 0 would make it useless), so fewer get one, the fewer the larger the economy (a
    helper's count over 6 seeds): of structured economies' goods at the default 0.1, 4.7-10.3% at 300 goods,
    7.6-9.7% at 3,000 and 8.4-8.5% at 30,000; at 1.0, 96.7-98.0%, 93.1-93.9% and 89.0% (87.5% at 10^5); half of a
    uniform economy's without inputs.
    ``supplier_zipf`` is the exponent of supplier popularity (0: uniform).
    """

    n_goods: int
    inputs_per_good: int
    techniques_per_good: int
    labour_kinds: int
    family: Family
    seed: int
    alternative_share: float
    capacity_share: float
    capacity_slack: float
    joint_share: float
    need_share: float
    supplier_zipf: float
    material_share: tuple[float, float]
    labour_headroom: float

    def manifest(self) -> dict[str, Any]:
        """Flat ``generator_*`` keys for ``economy.toml`` (provenance: enough to generate the folder again)."""
        out: dict[str, Any] = {"generator": "needplan.data.generate"}
        for key, value in asdict(self).items():
            out[f"generator_{key}"] = list(value) if isinstance(value, tuple) else value
        return out


MAX_PER_GOOD = 10_000
"""The most techniques per good, and labour kinds, a generated economy may have."""


def make_spec(
    n_goods: int,
    *,
    inputs_per_good: int = 10,
    techniques_per_good: int | None = None,
    labour_kinds: int | None = None,
    family: str = "uniform",
    seed: int = 0,
    alternative_share: float | None = None,
    capacity_share: float = 0.1,
    capacity_slack: float = 0.05,
    joint_share: float | None = None,
    need_share: float | None = None,
    supplier_zipf: float | None = None,
    material_share: tuple[float, float] = (0.4, 0.75),
    labour_headroom: float = 1.1,
) -> GeneratorSpec:
    """Check the arguments and fill in the family defaults (None); raises :class:`GeneratorError` naming the bad one."""
    if family not in FAMILIES:
        raise GeneratorError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    fam: Family = "uniform" if family == "uniform" else "structured"
    given = {"techniques_per_good": techniques_per_good, "labour_kinds": labour_kinds,
             "alternative_share": alternative_share, "joint_share": joint_share, "need_share": need_share,
             "supplier_zipf": supplier_zipf}
    filled = {k: (_FAMILY_DEFAULTS[fam][k] if v is None else v) for k, v in given.items()}
    spec = GeneratorSpec(n_goods=int(n_goods), inputs_per_good=int(inputs_per_good),
                         techniques_per_good=int(filled["techniques_per_good"]),
                         labour_kinds=int(filled["labour_kinds"]), family=fam, seed=int(seed),
                         alternative_share=float(filled["alternative_share"]), capacity_share=float(capacity_share),
                         capacity_slack=float(capacity_slack), joint_share=float(filled["joint_share"]),
                         need_share=float(filled["need_share"]), supplier_zipf=float(filled["supplier_zipf"]),
                         material_share=(float(material_share[0]), float(material_share[1])),
                         labour_headroom=float(labour_headroom))
    problems = []
    if spec.n_goods < 1:
        problems.append(f"goods must be at least 1, got {spec.n_goods}")
    if spec.n_goods > 10**8:
        problems.append(f"goods must be at most 10^8, got {spec.n_goods}")
    if spec.inputs_per_good < 0:
        problems.append(f"inputs per good must be at least 0, got {spec.inputs_per_good}")
    # (upper bounds: 10^20 of either ended in a numpy traceback; a helper's fuzzing)
    if not 1 <= spec.techniques_per_good <= MAX_PER_GOOD:
        problems.append(f"techniques per good must be from 1 to {MAX_PER_GOOD:,}, got {spec.techniques_per_good}")
    elif spec.n_goods * spec.techniques_per_good > 10**8:
        problems.append(f"goods times techniques per good must be at most 10^8 (the techniques), got "
                        f"{spec.n_goods * spec.techniques_per_good:.3g}")
    if not 1 <= spec.labour_kinds <= MAX_PER_GOOD:
        problems.append(f"labour kinds must be from 1 to {MAX_PER_GOOD:,}, got {spec.labour_kinds}")
    if spec.seed < 0:
        problems.append(f"seed must be at least 0, got {spec.seed}")
    for name in ("alternative_share", "capacity_share", "joint_share", "need_share"):
        value = getattr(spec, name)
        if not 0.0 <= value <= 1.0:
            problems.append(f"{name.replace('_', ' ')} must be between 0 and 1, got {value:g}")
    lo, hi = spec.material_share
    if not 0.0 < lo <= hi < 0.95:
        problems.append(f"material share must satisfy 0 < low <= high < 0.95, got ({lo:g}, {hi:g})")
    if not (spec.capacity_slack >= 0 and math.isfinite(spec.capacity_slack)):
        problems.append(f"capacity slack must be at least 0, got {spec.capacity_slack:g}")
    if not (spec.labour_headroom >= 1 and math.isfinite(spec.labour_headroom)):
        problems.append(f"labour headroom must be at least 1 (the needs must be feasible), "
                        f"got {spec.labour_headroom:g}")
    if not (spec.supplier_zipf >= 0 and math.isfinite(spec.supplier_zipf)):
        problems.append(f"supplier zipf exponent must be at least 0, got {spec.supplier_zipf:g}")
    if problems:
        raise GeneratorError("; ".join(problems))
    # A technique draws its suppliers among the other goods (all goods where supplier popularity is skewed): more
    # than there are is what the draw does anyway, so the spec, and the manifest, say that (fuzzing: 200 recorded
    # for an economy of 100 goods).
    most = spec.n_goods - 1 if spec.supplier_zipf == 0 else spec.n_goods
    return replace(spec, inputs_per_good=most) if spec.inputs_per_good > most else spec


def _ids(prefix: str, n: int) -> NDArray[np.object_]:
    """``g0000001``-style ids, numbered from 1, zero-padded to at least 7 digits (wider above 10^7 - 1)."""
    width = max(7, len(str(n)))
    numbers = np.arange(1, n + 1).astype(f"<U{width}")
    return np.asarray(np.char.add(prefix, np.char.zfill(numbers, width)), dtype=object)


def _draw_suppliers(rng: np.random.Generator, buyer: NDArray[np.int64], n: int, zipf: float) -> NDArray[np.int64]:
    """One supplier (good position) per entry of ``buyer``: uniform over the other goods, or Zipf-popular."""
    if zipf == 0:
        # Offsets 1..n-1 from the buyer: never a self-input, uniform over the others.
        return np.asarray((buyer + 1 + rng.integers(0, max(n - 1, 1), buyer.size)) % n, dtype=np.int64)
    # Popularity falls with the good's position, so g0000001 ("energy") is the most used input.
    cdf = np.cumsum(np.arange(1, n + 1, dtype=np.float64) ** -zipf)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(buyer.size), side="right"), n - 1).astype(np.int64)


def _net_technology(n: int, share: FloatArray, output: FloatArray, tech_good: NDArray[np.int64],
                    owner: NDArray[np.int64], supplier: NDArray[np.int64], amount: FloatArray,
                    joint_t: NDArray[np.int64], joint_good: NDArray[np.int64],
                    joint_amount: FloatArray) -> sp.csr_matrix:
    """Net technology matrix (products x products) when technique ``t`` makes ``share[t]`` of its good's output.

    Column ``g`` is the share-weighted mix of the techniques of ``g``, per unit of ``g``'s output.
    """
    per_output = share / output
    rows = np.concatenate([supplier, joint_good])
    cols = np.concatenate([tech_good[owner], tech_good[joint_t]])
    vals = np.concatenate([amount * per_output[owner], -joint_amount * per_output[joint_t]])
    keep = vals != 0
    A = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))
    A.sum_duplicates()
    return A


def _solve(A: sp.csr_matrix, d: FloatArray) -> FloatArray:
    x, report = leontief.gross_output(A, d, method="neumann" if A.shape[0] >= leontief.SMALL_SYSTEM else "auto")
    # The iteration gives up at the first step where the residual grows, which by-products (negative entries)
    # can cause late in a converged run; a residual of 1e-8 is ample for the signs and capacities set here.
    if not (report.converged or report.residual <= 1e-8):
        raise RuntimeError(f"the generated economy's Leontief system did not converge: {report}")
    return x


def _counted(n: int, activity: FloatArray, output: FloatArray, quality: FloatArray, tech_good: NDArray[np.int64],
             owner: NDArray[np.int64], supplier: NDArray[np.int64], amount: FloatArray, joint_t: NDArray[np.int64],
             joint_good: NDArray[np.int64], joint_amount: FloatArray) -> FloatArray:
    """Quality-adjusted final delivery of every product (:func:`needplan.quality.delivered`: the best units of its
    main and joint outputs to final use, the shoddiest to all uses) of the plan ``activity``: what a
    quality-weighted need counts."""
    n_t = activity.size
    make = sp.csr_matrix((np.concatenate([output, joint_amount]),
                          (np.concatenate([tech_good, joint_good]), np.concatenate([np.arange(n_t), joint_t]))),
                         shape=(n, n_t))
    used = np.asarray(np.bincount(supplier, weights=amount * activity[owner], minlength=n), dtype=np.float64)
    return delivered(make, quality, activity, used)


def _noop(step: str, done: float) -> None:
    del step, done


def generate_tables(spec: GeneratorSpec, progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """The tables of the folder format (``goods``, ``techniques``, ``inputs``, ``outputs`` if any, ``resources``,
    ``needs``) of the economy described by ``spec``.

    Amounts are per unit of activity; each technique makes ``output`` units of its good per unit of activity
    (1 for first techniques, 0.5 to 2 for alternatives). Goods are in units ``unit``, labour in ``hours``.
    Id columns of the large tables are pandas categoricals (stored dictionary-encoded in Parquet).
    """
    step = progress or _noop
    rng = np.random.default_rng(spec.seed)
    n, n_lab = spec.n_goods, spec.labour_kinds

    # --- techniques: the first technique of every good, then the alternatives good by good ---------------------
    step("techniques", 0.0)
    n_alt = spec.techniques_per_good - 1
    has_alt = (rng.random(n) < spec.alternative_share) if n_alt > 0 else np.zeros(n, dtype=bool)
    alt_goods = np.flatnonzero(has_alt)
    tech_good = np.concatenate([np.arange(n), np.repeat(alt_goods, n_alt)])
    n_t = tech_good.size
    first = np.arange(n_t) < n
    output = np.where(first, 1.0, rng.uniform(0.5, 2.0, n_t))
    quality = np.where(first, 1.0, np.round(rng.uniform(0.8, 1.25, n_t), 3))

    # --- material inputs: distinct suppliers per technique, scaled to a column sum below one ------------------
    step("inputs", 0.1)
    k = min(spec.inputs_per_good, n - 1) if spec.supplier_zipf == 0 else min(spec.inputs_per_good, n)
    owner = np.repeat(np.arange(n_t, dtype=np.int64), k)
    supplier = _draw_suppliers(rng, tech_good[owner], n, spec.supplier_zipf)
    # A supplier drawn twice for one technique is kept once. Sorting each technique's k suppliers is far cheaper
    # than a global sort or np.unique (35 s at 10^7 entries) and keeps the rows technique-major, goods ascending.
    drawn = np.sort(supplier.reshape(n_t, k), axis=1)
    fresh = np.ones(drawn.shape, dtype=bool)
    fresh[:, 1:] = drawn[:, 1:] != drawn[:, :-1]
    owner, supplier = owner[fresh.ravel()], drawn[fresh]
    raw = rng.lognormal(0.0, 1.0, supplier.size)
    lo, hi = spec.material_share
    material = rng.uniform(lo, hi, n_t) * output  # per unit of activity, so per unit of output it is in [lo, hi]
    raw_sum = np.bincount(owner, weights=raw, minlength=n_t)
    amount = raw * (material[owner] / raw_sum[owner])

    # --- joint products: small amounts of another product, keeping |net column sum| below one ----------------
    # The by-product is drawn like a supplier (popular goods are popular by-products, so their own uses absorb
    # it); any by-product that would still make a required gross output negative is dropped below.
    joint_t = np.flatnonzero(rng.random(n_t) < spec.joint_share) if n > 1 else np.empty(0, dtype=np.int64)
    joint_good = _draw_suppliers(rng, tech_good[joint_t], n, spec.supplier_zipf)
    joint_good = np.where(joint_good == tech_good[joint_t], (joint_good + 1) % n, joint_good)
    joint_amount = rng.uniform(0.02, min(0.2, 1.0 - hi - 0.03), joint_t.size) * output[joint_t]

    # --- labour: intensity per unit of output, split among the kinds ------------------------------------------
    step("labour", 0.3)
    intensity = rng.lognormal(0.0, 0.5, n_t) * output
    split = rng.gamma(1.0, 1.0, (n_t, n_lab))
    split /= split.sum(axis=1, keepdims=True)
    labour = intensity[:, None] * split  # techniques x labour kinds, hours per unit of activity

    # --- needs ------------------------------------------------------------------------------------------------
    needed = rng.random(n) < spec.need_share
    needed[rng.integers(0, n)] = True  # at least one need, so the plan has something to aim at
    need_goods = np.flatnonzero(needed)
    target = np.round(rng.lognormal(math.log(100.0), 1.0, need_goods.size), 3)
    weight = (np.round(rng.uniform(0.5, 2.0, need_goods.size), 2) if spec.family == "structured"
              else np.ones(need_goods.size))

    # --- witness plan: capacity-limited goods with an alternative make a share of their output by it --------
    step("witness plan", 0.4)
    capped = rng.random(n) < spec.capacity_share
    mixed = capped & has_alt
    first_part = np.where(mixed, rng.uniform(0.5, 0.9, n), 1.0)
    share = np.zeros(n_t)
    share[:n] = first_part
    # The alternatives of a good are consecutive; its first one takes the rest of the output.
    first_alt = n + np.searchsorted(alt_goods, np.flatnonzero(mixed)) * n_alt
    share[first_alt] = 1.0 - first_part[mixed]
    demand = np.zeros(n)
    demand[need_goods] = target
    default_share = first.astype(np.float64)
    for _ in range(20):
        # The witness plan and the productivity test (net output of one of everything, first techniques) must
        # both have nonnegative gross outputs; drop the by-products of goods where one does not, and retry.
        parts = (output, tech_good, owner, supplier, amount, joint_t, joint_good, joint_amount)
        x = _solve(_net_technology(n, share, *parts), demand)
        bad = x < 0
        if joint_t.size:
            bad |= _solve(_net_technology(n, default_share, *parts), np.ones(n)) < 0
        if not bad.any():
            break
        drop = bad[joint_good]
        if not drop.any():  # the negative output was passed on through inputs: drop every by-product
            drop[:] = True
        joint_t, joint_good, joint_amount = joint_t[~drop], joint_good[~drop], joint_amount[~drop]
    else:
        raise RuntimeError("could not place the joint products without negative gross outputs")
    activity = share * x[tech_good] / output
    # Needs count quality-adjusted output, so a need good partly made by an alternative of quality below 1 (or
    # fed by a by-product made at low quality) falls short of its target in the plan above: raise its demand by
    # the shortfall until the quality-adjusted net output meets every target, then scale out the last rounding.
    need_target = demand[need_goods]
    for _ in range(WITNESS_ROUNDS):
        short = need_target - _counted(n, activity, output, quality, tech_good, owner, supplier, amount, joint_t,
                                       joint_good, joint_amount)[need_goods]
        if not (short > WITNESS_SHORT * need_target).any():
            break
        demand[need_goods] += np.maximum(short, 0.0) * 1.25  # 1 / the lowest quality: fewer rounds, never less
        x = _solve(_net_technology(n, share, *parts), demand)
        activity = share * x[tech_good] / output
    reached = _counted(n, activity, output, quality, tech_good, owner, supplier, amount, joint_t, joint_good,
                       joint_amount)[need_goods] / need_target
    if reached.min() < 1.0 - WITNESS_SHORT:
        activity /= reached.min()

    step("capacities and labour", 0.6)
    slack = 1.0 + rng.uniform(0.0, spec.capacity_slack, n)
    capacity = np.full(n_t, np.nan)
    cap_first = capped & (x > 0)
    capacity[:n][cap_first] = activity[:n][cap_first] * np.where(has_alt[cap_first], 1.0, slack[cap_first])
    labour_used = activity @ labour
    available = spec.labour_headroom * labour_used

    # --- tables -----------------------------------------------------------------------------------------------
    step("tables", 0.7)
    good_ids = np.concatenate([_ids("g", n), np.asarray([f"labour_{s + 1}" for s in range(n_lab)], dtype=object)])
    tech_ids = _ids("t", n_t)
    good_cat = pd.CategoricalDtype(pd.Index(good_ids, dtype=object))
    tech_cat = pd.CategoricalDtype(pd.Index(tech_ids, dtype=object))

    def goods_col(codes: NDArray[np.int64]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=good_cat)

    def techs_col(codes: NDArray[np.int64]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=tech_cat)

    goods = pd.DataFrame({"good": good_ids,
                          "kind": np.where(np.arange(n + n_lab) < n, "product", "labour").astype(object),
                          "unit": np.where(np.arange(n + n_lab) < n, "unit", "hours").astype(object)})
    if spec.family == "structured":
        names = np.full(n + n_lab, "", dtype=object)
        hubs = min(len(HUB_NAMES), n)
        names[:hubs] = HUB_NAMES[:hubs]
        names[n:] = [f"labour of skill {s + 1}" for s in range(n_lab)]
        goods["name"] = names
    techniques = pd.DataFrame({"technique": tech_ids, "good": goods_col(tech_good), "output": output,
                               "capacity": capacity, "quality": quality})
    # Inputs technique-major: the materials of a technique (suppliers ascending), then its labour kinds.
    lab_owner = np.repeat(np.arange(n_t, dtype=np.int64), n_lab)
    lab_good = np.tile(np.arange(n, n + n_lab, dtype=np.int64), n_t)
    in_owner = np.concatenate([owner, lab_owner])
    order = np.argsort(in_owner, kind="stable")
    inputs = pd.DataFrame({"technique": techs_col(in_owner[order]),
                           "good": goods_col(np.concatenate([supplier, lab_good])[order]),
                           "amount": np.concatenate([amount, labour.ravel()])[order]})
    tables = {"goods": goods, "techniques": techniques, "inputs": inputs}
    if joint_t.size:
        tables["outputs"] = pd.DataFrame({"technique": techs_col(joint_t), "good": goods_col(joint_good),
                                          "amount": joint_amount})
    tables["resources"] = pd.DataFrame({"good": good_ids[n:], "available": available})
    tables["needs"] = pd.DataFrame({"good": goods_col(need_goods), "target": target, "weight": weight})
    step("done", 0.75)
    return tables


def _name(spec: GeneratorSpec) -> str:
    return f"{spec.family}-{spec.n_goods}-seed{spec.seed}"


def _description(spec: GeneratorSpec) -> str:
    return (f"Synthetic {spec.family} economy: {spec.n_goods} goods, about {spec.inputs_per_good} inputs per good, "
            f"{spec.labour_kinds} labour kind(s), generated by needplan generate with seed {spec.seed}.")


def generate_economy(
    n_goods: int,
    *,
    inputs_per_good: int = 10,
    techniques_per_good: int | None = None,
    labour_kinds: int | None = None,
    family: str = "uniform",
    seed: int = 0,
    **options: Any,
) -> Economy:
    """A validated synthetic :class:`Economy` with ``n_goods`` products plus the labour kinds.

    ``techniques_per_good`` and ``labour_kinds`` default to the family's (uniform: 1 and 1; structured: 2 and 2);
    further ``options`` are those of :func:`make_spec`. Raises :class:`GeneratorError` for bad arguments.
    """
    spec = make_spec(n_goods, inputs_per_good=inputs_per_good, techniques_per_good=techniques_per_good,
                     labour_kinds=labour_kinds, family=family, seed=seed, **options)
    tables = generate_tables(spec)
    return build_economy(tables, name=_name(spec), description=_description(spec), origin=_name(spec),
                         provenance=spec.manifest())


def write_generated(
    out: str | os.PathLike[str],
    spec: GeneratorSpec,
    *,
    fmt: TableFormat | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Generate the economy of ``spec`` and write it as a folder, atomically (a failure leaves no folder behind).

    ``fmt`` defaults to Parquet above :data:`PARQUET_ABOVE` goods, CSV otherwise. Raises ``FileExistsError``
    when ``out`` exists and ``overwrite`` is false (checked before any work). Returns the folder's path.
    """
    dest = Path(out)
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{dest} exists (pass overwrite=True, on the command line --overwrite, to replace it)")
    chosen: TableFormat = fmt or ("parquet" if spec.n_goods > PARQUET_ABOVE else "csv")
    step = progress or _noop
    tables = generate_tables(spec, step)
    step(f"writing {chosen}", 0.75)
    with atomic_folder(dest, overwrite=overwrite, economy=True) as tmp:
        extra = spec.manifest() | {"generator_format": chosen}
        (tmp / MANIFEST).write_text(manifest_text(_name(spec), _description(spec), extra), encoding="utf-8")
        write_tables(tmp, tables, chosen)
    step("written", 1.0)
    return dest
