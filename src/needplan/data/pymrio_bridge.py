"""A bridge between needplan economies and pymrio's multi-regional input-output systems (``needplan[pymrio]``).

:func:`from_pymrio` takes one region's domestic technology out of a :class:`pymrio.IOSystem`: its sectors become
products with one technique each (inputs from ``A``, domestic block only), satellite-account rows become labour
or resource goods, and what the region delivers outside its own production (final demand, and by default
exports) becomes needs. :func:`to_pymrio` goes back: a single-region system whose ``Z``, ``Y`` and ``x`` are
consistent (``x = Z 1 + Y 1``) for the economy's needs. pymrio is imported only inside these functions, so
needplan works without it. This module does no planning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from needplan.analysis import analyze
from needplan.economy.model import LABOUR, RESOURCE, Economy
from needplan.economy.validate import build_economy
from needplan.errors import NeedplanError

if TYPE_CHECKING:
    import pymrio

__all__ = ["PymrioBridgeError", "from_pymrio", "to_pymrio"]

IDENTITY_TOLERANCE = 1e-9
"""Largest relative error allowed between the economy's gross output for the region's net deliveries and x."""


class PymrioBridgeError(NeedplanError):
    """An IO system (or an economy) that cannot be carried across the bridge; the message says which part."""


def _import_pymrio() -> Any:
    try:
        import pymrio
    except ImportError as exc:  # an optional extra: say how to get it
        raise PymrioBridgeError("pymrio is not installed; install needplan[pymrio]") from exc
    return pymrio


def _label(key: Any) -> str:
    """A good id from a pandas label (tuples of a MultiIndex are joined with '_')."""
    return "_".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def _extension(io_system: Any, name: str) -> Any:
    """The extension called ``name`` (attribute name such as ``emissions``, or its ``name`` such as ``Emissions``)."""
    for attr, ext in zip(io_system.get_extensions(), io_system.get_extensions(data=True), strict=True):
        if name in (attr, ext.name):
            return ext
    have = ", ".join(io_system.get_extensions()) or "none"
    raise PymrioBridgeError(f"the IO system has no extension {name!r} (it has: {have})")


def _primary_rows(ext: Any, region: str, sectors: pd.Index, kind: str, taken: set[str]) -> list[dict[str, Any]]:
    """One labour or resource good per row of an extension: amounts per sector of ``region`` (``F``, not ``F_Y``)."""
    given = ext.F.loc[:, region]
    missing = np.argwhere(given.isna().to_numpy())
    if missing.size:  # (fuzzing: a NaN was read as 0, an amount used invented as none)
        i, j = missing[0]
        raise PymrioBridgeError(f"extension {ext.name!r} row {_label(given.index[i])!r}: sector "
                                f"{_label(given.columns[j])!r} of {region!r} has no figure (NaN); give 0 where "
                                "nothing is used")
    F = given.reindex(columns=sectors).fillna(0.0)  # (sectors the extension does not list use none)
    rows = []
    for key, amounts in F.iterrows():
        good = _label(key)
        if good in taken:
            raise PymrioBridgeError(f"extension {ext.name!r} row {good!r} has the id of another good; rename it")
        taken.add(good)
        unit = "unit"
        if ext.unit is not None and key in ext.unit.index:
            unit = str(ext.unit.loc[key].iloc[0])
        negative = amounts.index[(amounts < 0).to_numpy()]
        if len(negative):  # (fuzzing: the coefficient was dropped and the availability kept it: 94% fulfilment)
            raise PymrioBridgeError(f"extension {ext.name!r} row {good!r}: sector {negative[0]!r} of {region!r} "
                                    f"has a negative amount {float(amounts[negative[0]]):g}; labour and resources "
                                    "are amounts used, never negative (give net removals a good of their own)")
        rows.append({"good": good, "kind": kind, "unit": unit, "name": f"{ext.name}: {good}",
                     "amounts": amounts.to_numpy(dtype=np.float64)})
    return rows


def from_pymrio(
    io_system: pymrio.IOSystem,
    region: str,
    *,
    labour: str | None = None,
    resources: str | Sequence[str] = (),
    categories: Sequence[str] | None = None,
    exports: bool = True,
    name: str | None = None,
) -> Economy:
    """One region of a pymrio system as an :class:`Economy` (monetary units of the system, per its period).

    Products: the region's sectors with positive gross output, each made by one technique ``make_<sector>``
    whose inputs per unit of output are the domestic block of ``A`` (inputs bought from other regions are set
    aside, as imports are in :mod:`needplan.data.sut`). ``labour`` names an extension (e.g. an employment
    account) whose rows become labour goods; ``resources`` one or more extensions (e.g. ``emissions``) whose
    rows become resource goods; in both, inputs per unit of output are ``F / x`` of the region's sectors and
    the availability is the region's total ``F`` (final-demand emissions ``F_Y`` are not production and are
    left out). Needs: the region's products delivered to the final demand categories ``categories`` (default
    all) of the region itself, plus, when ``exports``, to every final demand category of other regions and
    to other regions' intermediate use. With the defaults the needs are the region's whole net output, and the
    economy's gross output for them reproduces pymrio's ``x`` for the region; this is checked to
    :data:`IDENTITY_TOLERANCE` relative and a :class:`PymrioBridgeError` is raised otherwise.

    ``io_system`` needs ``Z`` and ``Y`` (``A`` and ``x`` are computed when missing, on a copy). Raises
    :class:`PymrioBridgeError` for an unknown region, extension or category, for a sector without output that
    uses inputs, and for id clashes.
    """
    _import_pymrio()
    io = io_system
    if io.Z is None or io.Y is None:
        raise PymrioBridgeError("the IO system needs Z and Y")
    for what, frame in (("Z", io.Z), ("Y", io.Y)):  # (fuzzing: a NaN in Z failed only the identity check, an inf
        bad = np.argwhere(~np.isfinite(frame.to_numpy(dtype=np.float64)))  # in Y as "needs row 0")
        if bad.size:
            i, j = bad[0]
            raise PymrioBridgeError(f"{what} at row {frame.index[i]!r}, column {frame.columns[j]!r}"
                                    f" is not a finite number: {float(frame.iat[i, j])!r}")
    if io.A is None or io.x is None:
        io = io.copy()
        io.calc_system()
    regions = [str(r) for r in io.get_regions()]
    if region not in regions:
        raise PymrioBridgeError(f"the IO system has no region {region!r} (it has: {', '.join(regions)})")
    all_categories = [str(c) for c in io.get_Y_categories()]
    chosen = list(all_categories if categories is None else categories)
    unknown = [c for c in chosen if c not in all_categories]
    if unknown or not chosen:
        raise PymrioBridgeError(f"unknown final demand categories {unknown or 'none given'}; "
                                f"the IO system has: {', '.join(all_categories)}")

    x = io.x.loc[region].iloc[:, 0]
    A_dom = io.A.loc[region, region]
    # Net deliveries outside the region's own production: the Leontief identity x = A_dom x + d_net.
    Z_rows = io.Z.loc[region]
    Y_rows = io.Y.loc[region]
    own_final = Y_rows[region][chosen].sum(axis=1)
    exported = (Y_rows.drop(columns=region, level=0).sum(axis=1)
                + Z_rows.drop(columns=region, level=0).sum(axis=1))
    d_net = Y_rows[region].sum(axis=1) + exported
    needs_amount = own_final + exported if exports else own_final

    live = x.index[(x > 0).to_numpy()]
    dead = x.index[(x <= 0).to_numpy()]
    for sector in dead:
        # (its A column alone is no use of inputs: to_pymrio gives A as the technology, and a product no final
        # demand reaches keeps its own; it is dropped, as pymrio's A of Z / x would have it)
        if float(io.Z.loc[:, (region, sector)].abs().sum()) > 0:
            raise PymrioBridgeError(f"sector {sector!r} of {region!r} has no output but uses inputs")
    products = [_label(s) for s in live]
    taken = set(products)
    if len(taken) != len(products):
        raise PymrioBridgeError(f"the sectors of {region!r} do not give unique product ids")
    primaries = []
    if labour is not None:
        primaries += _primary_rows(_extension(io, labour), region, live, "labour", taken)
    for res in [resources] if isinstance(resources, str) else resources:
        primaries += _primary_rows(_extension(io, res), region, live, "resource", taken)

    unit_of = {}
    if io.unit is not None:
        unit_of = {_label(s): str(u) for s, u in io.unit.loc[region].iloc[:, 0].items()}
    techniques = [f"make_{p}" for p in products]
    A = A_dom.loc[live, live].to_numpy(dtype=np.float64)
    if (A < 0).any():  # (fuzzing: dropped unseen, then only "identity check failed" was said)
        i, j = (int(k[0]) for k in np.nonzero(A < 0))
        raise PymrioBridgeError(f"A of {region!r}: the input of {products[i]!r} to {products[j]!r} is negative "
                                f"({A[i, j]:g}); inputs are amounts used (a negative one would be a joint product)")
    xv = x.loc[live].to_numpy(dtype=np.float64)
    t_idx, p_idx = np.nonzero(A.T > 0)
    input_frames = [pd.DataFrame({"technique": np.asarray(techniques, dtype=object)[t_idx],
                                  "good": np.asarray(products, dtype=object)[p_idx], "amount": A.T[t_idx, p_idx]})]
    for prim in primaries:
        coeff = prim["amounts"] / xv
        nz = np.flatnonzero(coeff > 0)
        input_frames.append(pd.DataFrame({"technique": np.asarray(techniques, dtype=object)[nz],
                                          "good": prim["good"], "amount": coeff[nz]}))
    target = needs_amount.loc[live].to_numpy(dtype=np.float64)
    tables = {
        "goods": pd.DataFrame({"good": products + [p["good"] for p in primaries],
                               "kind": ["product"] * len(products) + [p["kind"] for p in primaries],
                               "unit": [unit_of.get(p, "monetary unit") for p in products]
                               + [p["unit"] for p in primaries],
                               "name": products + [p["name"] for p in primaries]}),
        "techniques": pd.DataFrame({"technique": techniques, "good": products}),
        "inputs": pd.concat(input_frames, ignore_index=True),
        "resources": pd.DataFrame({"good": [p["good"] for p in primaries],
                                   "available": [float(p["amounts"].sum()) for p in primaries]}),
        # Negative deliveries (inventories drawn down) cannot be a need: 0, as in the SUT importer.
        "needs": pd.DataFrame({"good": products, "target": np.maximum(target, 0.0)}).query("target > 0"),
    }
    provenance = {
        "source": f"pymrio IOSystem {getattr(io, 'name', '') or ''}".strip(), "source_format": "pymrio",
        "region": region, "needs_categories": chosen, "needs_include_exports": exports,
        "construction": "A = the region's domestic block of pymrio's A; primary inputs = F / x of its sectors",
        "imports": "inputs from other regions are set aside",
        "labour_extension": labour or "", "resource_extensions": [resources] if isinstance(resources, str)
        else list(resources),
        "dropped_sectors": [_label(s) for s in dead],
        # (fuzzing: a product whose deliveries were negative left the needs unseen)
        "needs_clipped": [p for p, t in zip(products, target, strict=True) if t < 0],
        "needs_definition": "deliveries to the chosen final demand categories (and exports); negative sums "
                            "(inventories drawn down) set to 0, listed in needs_clipped",
    }
    economy = build_economy(tables, name=name or f"{region}", origin=f"pymrio region {region}",
                            description=f"Region {region} of a pymrio IO system (domestic technology)",
                            provenance=provenance)
    got = analyze(economy, pd.Series(d_net.loc[live].to_numpy(dtype=np.float64), index=products),
                  method="direct", allow_negative=True).gross_output.to_numpy()
    err = float(np.max(np.abs(got - xv) / xv, initial=0.0))
    if not err <= IDENTITY_TOLERANCE:
        raise PymrioBridgeError(f"identity check failed for {region!r}: gross output for the region's net "
                                f"deliveries differs from pymrio's x by {err:.2e} relative")
    return economy


def to_pymrio(economy: Economy, *, region: str | None = None,
              final_demand: Mapping[str, float] | pd.Series | None = None) -> pymrio.IOSystem:
    """The economy as a single-region :class:`pymrio.IOSystem` with ``Z``, ``Y``, ``x`` and ``A`` computed.

    Uses each product's first technique (the default choice). ``Y`` has one category ``needs``: the economy's
    need targets, or ``final_demand`` (product id -> amount, in the products' units per period). ``x`` is the
    gross output for it (Leontief, sparse direct solve), ``Z = A diag(x)`` so that ``x = Z 1 + Y 1``; sectors
    are the product ids, region ``region`` (default the economy's name). Labour goods become the extension
    ``labour`` and resources the extension ``resources`` (``F = R diag(x)``, units as in the economy). Raises
    :class:`PymrioBridgeError` for an economy with joint products (pymrio's A has no negative entries to carry
    them).
    """
    pymrio = _import_pymrio()
    tech = economy.technology()
    if tech.joint:
        raise PymrioBridgeError(f"{economy.name}: joint products cannot be carried to pymrio")
    reg = region or economy.name
    products = economy.goods[tech.products]
    d = None if final_demand is None else pd.Series(final_demand, dtype=np.float64)
    if d is not None and not np.isfinite(d.to_numpy()).all():  # (fuzzing: a bare ValueError from the solve)
        bad = d.index[~np.isfinite(d.to_numpy())][0]
        raise PymrioBridgeError(f"final demand for {bad!r} must be a finite number, got {float(d[bad])!r}")
    result = analyze(economy, d, method="direct", allow_negative=True)
    x = result.gross_output.to_numpy()
    idx = pd.MultiIndex.from_product([[reg], list(products)], names=["region", "sector"])
    A = tech.A.toarray()
    Z = pd.DataFrame(A * x[None, :], index=idx, columns=idx)
    Y = pd.DataFrame({(reg, "needs"): result.final_demand.to_numpy()}, index=idx)
    Y.columns = pd.MultiIndex.from_tuples(Y.columns, names=["region", "category"])
    units = pd.DataFrame({"unit": economy.good_unit[tech.products]}, index=idx)
    extensions: dict[str, Any] = {}
    R = tech.R.toarray()
    for kind, attr in ((LABOUR, "labour"), (RESOURCE, "resources")):
        rows = np.flatnonzero(economy.good_kind[tech.primaries] == kind)
        if not rows.size:
            continue
        ids = pd.Index(economy.goods[tech.primaries[rows]], name="stressor")
        # IOSystem builds each Extension itself from a mapping of its arguments.
        # S and A are given, not left to pymrio to derive as F / x and Z / x: a product of no gross output for
        # this final demand lost its technology and its direct inputs that way (a helper's fuzzing).
        extensions[attr] = {"name": attr, "F": pd.DataFrame(R[rows] * x[None, :], index=ids, columns=idx),
                            "S": pd.DataFrame(R[rows], index=ids, columns=idx),
                            "unit": pd.DataFrame({"unit": economy.good_unit[tech.primaries[rows]]}, index=ids)}
    io = pymrio.IOSystem(Z=Z, Y=Y, A=pd.DataFrame(A, index=idx, columns=idx), unit=units, name=economy.name,
                         **extensions)
    io.calc_system()
    return io
