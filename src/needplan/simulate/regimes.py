"""Regimes: named policy bundles (what the state does), described by a table of fields, and their TOML form.

A regime says nothing about the economy's state and holds no behaviour: the mechanisms read its fields. The field
table below is the schema: validation of user files and the documentation are generated from it, so adding a
policy lever is one row here plus the mechanism that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from needplan.errors import NeedplanError


class SimulateError(NeedplanError, ValueError):
    """A regime, schedule or scenario that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Field:
    """One policy lever: its name, unit, allowed range and meaning."""

    name: str
    unit: str
    low: float
    high: float
    description: str


TARGET_KINDS = ("quantity", "balanced", "quality")
"""How plan targets are set and judged: tonnage pushed beyond capacity, balanced to capacity, or quality-weighted."""

FIELDS: tuple[Field, ...] = (
    Field("legal_market", "0/1", 0, 1, "private trade in grain and consumer goods is legal"),
    Field("money_tax_rate", "share", 0, 0.5, "tax in money on the value of the harvest (forces sales)"),
    Field("tax_in_kind_rate", "share", 0, 0.5, "tax in kind, a share of the harvest"),
    Field("rich_tax_rate", "share", 0, 0.5, "extra progressive tax in kind on rich households' harvest"),
    Field("requisition_rate", "share", 0, 1, "share of the surplus above the consumption norm requisitioned"),
    Field("procurement_quota_share", "share", 0, 0.6,
          "compulsory deliveries as a share of the planned (not the actual) harvest"),
    Field("procurement_floor", "share", 0, 1,
          "food left to households by forced collection, as a share of their consumption norm"),
    Field("procurement_price_ratio", "ratio", 0, 2, "state delivery price over the market price"),
    Field("state_purchase_share", "share", 0, 1,
          "share of the grain households sell that state procurement agencies buy at market prices (NEP's "
          "purchases; counted in procurement, not in private trade)"),
    Field("collectivization_target", "share", 0, 1, "share of households in collective farms aimed at"),
    Field("collectivization_speed", "share/yr", 0, 1, "most of all households collectivized in one year"),
    Field("collectivization_forced", "0/1", 0, 1, "households are forced into collective farms (else they join "
                                                  "voluntarily when machinery is offered)"),
    Field("dekulakization_rate", "share/yr", 0, 1, "share of rich households expropriated each year"),
    Field("investment_share", "share", 0, 0.6, "share of industrial net output invested (balanced and "
          "quality-weighted plans: it tilts the plan's mix; tonnage plans invest the investment goods they make)"),
    Field("heavy_priority", "share", 0, 1, "share of investment going to the heavy branches (tonnage plans; "
          "balanced plans invest where the next plan's mix needs capacity)"),
    Field("plan_tautness", "ratio", 1, 2, "quantity targets over what capacity can deliver (1 = balanced)"),
    Field("target_kind", "index", 0, 2, "0 quantity-only, 1 balanced quantity, 2 quality-weighted (in a file also "
          "by name: quantity, balanced, quality)"),
    Field("tractor_share", "share", 0, 1, "share of new machinery delivered as tractors"),
    Field("export_share", "share", 0, 1, "share of the grain reaching the state or the market that is exported"),
    Field("export_quota_mt", "Mt/yr", 0, 20, "grain export quota taken from state stocks before urban rations"),
    Field("famine_relief", "share", 0, 1,
          "share of the state's grain beyond its reserve sent first to households eating below the norm"),
    Field("rationing", "0/1", 0, 1, "urban food and goods are rationed at fixed prices: want counts in full as "
          "queues in the shortage index (with a legal market and no rationing, 0.4 of it: dear goods); the real "
          "wage, from quantities, is the same either way"),
    Field("plan_indicators", "count", 0, 1000, "number of plan indicators and commands the centre issues"),
    Field("market_coordination", "share", 0, 1, "how much of coordination markets do instead of commands"),
    Field("democratic_feedback", "share", 0, 1, "how strongly workers and peasants correct the plan's priorities"),
    Field("training_rate", "share/yr", 0, 0.5, "share of unskilled industrial workers entering training each year"),
    Field("consumer_share_rural", "share", 0, 1, "share of consumer goods sent to the countryside"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}


def lever_problem(spec: Field, value: object) -> str | None:
    """What is wrong with ``value`` for lever ``spec`` (a number, within its range, whole for a switch, an index or a
    count), or ``None``; files and the Python API say it alike (True and False count as 1 and 0)."""
    if not isinstance(value, int | float | np.integer | np.floating):
        return f"must be a number ({spec.unit}), got {value!r}"
    if not (spec.low <= value <= spec.high):
        return f"{value} is outside [{spec.low}, {spec.high}] ({spec.unit})"
    if spec.unit in ("0/1", "index", "count") and value != int(value):
        # a switch is on or off: 0.5 counted as on for one mechanism and as half for another (fuzzing)
        return f"must be a whole number ({spec.unit}), got {value}"
    return None


@dataclass(frozen=True)
class Regime:
    """A policy bundle. All fields are plain numbers in the units of :data:`FIELDS` (flags are 0 or 1)."""

    name: str
    description: str
    legal_market: float = 1.0
    money_tax_rate: float = 0.08
    tax_in_kind_rate: float = 0.0
    rich_tax_rate: float = 0.0
    requisition_rate: float = 0.0
    procurement_quota_share: float = 0.0
    procurement_floor: float = 1.0
    procurement_price_ratio: float = 1.0
    state_purchase_share: float = 0.0
    collectivization_target: float = 0.0
    collectivization_speed: float = 0.0
    collectivization_forced: float = 0.0
    dekulakization_rate: float = 0.0
    investment_share: float = 0.12
    heavy_priority: float = 0.4
    plan_tautness: float = 1.0
    target_kind: float = 1.0
    tractor_share: float = 0.0
    export_share: float = 0.0
    export_quota_mt: float = 0.0
    famine_relief: float = 1.0
    rationing: float = 0.0
    plan_indicators: float = 0.0
    market_coordination: float = 1.0
    democratic_feedback: float = 0.0
    training_rate: float = 0.05
    consumer_share_rural: float = 0.45

    def __post_init__(self) -> None:
        # The Python API checks what the files do (regime_from_mapping): a number in range, whole where the lever
        # is a switch, an index or a count (fuzzing the API: legal_market 0.5 and target_kind 1.5 were taken, and
        # money_tax_rate "0.1" raised a TypeError).
        for f in FIELDS:
            if (problem := lever_problem(f, getattr(self, f.name))) is not None:
                raise SimulateError(f"regime {self.name}: {f.name} {problem}")

    @property
    def target(self) -> str:
        """The plan target rule: ``quantity``, ``balanced`` or ``quality``."""
        return TARGET_KINDS[round(self.target_kind)]


def _r(name: str, description: str, **levers: float) -> Regime:
    return Regime(name=name, description=description, **levers)


BUILTIN_REGIMES: dict[str, Regime] = {
    r.name: r
    for r in (
        _r("tsarist_baseline", "markets, money taxes that force sales, grain exports, little industrial investment",
           money_tax_rate=0.22, export_share=0.6, investment_share=0.10, heavy_priority=0.35,
           plan_indicators=0, training_rate=0.04),
        _r("war_communism", "requisition of the surplus, rationing, no legal market, industry under commands",
           legal_market=0, money_tax_rate=0, requisition_rate=0.7, procurement_floor=0.7, famine_relief=0,
           procurement_price_ratio=0.1, rationing=1, investment_share=0.02, heavy_priority=0.5, target_kind=0,
           plan_indicators=150, market_coordination=0.0, training_rate=0.01, consumer_share_rural=0.2),
        _r("nep", "legal markets, a tax in kind then in money, state industry in trusts selling for money",
           money_tax_rate=0.07, tax_in_kind_rate=0.03, procurement_quota_share=0.0, state_purchase_share=0.7,
           export_share=0.04, investment_share=0.12, heavy_priority=0.45, plan_indicators=40,
           market_coordination=0.8, training_rate=0.06, consumer_share_rural=0.38),
        _r("forced_collectivization",
           "forced collectivization, expropriation of rich peasants, procurement and export quotas set on the "
           "planned harvest, first five-year plan targets in tonnage",
           legal_market=0, money_tax_rate=0.02, procurement_quota_share=0.30, procurement_floor=0.65, famine_relief=0,
           procurement_price_ratio=0.25, collectivization_target=0.9, collectivization_speed=0.25,
           collectivization_forced=1, dekulakization_rate=0.5, investment_share=0.40, heavy_priority=0.85,
           plan_tautness=1.35, target_kind=0, tractor_share=0.25, export_quota_mt=4.5, rationing=1,
           plan_indicators=500, market_coordination=0.05, training_rate=0.10, consumer_share_rural=0.25),
        _r("second_five_year_plan",
           "collective farms kept with household plots, kolkhoz markets legal, lower procurement, still tonnage "
           "targets with more attention to mastering technique",
           legal_market=1, money_tax_rate=0.02, procurement_quota_share=0.22, procurement_floor=0.9,
           procurement_price_ratio=0.3, collectivization_target=0.93, collectivization_speed=0.1,
           collectivization_forced=1, dekulakization_rate=0.0, investment_share=0.33, heavy_priority=0.75,
           plan_tautness=1.15, target_kind=0, tractor_share=0.25, export_quota_mt=1.0, rationing=0,
           plan_indicators=600, market_coordination=0.2, training_rate=0.14, consumer_share_rural=0.3),
        _r("left_opposition",
           "gradual industrialization financed by progressive taxes on rich peasants, voluntary cooperatives "
           "offered machinery, balanced targets",
           legal_market=1, money_tax_rate=0.06, rich_tax_rate=0.20, procurement_quota_share=0.0,
           procurement_price_ratio=0.9, state_purchase_share=0.7, collectivization_target=0.5,
           collectivization_speed=0.05,
           collectivization_forced=0, investment_share=0.24, heavy_priority=0.6, plan_tautness=1.0, target_kind=1,
           tractor_share=0.3, export_share=0.08, plan_indicators=150, market_coordination=0.6,
           democratic_feedback=0.5, training_rate=0.12, consumer_share_rural=0.45),
        _r("plan_market_democracy",
           "the plan engine's balanced optimum with quality-weighted targets, market prices for consumer goods as "
           "a check on the plan, democratic feedback on priorities, voluntary cooperatives",
           legal_market=1, money_tax_rate=0.06, rich_tax_rate=0.15, procurement_quota_share=0.0,
           procurement_price_ratio=1.0, state_purchase_share=0.7, collectivization_target=0.5,
           collectivization_speed=0.05,
           collectivization_forced=0, investment_share=0.26, heavy_priority=0.55, plan_tautness=1.0, target_kind=2,
           tractor_share=0.3, export_share=0.08, plan_indicators=80, market_coordination=0.7,
           democratic_feedback=0.9, training_rate=0.14, consumer_share_rural=0.45),
    )
}


def is_whole(value: object) -> bool:
    """Whether ``value`` is a whole number (a Python or numpy integer, not a bool)."""
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def regime_from_mapping(name: str, table: Any, where: str, known: dict[str, Regime]) -> Regime:
    """Build a regime from a TOML table: optional ``base`` (a known regime), ``description`` and levers.

    ``where`` names the file and key (e.g. ``"my.toml: regimes.mild"``) for error messages. Raises
    :class:`SimulateError` naming the offending key for unknown keys, wrong types or values out of range.
    """
    if not isinstance(table, dict):
        raise SimulateError(f"{where}: must be a table of levers, got {type(table).__name__}")
    base_name = table.get("base", "nep")
    if not isinstance(base_name, str) or base_name not in known:
        raise SimulateError(f"{where}.base: unknown regime {base_name!r} (known: {', '.join(sorted(known))})")
    description = table.get("description", f"user regime based on {base_name}")
    if not isinstance(description, str):
        raise SimulateError(f"{where}.description: must be a string")
    levers: dict[str, float] = {}
    for key, value in table.items():
        if key in ("base", "description"):
            continue
        spec = FIELD_BY_NAME.get(key)
        if spec is None:
            raise SimulateError(f"{where}.{key}: unknown lever (levers: {', '.join(FIELD_BY_NAME)})")
        if isinstance(value, bool):
            if spec.unit != "0/1":  # (a helper's audit: `investment_share = true` said "1.0 is outside [0, 0.6]")
                raise SimulateError(f"{where}.{key}: must be a number ({spec.unit}), got {str(value).lower()}; "
                                    "true and false are for the 0/1 levers")
            value = float(value)
        if key == "target_kind" and isinstance(value, str):
            if value not in TARGET_KINDS:
                raise SimulateError(f"{where}.{key}: must be one of {', '.join(TARGET_KINDS)}, got {value!r}")
            value = float(TARGET_KINDS.index(value))
        if (problem := lever_problem(spec, value)) is not None:
            raise SimulateError(f"{where}.{key}: {problem}")
        levers[key] = float(value)
    return replace(known[base_name], name=name, description=description, **levers)


def regime_fields_markdown() -> str:
    """The lever table as Markdown (for the docs)."""
    lines = ["| lever | unit | range | meaning |", "|---|---|---|---|"]
    lines += [f"| `{f.name}` | {f.unit} | {f.low:g}–{f.high:g} | {f.description} |" for f in FIELDS]
    return "\n".join(lines)


assert {f.name for f in FIELDS} == {f.name for f in fields(Regime)} - {"name", "description"}
