"""The eight mechanisms of the simulator: small pure functions, arrays in, arrays out, no state, no random draws.

Each states its assumption, its parameters (with units) and the claim of the source text it traces to (Trotsky,
*The Revolution Betrayed*, as quoted in ``shared/seed``; page numbers are those of the quotations there). The
yearly loop in :mod:`needplan.simulate.model` calls them in order; tests call them one by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan import leontief
from needplan.simulate.regimes import SimulateError

FloatArray = NDArray[np.float64]


class Checked:
    """Parameters that are each a finite number at least 0 (or a tuple of them, as long as the default), checked
    when made: every mechanism's parameters and the calibration are rates, shares, sizes and elasticities. (A
    helper's fuzzing of the Python API: a famine mortality of -1 created 3.85 million people, a NaN share filled the
    series with NaN silently, and a tractor cost of 0 raised a bare ZeroDivisionError; a share of 1e300 made the
    quality index NaN, and training years of 1e300 a raw TypeError.)"""

    POSITIVE: ClassVar[tuple[str, ...]] = ()
    """The parameters that must be above 0 (the model divides by them)."""
    SHARES: ClassVar[tuple[str, ...]] = ()
    """The parameters that are shares or rates of a whole, at most 1."""
    WHOLE: ClassVar[tuple[str, ...]] = ()
    """The parameters that are whole numbers (of years)."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value, default = getattr(self, f.name), f.default
            values = value if isinstance(value, tuple) else (value,)
            least = "above 0" if f.name in self.POSITIVE else "at least 0"
            most = f.name in self.SHARES
            wrong = (isinstance(value, tuple) != isinstance(default, tuple)
                     or (isinstance(default, tuple) and len(values) != len(default))
                     or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                                and (v > 0 if f.name in self.POSITIVE else v >= 0) and (v <= 1 or not most)
                                and (float(v).is_integer() or f.name not in self.WHOLE) for v in values))
            if wrong:
                kind = "whole number" if f.name in self.WHOLE else "number"
                shape = f"a tuple of {len(default)} {kind}s" if isinstance(default, tuple) else f"a {kind}"
                if most:
                    least = ("above 0" if f.name in self.POSITIVE else "from 0") + " to 1 (a share)"
                raise SimulateError(f"{type(self).__name__}.{f.name} must be {shape}, finite and {least}, "
                                    f"got {value!r}")

    def far_from_default(self, factor: float) -> list[str]:
        """``Class.name=value`` of each parameter more than ``factor`` times its default (above 1 where that is 0)."""
        far = []
        for f in fields(self):  # type: ignore[arg-type]
            value, default = getattr(self, f.name), f.default
            values = value if isinstance(value, tuple) else (value,)
            defaults = cast(tuple[float, ...], default if isinstance(default, tuple) else (default,))
            if any(v > factor * d if d > 0 else v > 1 for v, d in zip(values, defaults, strict=True)):
                far.append(f"{type(self).__name__}.{f.name}={value!r}")
        return far

# ---------------------------------------------------------------------------------------------------------------
# 1. Quantity-only targets cut quality.
# Source, ch. I: "To characterize industrial progress by quantitative indices alone, without considering quality,
# is almost like describing a man's physique by his height and disregarding his chest measurements" (p. 11).


@dataclass(frozen=True)
class QualityParams(Checked):
    """``cut_per_pressure``: quality lost per unit of target pressure (target over capacity minus one) when only
    tonnage is judged; ``skill_cut``: quality lost per unit of skill gap; ``adjust``: share of the gap to the
    equilibrium quality closed each year; ``quality_gain``: yearly gain towards 1 under quality-weighted targets."""

    SHARES: ClassVar[tuple[str, ...]] = ("adjust", "floor")

    cut_per_pressure: float = 0.9
    skill_cut: float = 0.35
    adjust: float = 0.5
    quality_gain: float = 0.05
    floor: float = 0.4


def quality_step(quality: FloatArray, target: str, pressure: FloatArray, skill_gap: float,
                 p: QualityParams = QualityParams()) -> FloatArray:
    """Next year's quality per branch (1 = the 1913 standard, dimensionless).

    Assumption: an enterprise judged by tonnage alone meets a target above its capacity by skimping on quality,
    the more the harder it is pressed (``pressure`` = target / feasible output - 1, per branch) and the less
    skilled its workers; under ``balanced`` targets pressure is zero but nobody rewards quality, so only the skill
    gap bites; under ``quality``-weighted targets quality recovers towards 1 whatever the tonnage.
    """
    if target == "quantity":
        eq = 1.0 - p.cut_per_pressure * np.maximum(pressure, 0.0) - p.skill_cut * skill_gap
    elif target == "balanced":
        eq = np.full_like(quality, 1.0 - p.skill_cut * skill_gap)
    else:
        eq = np.minimum(1.0, quality + p.quality_gain)
    eq = np.clip(eq, p.floor, 1.0)
    return np.asarray(quality + p.adjust * (eq - quality), dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# 2. Men lag behind technique.
# Source, ch. I: "There is no correspondence between the different elements of industry; men lag behind
# technique" (p. 9); untrained workers produce shoddy output and break equipment.


@dataclass(frozen=True)
class SkillParams(Checked):
    """``skilled_per_capacity``: skilled workers (millions) needed per unit of capacity (1913 = 1 per branch
    total); ``efficiency_loss``: output lost per unit of skill gap; ``scrap_rate``: extra capital lost per
    year per unit of skill gap (breakdowns); ``training_years``: years from entering training to skilled."""

    POSITIVE: ClassVar[tuple[str, ...]] = ("skilled_per_capacity", "training_years")
    SHARES: ClassVar[tuple[str, ...]] = ("efficiency_loss", "scrap_rate")
    WHOLE: ClassVar[tuple[str, ...]] = ("training_years",)

    skilled_per_capacity: float = 0.55
    efficiency_loss: float = 0.45
    scrap_rate: float = 0.10
    training_years: int = 3


def skill_gap(skilled_m: float, capacity_total: float, p: SkillParams = SkillParams()) -> float:
    """Shortfall of skilled workers against what the capital stock needs, 0 (none) to 1 (no skilled worker)."""
    need = p.skilled_per_capacity * capacity_total
    return float(max(0.0, 1.0 - skilled_m / need)) if need > 0 else 0.0


def skill_effects(gap: float, p: SkillParams = SkillParams()) -> tuple[float, float]:
    """(efficiency factor on output, extra scrap rate of capital per year) for a skill gap in [0, 1].

    Assumption: capital that outgrows the skilled workforce runs below its rating and breaks down more often.
    """
    return 1.0 - p.efficiency_loss * gap, p.scrap_rate * gap


def training_step(pipeline_m: FloatArray, intake_m: float) -> tuple[FloatArray, float]:
    """Advance the training pipeline one year: returns (new pipeline, graduates in millions).

    ``pipeline_m[k]`` holds the trainees (millions) with ``k`` years still to go; training closes the skill gap
    only with a lag of ``len(pipeline_m)`` years.
    """
    graduates = float(pipeline_m[0])
    new = np.empty_like(pipeline_m)
    new[:-1] = pipeline_m[1:]
    new[-1] = intake_m
    return new, graduates


# ---------------------------------------------------------------------------------------------------------------
# 3. Correspondence between branches: through needplan's Leontief core.
# Source, ch. I: "There is no correspondence between the different elements of industry" (p. 9).


@dataclass(frozen=True)
class Correspondence:
    """The outcome of one year's industrial plan: target and realised gross output per branch (1913 output = 1
    per branch unit), the final (net) output realised, and per branch the share of its target it could meet."""

    target_gross: FloatArray
    realised_gross: FloatArray
    realised_final: FloatArray
    fulfilment: FloatArray
    pressure: FloatArray


def plan_targets(A: sp.csr_matrix, final_mix: FloatArray, capacity: FloatArray, tautness: float) -> FloatArray:
    """Gross-output targets that deliver final demand in proportions ``final_mix``.

    The balanced rule scales the final-demand mix to the largest level whose gross output (from
    :func:`needplan.leontief.gross_output`) fits every branch's capacity; ``tautness`` > 1 then pushes all
    targets above that level, as quantity-driven plans did.
    """
    unit, _ = leontief.gross_output(A, final_mix)
    with np.errstate(divide="ignore"):
        level = float(np.min(np.where(unit > 0, capacity / unit, np.inf)))
    return np.asarray(unit * level * tautness, dtype=np.float64)


def branch_correspondence(A: sp.csr_matrix, capacity: FloatArray, target_gross: FloatArray,
                          supply_limit: FloatArray | None = None, iterations: int = 100) -> Correspondence:
    """Realised output when capacities and inputs bind: a branch short of inputs holds back its users.

    Assumption: fixed input proportions and proportional rationing. Each branch ``i`` delivers the share
    ``delivery_i = x_i / target_i`` of every planned claim on its output (other branches' inputs and final use
    alike); branch ``j`` then produces ``min(capacity_j, supply_limit_j, target_j x min_i delivery_i)`` over the
    inputs ``i`` it uses. Iterated from ``x = min(capacity, target)`` the map only lowers ``x``, so it converges to
    the largest consistent output. Inputs delivered to a branch held back by another input are hoarded, so final
    output of product ``i`` is ``delivery_i`` times its planned final use. ``supply_limit`` caps output for reasons
    outside industry (grain for the food branch). Units: 1913 gross output of each branch = 1.
    """
    Ad = A.toarray()
    target = np.maximum(target_gross, 1e-12)
    cap = np.minimum(capacity, target)
    if supply_limit is not None:
        cap = np.minimum(cap, supply_limit)
    uses = Ad > 0
    x = cap.copy()
    for _ in range(iterations):
        delivery = x / target
        worst_input = np.where(uses, delivery[:, None], 1.0).min(axis=0)
        new = np.minimum(cap, target * np.minimum(1.0, worst_input))
        if np.max(np.abs(new - x)) <= 1e-13:
            x = new
            break
        x = new
    delivery = x / target
    planned_final = np.maximum(target - Ad @ target, 0.0)
    realised_final = delivery * planned_final
    with np.errstate(divide="ignore", invalid="ignore"):
        pressure = np.where(capacity > 0, target_gross / capacity - 1.0, 0.0)
    return Correspondence(target_gross, x, realised_final, delivery, pressure)


# ---------------------------------------------------------------------------------------------------------------
# 4. Peasant incentives, collectivization slaughter, draft power.
# Source, ch. II: requisition under war communism and its abandonment for NEP "spurred the farmers to plant their
# seeds again"; "Twenty-five million isolated peasant egoisms, which yesterday had been the sole motive force of
# agriculture ... the bureaucracy tried to replace at one gesture by the commands of 2,000 collective farm
# administrative offices, lacking technical equipment" (p. 31); ch. III: "It was in fact the socialization of the
# cows which led to their mass extermination by the peasants."


@dataclass(frozen=True)
class PeasantParams(Checked):
    """Sowing responds to the incentive ``kept_share x terms_of_trade^tot_elasticity`` with elasticity
    ``sow_elasticity`` relative to 1913 (incentive 1); ``min_sow`` is what is sown for the family's own needs
    whatever the incentive. ``slaughter_on_entry`` (by kind: cattle, pigs, sheep and goats, horses) is the share of
    its animals a household slaughters when forced into a collective farm, ``anticipatory_slaughter`` the share
    slaughtered by households still outside in a year of forced collectivization. ``draft_need_per_ha``: horse
    equivalents per hectare sown, ``tractor_horse_equiv``: horses one tractor replaces, ``draft_elasticity``:
    harvest elasticity to the draft shortfall. ``hunger_slaughter`` (by kind) is the extra share of its animals
    a household slaughters and eats or sells for grain per unit relative shortfall of its grain food below
    ``hunger_threshold`` times the norm (set against the herd counts of 1 January 1923, after the civil war and
    the 1921 famine)."""

    SHARES: ClassVar[tuple[str, ...]] = ("min_sow", "slaughter_on_entry", "anticipatory_slaughter")

    sow_elasticity: float = 0.35
    tot_elasticity: float = 0.5
    min_sow: float = 0.55
    slaughter_on_entry: tuple[float, float, float, float] = (0.30, 0.50, 0.45, 0.20)
    anticipatory_slaughter: tuple[float, float, float, float] = (0.10, 0.20, 0.20, 0.05)
    draft_need_per_ha: float = 0.33
    tractor_horse_equiv: float = 10.0
    draft_elasticity: float = 0.35
    hunger_slaughter: tuple[float, float, float, float] = (0.6, 1.5, 0.8, 0.4)
    hunger_threshold: float = 0.75


def sowing_factor(kept_share: FloatArray, terms_of_trade: float, labour_factor: FloatArray | float,
                  p: PeasantParams = PeasantParams()) -> FloatArray:
    """Share of its land a household sows (1913 practice = 1): what it keeps and what it can buy with it.

    ``kept_share``: share of the last harvest left to the household after taxes, quotas and requisition (1913 ~
    0.9); ``terms_of_trade``: manufactured goods one tonne of grain buys, 1913 = 1; ``labour_factor``: working
    hands present over normal (mobilisation).
    """
    incentive = np.maximum(kept_share / 0.9, 0.0) * max(terms_of_trade, 0.0) ** p.tot_elasticity
    response = p.min_sow + (1.0 - p.min_sow) * np.minimum(incentive, 1.3) ** (p.sow_elasticity / (1 - p.min_sow))
    return np.asarray(np.clip(response * labour_factor, 0.05, 1.15), dtype=np.float64)


def collectivization_slaughter(herd: FloatArray, joining: NDArray[np.bool_], outside_forced: NDArray[np.bool_],
                               p: PeasantParams = PeasantParams()) -> FloatArray:
    """Head slaughtered (same shape as ``herd``, households x 4 kinds) rather than handed to a collective farm.

    Assumption: households forced in (``joining``) slaughter a large share of their animals before entry, those
    who expect to be forced (``outside_forced``) a smaller one; voluntary entry slaughters nothing (the caller
    passes all-false masks).
    """
    entry = np.asarray(p.slaughter_on_entry)[None, :] * joining[:, None]
    fear = np.asarray(p.anticipatory_slaughter)[None, :] * outside_forced[:, None]
    return np.asarray(herd * (entry + fear), dtype=np.float64)


def hunger_slaughter(herd: FloatArray, food_t: FloatArray, food_need_t: FloatArray,
                     p: PeasantParams = PeasantParams()) -> FloatArray:
    """Head slaughtered (households x 4 kinds) because the household is short of grain food.

    Assumption: a hungry household eats its animals (pigs and sheep first, its horses last) or sells them for
    grain, in proportion to its relative shortfall below hunger, ``1 - food_t / (hunger_threshold x
    food_need_t)``; a household eating near its norm keeps its herd. At most the whole herd.
    """
    hunger_t = p.hunger_threshold * food_need_t
    shortfall = np.where(hunger_t > 0, np.clip(1.0 - food_t / np.maximum(hunger_t, 1e-12), 0.0, 1.0), 0.0)
    rate = np.minimum(1.0, np.asarray(p.hunger_slaughter)[None, :] * shortfall[:, None])
    return np.asarray(herd * rate, dtype=np.float64)


def draft_factor(horses: FloatArray, tractors_per_household: FloatArray, sown_ha: FloatArray,
                 p: PeasantParams = PeasantParams()) -> FloatArray:
    """Harvest factor (0–1) from draft power: horses plus tractor horse-equivalents against the need of the sown
    area. Losing draft animals cuts the next harvests until tractors replace them."""
    need = p.draft_need_per_ha * sown_ha
    have = horses + p.tractor_horse_equiv * tractors_per_household
    ratio = np.where(need > 0, have / np.maximum(need, 1e-12), 1.0)
    return np.asarray(np.minimum(1.0, ratio) ** p.draft_elasticity, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# 5. Bureaucracy.
# Source, ch. III: "The bureaucracy not only has not disappeared, yielding its place to the masses, but has turned
# into an uncontrolled force dominating the masses" (p. 40).


@dataclass(frozen=True)
class BureaucracyParams(Checked):
    """``base_share``: administration as a share of the labour force with markets coordinating (1913);
    ``per_indicator``: extra share per plan indicator/command; ``per_collective``: extra share per unit share of
    households in collective farms (their offices); ``market_relief`` and ``democracy_relief``: how much of the
    command-driven staff markets and democratic feedback make unnecessary; ``growth_cap``/``shrink_cap``: the
    most the staff can grow or shrink in a year (a ratchet: offices are easier to open than to close)."""

    SHARES: ClassVar[tuple[str, ...]] = ("base_share", "market_relief", "democracy_relief", "shrink_cap")

    base_share: float = 0.012
    per_indicator: float = 0.00004
    per_collective: float = 0.012
    market_relief: float = 0.6
    democracy_relief: float = 0.5
    growth_cap: float = 0.25
    shrink_cap: float = 0.08


def bureaucracy_share(current_share: float, indicators: float, collective_share: float, market_coordination: float,
                      democratic_feedback: float, p: BureaucracyParams = BureaucracyParams()) -> float:
    """Next year's share of the labour force in administration (0–1).

    Assumption: staff grow with the commands and plan indicators to be issued and checked and with the collective
    farm offices, shrink where markets or democratic feedback coordinate instead, and move towards that need
    with a ratchet.
    """
    command = p.per_indicator * indicators + p.per_collective * collective_share
    need = p.base_share + command * (1 - p.market_relief * market_coordination) * (
        1 - p.democracy_relief * democratic_feedback)
    low, high = current_share * (1 - p.shrink_cap), current_share * (1 + p.growth_cap)
    return float(np.clip(need, low, high))


# ---------------------------------------------------------------------------------------------------------------
# 6. Money and markets (the NEP lesson).
# Source, ch. II: "industry itself, in spite of its socialized character, had need of the methods of money payment
# worked out by capitalism" (p. 19); and the review's own summary (Popov89, not Trotsky's words): the NEP
# "legalized the market ... which spurred the farmers to plant their seeds again".


@dataclass(frozen=True)
class MarketParams(Checked):
    """``demand_elasticity``: price elasticity of urban grain demand on the market; ``black_market_share``:
    share of the would-be market trade that still happens illegally when the market is banned; ``supply_base``:
    share of the disposable surplus a household sells at 1913 terms of trade, ``supply_elasticity`` its response
    to the terms of trade."""

    SHARES: ClassVar[tuple[str, ...]] = ("black_market_share", "supply_base")

    demand_elasticity: float = 0.6
    black_market_share: float = 0.25
    supply_base: float = 0.85
    supply_elasticity: float = 0.6


def terms_of_trade(goods_to_country: float, grain_marketed_mt: float, base_ratio: float) -> float:
    """Manufactured goods one tonne of marketed grain buys, 1913 = 1 (the price scissors, inverted).

    With a legal market, prices settle where the goods sent to the countryside pay for the grain bought from it;
    ``base_ratio`` is the 1913 goods-per-tonne ratio. Limits, capped at 3: no goods sent to the countryside
    (``consumer_share_rural`` = 0) buy nothing, 0, whatever the grain; goods against a reference of no goods
    (``base_ratio`` 0) are the best terms, 3.
    """
    if goods_to_country <= 0:
        return 0.0
    if base_ratio <= 0:
        return 3.0
    if grain_marketed_mt <= 0:
        return float(min(3.0, goods_to_country / base_ratio / 1e-3))
    return float(min(3.0, goods_to_country / grain_marketed_mt / base_ratio))


def marketed_share(terms: float, legal_market: float, p: MarketParams = MarketParams()) -> float:
    """Share of its disposable surplus a household sells (0–1): more when grain buys more goods, far less when
    the market is illegal."""
    share = p.supply_base * max(terms, 0.0) ** p.supply_elasticity
    legal = legal_market + (1 - legal_market) * p.black_market_share
    return float(np.clip(share * legal, 0.0, 1.0))


def money_tax_sales(harvest_t: FloatArray, rate: float) -> FloatArray:
    """Grain a household must sell (t) to pay a money tax of ``rate`` on its harvest's value: money taxes force
    sales whatever the terms of trade."""
    return np.asarray(harvest_t * rate, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# 7. Want breeds conflict.
# Source, ch. III: "conflicts arise out of the inadequate supply of milk – conflicts between city and country,
# between collectives and individual peasants, ... between the whole toiling mass and bureaucracy."


@dataclass(frozen=True)
class ConflictParams(Checked):
    """``persistence``: share of last year's conflict carried over; ``weights``: conflict per unit shortage of
    (town, collective farmers, individual peasants, consumer goods); ``coercion_weight``: conflict per unit of
    coercion (requisition, forced collectivization); ``effort_loss``: effort lost per unit conflict;
    ``compliance_loss``: share of compulsory deliveries evaded per unit conflict."""

    SHARES: ClassVar[tuple[str, ...]] = ("persistence", "effort_loss", "compliance_loss")

    persistence: float = 0.6
    weights: tuple[float, float, float, float] = (0.6, 0.8, 0.6, 0.3)
    coercion_weight: float = 0.35
    effort_loss: float = 0.15
    compliance_loss: float = 0.2


def conflict_step(previous: float, shortages: FloatArray, coercion: float,
                  p: ConflictParams = ConflictParams()) -> float:
    """Next conflict index (0–1) from shortages by group (each 0–1: town, collective, individual, goods) and
    coercion (0–1). Assumption: conflict accumulates from want and coercion and decays slowly."""
    drive = float(np.dot(np.asarray(p.weights), np.clip(shortages, 0.0, 1.0))) + p.coercion_weight * coercion
    return float(np.clip(p.persistence * previous + (1 - p.persistence) * drive, 0.0, 1.0))


def conflict_effects(conflict: float, p: ConflictParams = ConflictParams()) -> tuple[float, float]:
    """(effort factor, compliance factor), each 0–1: conflict lowers effort and compliance with deliveries."""
    return 1.0 - p.effort_loss * conflict, 1.0 - p.compliance_loss * conflict


# ---------------------------------------------------------------------------------------------------------------
# 8. Famine.
# Source: the review's judgement of ch. II (Popov89, not Trotsky's words): collectivization "without any merit",
# "naked force that spurs antagonism and results in fewer crops", the "forced seizure of their 'daily bread'" (the
# famine of 1932–33); the 1921–22 famine after requisition.


@dataclass(frozen=True)
class FamineParams(Checked):
    """``subsistence_t``: food per head per year (t grain equivalent) below which excess deaths begin;
    ``mortality``: yearly excess death rate per unit relative shortfall below subsistence; ``max_rate``: cap."""

    SHARES: ClassVar[tuple[str, ...]] = ("max_rate",)

    subsistence_t: float = 0.17
    mortality: float = 0.12
    max_rate: float = 0.2


def famine_deaths(food_t: FloatArray, persons: FloatArray, p: FamineParams = FamineParams()) -> FloatArray:
    """Excess deaths (persons, same shape as ``persons``): zero whenever food per head is at or above
    subsistence, rising with the relative shortfall below it."""
    per_head = np.where(persons > 0, food_t / np.maximum(persons, 1e-12), p.subsistence_t)
    shortfall = np.maximum(0.0, 1.0 - per_head / p.subsistence_t)
    return np.asarray(persons * np.minimum(p.max_rate, p.mortality * shortfall), dtype=np.float64)
