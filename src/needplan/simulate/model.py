"""The simulation model: agent state in numpy arrays, one seeded generator, and the yearly loop.

Peasant households are arrays (one row per representative household, each standing for ``weight`` real ones);
collective farms are the households flagged ``collective`` (their herds socialized, their draft power from the
machine-tractor stations); industry, urban workers, the administration, the state's grain and foreign trade are
national aggregates. The loop in :meth:`Model.step` is the order of actions within a year. Accounting identities
(grain balances of every household and of the state, livestock conservation by kind) are checked every step by
:func:`check_balances`, which raises :class:`BalanceError`. The model must not read files or plot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan.simulate import mechanisms as mech
from needplan.simulate.branch_plan import BranchPlanner
from needplan.simulate.regimes import Regime, SimulateError, is_whole
from needplan.simulate.scenarios import Scenario, Shock

FloatArray = NDArray[np.float64]

KINDS = ("cattle", "pigs", "sheep_goats", "horses")
BRANCHES = ("fuel", "metals", "electricity", "machinery", "textiles_shoes", "food")
HEAVY = np.array([True, True, True, True, False, False])
INVESTMENT_GOODS = np.array([False, True, False, True, False, False])

MIN_HOUSEHOLDS = 10
"""The fewest household agents a run may have."""
MIN_MEMBERS = 0.1
"""The fewest members a household agent keeps when people leave for the towns (its people are never all gone)."""
URBAN_FLOOR_M = 1.0
"""The fewest people the towns keep, millions: below it people move in from the villages (never created)."""
WAGE_FLOOR = 1e-6
"""The least food or goods per town dweller (relative to 1913's) that the real wage counts: at none, it is at this
floor (``real_wage_floored`` says so), and no first year there makes a base for the index."""
BASE_OUTPUT_SHARE = 1e-6
"""The least share of its capacity that industry must run at in a scenario's first year, whose output the
industrial indices are relative to (:func:`needplan.simulate.run.series_from_records`)."""
MAX_HOUSEHOLDS = 20_000_000
"""The most household agents a run may have: about the 22 million peasant households of 1913, so that each agent
still stands for at least one real household (and a run fits in memory: about 0.7 kB per agent)."""

# 1913 gross output by branch, billions of 1913 roubles: consumer goods dominate (producer goods ~ 1/3 in 1928).
BRANCH_VALUE_1913 = np.array([0.45, 0.75, 0.08, 0.70, 1.90, 2.60])
# Input coefficients in value terms (roubles of the row branch per rouble of the column branch's output).
_A_VALUE = np.array([
    # fuel  metals elec  mach  text  food
    [0.05, 0.25, 0.35, 0.05, 0.04, 0.03],  # fuel
    [0.03, 0.10, 0.02, 0.35, 0.01, 0.01],  # metals
    [0.01, 0.015, 0.02, 0.01, 0.004, 0.002],  # electricity: industry used under half the 2 bn kWh of 1913
    [0.04, 0.05, 0.05, 0.08, 0.03, 0.02],  # machinery
    [0.00, 0.00, 0.00, 0.01, 0.15, 0.02],  # textiles and shoes
    [0.00, 0.00, 0.00, 0.00, 0.00, 0.05],  # food
])


class BalanceError(SimulateError):
    """An accounting identity failed: the simulation created or destroyed grain or animals."""


@dataclass(frozen=True)
class Calibration(mech.Checked):
    """Initial conditions (1913) and behavioural constants calibrated on 1913–1928. Units in the names."""

    POSITIVE: ClassVar[tuple[str, ...]] = (
        "population_m", "urban_share", "persons_per_household", "sown_area_mha", "industrial_workers_m",
        "utilisation_1913", "capital_output_ratio", "tractor_cost")
    SHARES: ClassVar[tuple[str, ...]] = (
        "urban_share", "rich_share", "poor_share", "skilled_share", "utilisation_1913", "loss_rate", "deaths",
        "slaughter", "socialized_mortality", "depreciation", "migration_cap", "forced_collective_effort")

    population_m: float = 156.2
    urban_share: float = 0.18
    persons_per_household: float = 5.8
    sown_area_mha: float = 94.0
    grain_harvest_mt: float = 76.5
    herds_m: tuple[float, float, float, float] = (58.4, 23.0, 96.3, 38.2)
    rich_share: float = 0.08
    poor_share: float = 0.3
    industrial_workers_m: float = 3.5
    skilled_share: float = 0.4
    utilisation_1913: float = 0.95
    food_norm_t: float = 0.21
    seed_t_per_ha: float = 0.13
    loss_rate: float = 0.05
    feed_t_per_head: tuple[float, float, float, float] = (0.08, 0.2, 0.0, 0.3)
    meat_t_per_head: tuple[float, float, float, float] = (0.25, 0.15, 0.03, 0.2)
    births: tuple[float, float, float, float] = (0.29, 1.15, 0.44, 0.115)
    deaths: tuple[float, float, float, float] = (0.06, 0.15, 0.10, 0.07)
    slaughter: tuple[float, float, float, float] = (0.22, 0.98, 0.32, 0.035)
    socialized_mortality: tuple[float, float, float, float] = (0.10, 0.20, 0.12, 0.12)
    reserve_years: float = 0.35
    state_reserve_years: float = 0.5
    """state grain reserve kept, in years of the state's own use (exports, army, towns)"""
    natural_increase: float = 0.017
    war_birth_deficit: float = 1.5
    """natural increase lost per unit share of rural men mobilised (births postponed, epidemics)"""
    weather_sd: float = 0.09
    household_noise_sd: float = 0.15
    capital_output_ratio: float = 1.0
    depreciation: float = 0.025
    labour_productivity_growth: float = 0.015
    tractor_cost: float = 0.0065
    """1913 billion roubles per thousand tractors"""
    import_value_per_mt: float = 0.06
    """machinery bought abroad per Mt of grain exported, 1913 billion roubles"""
    migration_cap: float = 0.03
    forced_collective_effort: float = 0.85
    collective_recovery: float = 0.04
    voluntary_collective_bonus: float = 0.08
    planned_harvest_optimism: float = 1.1


FAR_FROM_DEFAULT = 1e3
"""How many times its default a parameter is named as a suspect when the numbers of a run break down."""


@dataclass(frozen=True)
class Params:
    """The parameters of every mechanism (see :mod:`needplan.simulate.mechanisms`)."""

    quality: mech.QualityParams = field(default_factory=mech.QualityParams)
    skill: mech.SkillParams = field(default_factory=mech.SkillParams)
    peasant: mech.PeasantParams = field(default_factory=mech.PeasantParams)
    bureaucracy: mech.BureaucracyParams = field(default_factory=mech.BureaucracyParams)
    market: mech.MarketParams = field(default_factory=mech.MarketParams)
    conflict: mech.ConflictParams = field(default_factory=mech.ConflictParams)
    famine: mech.FamineParams = field(default_factory=mech.FamineParams)
    calibration: Calibration = field(default_factory=Calibration)

    def far_from_default(self, factor: float = FAR_FROM_DEFAULT) -> list[str]:
        """``Class.name=value`` of each parameter more than ``factor`` times its default (see
        :meth:`mech.Checked.far_from_default`)."""
        return [far for f in fields(self) for far in getattr(self, f.name).far_from_default(factor)]


NUMERIC_FAILURES = (ArithmeticError, ValueError, TypeError)
"""What numbers beyond the model's reach raise: an overflow, a division by 0, numpy's overflow or invalid value
(raised inside a run), numpy refusing a size. A run that raises one (the model's own :class:`SimulateError`, a
ValueError too, passes as it is), or whose record holds a number that is not finite, is refused naming the year
and the parameters far from their defaults (a helper's fuzzing: elasticities, a noise and a population of 1e300)."""


@dataclass
class Households:
    """Peasant household agents, one row each (per real household, ``weight`` real households per row)."""

    land_ha: FloatArray
    members: FloatArray
    grain_t: FloatArray
    herd: FloatArray  # households x 4 (KINDS), head
    wealth_class: NDArray[np.int8]  # 0 poor, 1 middle, 2 rich
    collective: NDArray[np.bool_]
    forced_member: NDArray[np.bool_]
    kept_share: FloatArray
    expected_harvest_t: FloatArray
    priority: FloatArray  # a fixed random order in which households are collectivized
    herd0: FloatArray  # the 1913 herd, what the household's land and pasture carry


@dataclass
class YearRecord:
    """Everything one year produced, every term of the balances kept so a user can recompute any metric."""

    year: int
    regime: str
    values: dict[str, float] = field(default_factory=dict)


def technology_matrix() -> sp.csr_matrix:
    """The 6 x 6 inter-branch matrix in physical units (1913 gross output of each branch = 1)."""
    a = _A_VALUE * BRANCH_VALUE_1913[None, :] / BRANCH_VALUE_1913[:, None]
    return sp.csr_matrix(a)


class Model:
    """One simulation run of a :class:`Scenario` with ``n_households`` household agents and a seed.

    The model owns the only random generator (``numpy.random.default_rng(seed)``); each year draws the same
    number of numbers whatever the regime, so scenarios that share their first years share their first years'
    results exactly.
    """

    def __init__(self, scenario: Scenario, *, seed: int = 0, n_households: int = 100_000,
                 params: Params | None = None, check: bool = True) -> None:
        if not isinstance(scenario, Scenario):  # (fuzzing: a scenario's name failed deep inside with AttributeError)
            raise SimulateError(f"scenario must be a Scenario (get_scenario(name) or load_scenario_file(path)), got "
                                f"{type(scenario).__name__} {scenario!r}")
        # A seed is a whole number of 0 or more, never None (a run must be reproducible); so is a count of
        # households (fuzzing the Python API: numpy's own errors, or None taken silently).
        if not is_whole(seed) or seed < 0:
            raise SimulateError(f"seed must be a whole number of 0 or more, got {seed!r}")
        if not is_whole(n_households):
            raise SimulateError(f"n_households must be a whole number, got {n_households!r}")
        if not MIN_HOUSEHOLDS <= n_households <= MAX_HOUSEHOLDS:
            raise SimulateError(f"n_households must be {MIN_HOUSEHOLDS} to {MAX_HOUSEHOLDS:,}, got {n_households}")
        self.scenario = scenario
        self.params = params = params if params is not None else Params()
        self.check = check
        self.rng = np.random.default_rng(seed)
        self.year = scenario.start_year
        self.A = technology_matrix()
        self.records: list[YearRecord] = []
        with self._numbers_hold("set-up"):
            self._start(n_households)
        if not np.isfinite(self.base_yield) or not self.base_yield > 0:
            raise self._broken("set-up", f"the 1913 yield per hectare is {self.base_yield}")

    def _start(self, n: int) -> None:
        """The households, industry and state of the first year, from the calibration."""
        params = self.params
        c = params.calibration
        rng = self.rng
        rural_m = c.population_m * (1 - c.urban_share)
        self.weight = rural_m * 1e6 / c.persons_per_household / n
        members = c.persons_per_household * rng.lognormal(0.0, 0.25, n)
        members *= c.persons_per_household / members.mean()
        u = rng.random(n)
        wealth = np.where(u < c.poor_share, 0, np.where(u < 1 - c.rich_share, 1, 2)).astype(np.int8)
        land = members * np.array([0.55, 1.0, 2.2])[wealth] * rng.lognormal(0.0, 0.2, n)
        land *= c.sown_area_mha * 1e6 / (land.sum() * self.weight)
        herd_w = np.array([0.5, 1.0, 2.5])[wealth] * land / land.mean() * rng.lognormal(0.0, 0.2, n)
        herd = herd_w[:, None] * np.asarray(c.herds_m)[None, :] * 1e6 / (herd_w.sum() * self.weight)
        food_need = members * c.food_norm_t
        self.hh = Households(
            land_ha=land, members=members, grain_t=food_need * 0.5, herd=herd, wealth_class=wealth,
            collective=np.zeros(n, dtype=bool), forced_member=np.zeros(n, dtype=bool),
            kept_share=np.full(n, 0.9), expected_harvest_t=np.zeros(n), priority=rng.random(n), herd0=herd.copy(),
        )
        draft = mech.draft_factor(herd[:, 3], np.zeros(n), land, params.peasant)
        self.base_yield = c.grain_harvest_mt * 1e6 / (self.weight * float(np.sum(land * draft)))
        self.hh.expected_harvest_t = land * draft * self.base_yield
        # Industry, in 1913 units per branch.
        self.capacity = np.full(len(BRANCHES), 1.0 / c.utilisation_1913)
        self.capacity_pipeline = np.zeros(len(BRANCHES))
        self.quality = np.ones(len(BRANCHES))
        self.unit_final_1913 = np.asarray(np.ones(len(BRANCHES)) - self.A @ np.ones(len(BRANCHES)))
        self.skilled_m = c.industrial_workers_m * c.skilled_share
        self.unskilled_m = c.industrial_workers_m - self.skilled_m
        self.training = np.zeros(params.skill.training_years)
        self.skill_per_capacity = self.skilled_m / float(self.capacity @ BRANCH_VALUE_1913 / BRANCH_VALUE_1913.sum())
        self.labour_per_output = c.industrial_workers_m / float(BRANCH_VALUE_1913.sum())
        self.productivity = 1.0
        self.planner = BranchPlanner(self.A, BRANCHES, self.labour_per_output * BRANCH_VALUE_1913)
        self.urban_m = c.population_m * c.urban_share
        self.admin_share = params.bureaucracy.base_share
        self.tractors_k = 0.2
        self.state_grain_mt = 3.0
        self.conflict = 0.0
        self.terms = 1.0
        self.goods_per_tonne_1913 = 0.0  # set in the first year
        self.consumer_1913 = 0.0
        self.urban_food_1913 = 0.0
        self.collective_effort = 1.0
        self._admin_m: float | None = None

    # -----------------------------------------------------------------------------------------------------------
    def run(self) -> list[YearRecord]:
        """Step through every year of the scenario; returns the yearly records. A model runs once."""
        if self.records:
            raise SimulateError(f"this model has already run {self.scenario.name}: make a new Model to run it again")
        for year in self.scenario.years:
            with self._numbers_hold(str(year)):
                self.step(year)
        return self.records

    @contextmanager
    def _numbers_hold(self, when: str) -> Iterator[None]:
        """Inside: numpy's overflow, invalid values and divisions by 0 raise, and what :data:`NUMERIC_FAILURES`
        raises ends the run with :meth:`_broken` (``when``: a year, or "set-up")."""
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                yield
        except SimulateError:
            raise
        except NUMERIC_FAILURES as err:
            raise self._broken(when, f"{type(err).__name__}: {err}") from None

    def _broken(self, when: str, what: str) -> SimulateError:
        """The error for a run whose numbers broke down ``when`` (a year, or "set-up"), ``what`` happened."""
        far = self.params.far_from_default()
        return SimulateError(f"{self.scenario.name}, {when}: the simulation's numbers broke down ({what})"
                             + (f"; parameters far from their defaults: {', '.join(far)}" if far else ""))

    def step(self, year: int) -> YearRecord:
        """Simulate one year. The order of actions is the order of the lines below."""
        regime = self.scenario.regime(year)
        shock = self.scenario.shock(year)
        draws = self._draw()
        self._population_start_m = self.rural_population_m() + self.urban_m
        rec = YearRecord(year, regime.name)
        effort, compliance = mech.conflict_effects(self.conflict, self.params.conflict)
        self._collectivize(regime, rec)                               # 4: forced or voluntary entry, slaughter
        self._farm_year(regime, shock, draws, effort, compliance, rec)  # 4, 6, 8: sow, harvest, deliver, sell, eat
        self._herds(regime, shock, rec)                               # 4: births, deaths, slaughter, requisition
        self._state_grain(regime, shock, rec)                         # procurement, exports, army, urban food
        self._bureaucracy(regime, rec)                                # 5: administrative staff
        self._industry(regime, shock, effort, rec)                    # 1, 2, 3: plan, correspondence, quality
        self._invest(regime, shock, rec)                              # capital, tractors, machinery imports
        self._towns(regime, shock, rec)                               # 8, 6: urban food, real wage, migration
        self._conflict(regime, rec)                                   # 7: shortages by group
        self._population(shock, rec)                                  # natural increase, war losses
        wrong = [k for k, v in rec.values.items() if not np.isfinite(v)]
        if wrong:
            raise self._broken(str(year), f"{wrong[0]} is {rec.values[wrong[0]]}"
                               + (f", and {len(wrong) - 1} more values" if len(wrong) > 1 else ""))
        if self.check:
            check_balances(rec)
        self.records.append(rec)
        self.year = year + 1
        return rec

    # -----------------------------------------------------------------------------------------------------------
    def _draw(self) -> dict[str, FloatArray]:
        # A fixed set of draws every year, whatever the regime: histories that share a prefix share its numbers.
        n = self.hh.land_ha.size
        c = self.params.calibration
        return {
            "weather": self.rng.lognormal(0.0, c.weather_sd, 1),
            "plot": self.rng.lognormal(-0.5 * c.household_noise_sd**2, c.household_noise_sd, n),
            "u": self.rng.random(n),
        }

    def _collectivize(self, regime: Regime, rec: YearRecord) -> None:
        hh, p = self.hh, self.params.peasant
        n = hh.land_ha.size
        share = float(hh.collective.mean())
        target = regime.collectivization_target
        forced = regime.collectivization_forced >= 0.5
        joining = np.zeros(n, dtype=bool)
        expropriated = np.zeros(n, dtype=bool)
        if forced and share < target:
            k = round(min(target - share, regime.collectivization_speed) * n)
            # Rich households first (expropriated), then the others in a fixed random order.
            rich_out = (hh.wealth_class == 2) & ~hh.collective
            n_rich = round(regime.dekulakization_rate * rich_out.sum())
            order = np.argsort(np.where(rich_out, -1.0, hh.priority) + np.where(hh.collective, 9.0, 0.0))
            expropriated[order[:n_rich]] = True
            joining[order[: max(k, n_rich)]] = True
            joining &= ~hh.collective
        elif not forced and share < target and regime.collectivization_speed > 0:
            # Voluntary cooperatives: households join as machinery is offered to them, at most at the given speed.
            machinery = min(1.0, self.tractors_k * 1e3 * p.tractor_horse_equiv
                            / max(1.0, 0.5 * p.draft_need_per_ha * float(hh.land_ha.sum()) * self.weight))
            rate = regime.collectivization_speed * machinery
            joining = (~hh.collective) & (hh.priority < share + rate) & (hh.wealth_class < 2)
        outside_forced = (~hh.collective) & (~joining) & forced & (share < target)
        if forced:
            slaughter = mech.collectivization_slaughter(hh.herd, joining, outside_forced, p)
        else:
            slaughter = np.zeros_like(hh.herd)
        self._entry_slaughter = slaughter
        self._expropriated = expropriated
        hh.collective |= joining
        hh.forced_member |= joining & forced
        hh.wealth_class = np.where(expropriated, 0, hh.wealth_class).astype(np.int8)
        if forced and joining.any():
            self.collective_effort = min(self.collective_effort, self.params.calibration.forced_collective_effort)
        rec.values["households_joining_share"] = float(joining.mean())
        rec.values["expropriated_share"] = float(expropriated.mean())

    def _farm_year(self, regime: Regime, shock: Shock, draws: dict[str, FloatArray], effort: float,
                   compliance: float, rec: YearRecord) -> None:
        hh, c, pp = self.hh, self.params.calibration, self.params.peasant
        w = self.weight
        # Sowing responds to what was kept last year and what grain buys; the army takes working hands.
        labour = 1.0 - 0.6 * shock.mobilisation_share
        sow = mech.sowing_factor(hh.kept_share, self.terms, labour, pp)
        collective_sow = np.clip(0.85 + 0.15 * self.collective_effort, 0.5, 1.1)
        sow = np.where(hh.collective, collective_sow * np.minimum(sow * 1.0, 1.1) ** 0.3, sow)
        sown = hh.land_ha * sow
        tractors_per_ha = self.tractors_k * 1e3 / max(1.0, float((sown * hh.collective).sum()) * w)
        if not hh.collective.any():
            tractors_per_ha = self.tractors_k * 1e3 / max(1.0, float(sown.sum()) * w)
        tractors = np.where(hh.collective | ~hh.collective.any(), tractors_per_ha * sown, 0.0)
        draft = mech.draft_factor(hh.herd[:, 3], tractors, sown, pp)
        weather = float(shock.weather) if shock.weather is not None else float(draws["weather"][0])
        farm_effort = np.where(hh.collective, effort * self.collective_effort, effort)
        harvest = sown * self.base_yield * draft * weather * draws["plot"] * farm_effort
        losses = c.loss_rate * harvest
        stock0 = hh.grain_t.copy()
        avail = stock0 + harvest - losses
        food_need = hh.members * c.food_norm_t
        feed_need = hh.herd @ np.asarray(c.feed_t_per_head)
        seed_need = c.seed_t_per_ha * sown
        # The state's claims: taxes in kind, the progressive tax, quotas on the planned harvest, requisition.
        planned = hh.expected_harvest_t * c.planned_harvest_optimism
        rich = hh.wealth_class == 2
        obligation = (regime.tax_in_kind_rate * harvest + regime.rich_tax_rate * harvest * rich
                      + regime.procurement_quota_share * planned * np.where(hh.collective, 1.15, 0.9)
                      + regime.requisition_rate * np.maximum(avail - food_need - feed_need - seed_need, 0.0))
        protected = regime.procurement_floor * (food_need + seed_need)
        take = np.minimum(obligation * compliance, np.maximum(avail - protected, 0.0))
        take = np.where(self._expropriated, np.maximum(take, avail - 0.5 * protected), take)
        take = np.clip(take, 0.0, avail)
        rest = avail - take
        seed = np.minimum(seed_need, rest)
        rest -= seed
        food = np.minimum(food_need, rest)
        rest -= food
        feed = np.minimum(feed_need, rest)
        rest -= feed
        forced_sales = np.minimum(mech.money_tax_sales(harvest, regime.money_tax_rate), rest)
        rest -= forced_sales
        reserve = c.reserve_years * (food_need + feed_need + seed_need)
        share = mech.marketed_share(self.terms, regime.legal_market, self.params.market)
        sales = share * np.maximum(rest - reserve, 0.0)
        rest -= sales
        # Village sharing: the hungry get grain from neighbours' surplus (wages of hired hands, loans, purchases),
        # far more where trade is legal.
        deficit = np.maximum(food_need - food, 0.0)
        surplus = np.maximum(rest - 0.5 * reserve, 0.0)
        sharing = (0.3 + 0.5 * regime.legal_market) * float(surplus.sum())
        covered = min(1.0, sharing / max(float(deficit.sum()), 1e-12))
        given = surplus * (covered * float(deficit.sum()) / max(float(surplus.sum()), 1e-12))
        food = food + deficit * covered
        rest = rest - given
        transfers = deficit * covered - given
        hh.grain_t = rest
        hh.kept_share = np.where(harvest > 0, 1.0 - take / np.maximum(harvest, 1e-12), 0.0)
        hh.expected_harvest_t = 0.5 * hh.expected_harvest_t + 0.5 * hh.land_ha * draft * self.base_yield
        self._food_t = food
        self._feed_ratio = np.where(feed_need > 0, feed / np.maximum(feed_need, 1e-12), 1.0)
        self._harvest = harvest
        v = rec.values
        # State procurement is what the state obtains: its compulsory claims (taxes in kind, quotas, requisition)
        # plus what its agencies buy of the grain households sell; the rest of the sales is private trade.
        sold = forced_sales + sales
        purchases = regime.state_purchase_share * sold
        for name, arr in (("harvest", harvest), ("seed", seed), ("feed", feed), ("rural_consumption", food),
                          ("procurement", take + purchases), ("market_sales", sold - purchases), ("losses", losses),
                          ("compulsory", take), ("state_purchases", purchases),
                          ("stock_start", stock0), ("stock_end", rest)):
            v[f"grain_{name}_mt"] = float(arr.sum()) * w / 1e6
        # Household-level residual of the grain balance, the largest over all households.
        residual = harvest + transfers - (seed + feed + food + take + forced_sales + sales + losses + (rest - stock0))
        v["grain_transfers_net_mt"] = float(transfers.sum()) * w / 1e6
        v["grain_household_residual_t"] = float(np.max(np.abs(residual)))
        # ...and relative to the household's grain (at least a tonne): weather 10^6 times normal made harvests of
        # 10^7 t a household, rounded at 2e-9 t (a helper's fuzzing of the Python API).
        gross = harvest + np.abs(transfers) + stock0
        v["grain_household_residual_share"] = float(np.max(np.abs(residual) / np.maximum(gross, 1.0)))
        v["sown_area_mha"] = float(sown.sum()) * w / 1e6
        v["weather"] = weather
        v["collective_share"] = float(hh.collective.mean())

    def _herds(self, regime: Regime, shock: Shock, rec: YearRecord) -> None:
        hh, c, w = self.hh, self.params.calibration, self.weight
        start = hh.herd.copy()
        fr = self._feed_ratio[:, None]
        # Animals slaughtered on entry to a collective farm, then by hungry households (before the year's births).
        forced = self._entry_slaughter
        hungry = mech.hunger_slaughter(start - forced, self._food_t, hh.members * c.food_norm_t,
                                       self.params.peasant)
        entry = forced + hungry
        after = start - entry
        # Grain feed is a supplement to grazing: its lack slows births and raises deaths, it does not stop them.
        births = after * np.asarray(c.births)[None, :] * (0.75 + 0.25 * fr)
        social = hh.forced_member[:, None] * np.asarray(c.socialized_mortality)[None, :] * (
            1.0 - self.collective_effort) / (1.0 - c.forced_collective_effort)
        death_rate = np.minimum(0.9, np.asarray(c.deaths)[None, :] * (1.0 + 0.5 * (1.0 - fr)) + social)
        deaths = after * death_rate
        kept = np.clip(hh.kept_share, 0.0, 1.0)[:, None]
        # Peasants rebuild depleted herds (slaughter less) and cull beyond what their land carries.
        restock = np.clip(after / np.maximum(hh.herd0, 1e-9), 0.3, 1.5) ** 1.5
        distress = np.asarray(c.slaughter)[None, :] * restock * (
            1.0 + 0.2 * (1.0 - fr) + 0.3 * np.maximum(0.9 - kept, 0))
        slaughter = np.minimum(after * distress, np.maximum(after + births - deaths, 0.0))
        requisition = np.zeros_like(start)
        requisition[:, 3] = shock.horse_requisition_share * (after[:, 3] + births[:, 3] - deaths[:, 3]
                                                             - slaughter[:, 3])
        end = after + births - deaths - slaughter - requisition
        if np.any(end < -1e-9):
            raise BalanceError(f"{rec.year}: negative herd")
        end = np.maximum(end, 0.0)
        hh.herd = end
        total_slaughter = entry + slaughter
        self._meat_t = (total_slaughter + deaths * 0.3) @ np.asarray(c.meat_t_per_head)
        v = rec.values
        for i, kind in enumerate(KINDS):
            v[f"{kind}_start_m"] = float(start[:, i].sum()) * w / 1e6
            v[f"{kind}_births_m"] = float(births[:, i].sum()) * w / 1e6
            v[f"{kind}_deaths_m"] = float(deaths[:, i].sum()) * w / 1e6
            v[f"{kind}_slaughter_m"] = float(total_slaughter[:, i].sum()) * w / 1e6
            v[f"{kind}_requisition_m"] = float(requisition[:, i].sum()) * w / 1e6
            v[f"{kind}_end_m"] = float(end[:, i].sum()) * w / 1e6
            v[f"{kind}_m"] = 0.5 * (v[f"{kind}_start_m"] + v[f"{kind}_end_m"])

    def _state_grain(self, regime: Regime, shock: Shock, rec: YearRecord) -> None:
        v = rec.values
        c = self.params.calibration
        procurement, market = v["grain_procurement_mt"], v["grain_market_sales_mt"]
        stock0 = self.state_grain_mt
        available = stock0 + procurement + market
        # Exports: the quota first (taken whatever the towns need), then a share of what reaches state and market.
        exports = min(available, shock.export_factor * (regime.export_quota_mt
                                                         + regime.export_share * (procurement + market)))
        available -= exports
        army = min(available, shock.army_grain_mt)
        available -= army
        urban_need = self.urban_m * c.food_norm_t
        urban = min(available * 0.92, urban_need * 1.1)
        available -= urban
        # The state keeps a reserve of a fraction of a year's use; grain beyond it does not vanish into a
        # granary but goes back to the villages within the year: first as relief to households eating below the
        # norm (as much as the regime allows), the rest as supply to the rural population per head (the rural
        # non-farm population, seed and food loans, sales in the village).
        reserve = c.state_reserve_years * (exports + army + urban)
        excess_t = max(available - reserve, 0.0) * 1e6 / self.weight
        hh = self.hh
        deficit = np.maximum(hh.members * c.food_norm_t - self._food_t, 0.0)
        relief_t = min(regime.famine_relief * excess_t, float(deficit.sum()))
        relief = deficit * (relief_t / max(float(deficit.sum()), 1e-12))
        supply = hh.members * ((excess_t - relief_t) / float(hh.members.sum()))
        self._food_t = self._food_t + relief
        hh.grain_t = hh.grain_t + supply
        released = float(relief.sum() + supply.sum()) * self.weight / 1e6
        available -= released
        self.state_grain_mt = available
        v["grain_rural_consumption_mt"] += float(relief.sum()) * self.weight / 1e6
        v["grain_stock_end_mt"] += float(supply.sum()) * self.weight / 1e6
        v.update(grain_exports_mt=exports, grain_army_mt=army, grain_urban_consumption_mt=urban,
                 grain_state_release_mt=released, state_stock_start_mt=stock0, state_stock_end_mt=available)
        self._urban_food_t = urban * 1e6

    def _bureaucracy(self, regime: Regime, rec: YearRecord) -> None:
        self.admin_share = mech.bureaucracy_share(
            self.admin_share, regime.plan_indicators, float(self.hh.collective.mean()), regime.market_coordination,
            regime.democratic_feedback, self.params.bureaucracy)
        labour_force_m = 0.5 * (self.urban_m + self.rural_population_m())
        admin_m = self.admin_share * labour_force_m
        previous = self._admin_m if self._admin_m is not None else admin_m
        growth = admin_m - previous
        if growth > 0:
            # New offices recruit specialists from the skilled industrial workers.
            self.skilled_m = max(0.0, self.skilled_m - 0.2 * growth)
        self._admin_m = admin_m
        rec.values["admin_m"] = admin_m
        rec.values["bureaucracy_share"] = self.admin_share

    def _industry(self, regime: Regime, shock: Shock, effort: float, rec: YearRecord) -> None:
        sp_ = self.params.skill
        value = BRANCH_VALUE_1913
        cap_total = float(self.capacity @ value / value.sum())
        gap = mech.skill_gap(self.skilled_m, cap_total * self.skill_per_capacity / sp_.skilled_per_capacity,
                             sp_)
        efficiency, scrap = mech.skill_effects(gap, sp_)
        workers = self.skilled_m + self.unskilled_m
        labour_cap = workers * self.productivity / self.labour_per_output / value.sum()
        capacity = self.capacity * efficiency * effort * shock.industry_disruption
        food_supply = 1.2 * (rec.values["grain_urban_consumption_mt"] + rec.values["grain_army_mt"]) / max(
            self.urban_food_1913 or rec.values["grain_urban_consumption_mt"], 1e-9)
        v = rec.values
        if regime.target in ("quality", "balanced"):
            # Balanced plans (and markets) are the plan engine's optimum over the branch economy: the most final
            # output in the regime's proportions that capacities, labour by skill and grain allow.
            outcome = self.planner.plan(capacity, food_supply, workers * self.productivity,
                                        self.skilled_m * self.productivity, np.maximum(self._final_mix(regime), 0.0),
                                        self.quality, quality_weighted=regime.target == "quality")
            target = outcome.gross
            v["plan_fulfilment"] = outcome.fulfilment
            prices = outcome.result.shadow_prices
            for name in (*BRANCHES, "labour", "skilled_labour"):
                v[f"plan_shadow_price_{name}"] = float(prices[name])
            v["plan_builds"] = float(self.planner.builds)
        else:
            # Tonnage targets: every branch is told to beat its capacity, whatever the others can deliver.
            capacity = np.minimum(capacity, labour_cap * self.capacity / max(cap_total, 1e-12))
            target = capacity * regime.plan_tautness
        limit = np.full(len(BRANCHES), np.inf)
        limit[5] = food_supply
        result = mech.branch_correspondence(self.A, capacity, target, limit)
        self.quality = mech.quality_step(self.quality, regime.target, result.pressure, gap, self.params.quality)
        x = result.realised_gross
        v["industrial_output_value"] = float(x @ value)
        v["industrial_capacity_value"] = float(self.capacity @ value)
        v["industrial_quality_value"] = float((x * self.quality) @ value)
        v["heavy_value"] = float(x[HEAVY] @ value[HEAVY])
        v["consumer_value"] = float(x[~HEAVY] @ value[~HEAVY])
        v["skill_gap"] = gap
        v["industrial_workers_m"] = workers
        v["skilled_share"] = self.skilled_m / max(workers, 1e-12)
        v["plan_pressure"] = float(np.max(result.pressure))
        v["bottleneck_fulfilment"] = float(np.min(result.fulfilment))
        v["industry_quality_mean"] = float(self.quality @ value / value.sum())
        final = result.realised_final * value
        self._investment_goods = float(final[INVESTMENT_GOODS].sum())
        self._consumer_goods = float(final[~HEAVY].sum()) * float(self.quality[~HEAVY] @ value[~HEAVY]
                                                                 / value[~HEAVY].sum())
        self._scrap = scrap
        # Labour demand is what the capital in working order next year could employ (the capacity being
        # commissioned included: enterprises hire for it), not the labour-capped plan.
        working = ((self.capacity * (1 - self.params.calibration.depreciation) + self.capacity_pipeline)
                   * efficiency * shock.industry_disruption)
        self._workers_needed = float(working @ value) * self.labour_per_output / self.productivity

    def _final_mix(self, regime: Regime) -> FloatArray:
        # The 1913 final-demand pattern tilted towards investment goods as the investment share rises.
        tilt = np.where(INVESTMENT_GOODS, (max(regime.investment_share, 0.01) / 0.10) ** 0.8,
                        (1 - regime.investment_share) / 0.9)
        return np.asarray(self.unit_final_1913 * tilt, dtype=np.float64)

    def _invest(self, regime: Regime, shock: Shock, rec: YearRecord) -> None:
        c = self.params.calibration
        value = BRANCH_VALUE_1913
        imports = rec.values["grain_exports_mt"] * c.import_value_per_mt
        invest = self._investment_goods + imports
        to_tractors = regime.tractor_share * invest
        self.tractors_k = self.tractors_k * 0.92 + to_tractors / c.tractor_cost
        to_capacity = invest - to_tractors
        if regime.target == "quantity":
            alloc = np.where(HEAVY, regime.heavy_priority * value / value[HEAVY].sum(),
                             (1 - regime.heavy_priority) * value / value[~HEAVY].sum())
        else:
            # Balanced planning invests where the next plan's mix will need capacity (correspondence).
            mix = self._final_mix(regime)
            from needplan import leontief
            unit, _ = leontief.gross_output(self.A, mix)
            desired = unit / float(unit @ value) * float((self.capacity + self.capacity_pipeline) @ value
                                                         + to_capacity / c.capital_output_ratio)
            gap = np.maximum(desired - self.capacity - self.capacity_pipeline, 0.0) * value
            alloc = gap / gap.sum() if gap.sum() > 0 else value / value.sum()
        added = to_capacity * alloc / c.capital_output_ratio / value
        # (what is destroyed, worn out and scrapped is at most all of it: a capital destruction of 1 with wear on
        # top made capacity negative, and the industrial index -inf; fuzzing the Python API)
        self.capacity = self.capacity * max(0.0, 1 - c.depreciation - self._scrap - shock.capital_destruction)
        self.capacity += self.capacity_pipeline
        self.capacity_pipeline = added
        self.productivity *= 1 + c.labour_productivity_growth * min(1.0, invest / 0.5)
        rec.values.update(tractors_k=self.tractors_k, investment_value=invest, machinery_imports_value=imports)

    def _towns(self, regime: Regime, shock: Shock, rec: YearRecord) -> None:
        c, v = self.params.calibration, rec.values
        hh = self.hh
        urban_food = self._urban_food_t
        consumer_urban = self._consumer_goods * (1 - regime.consumer_share_rural)
        consumer_rural = self._consumer_goods * regime.consumer_share_rural
        if self.consumer_1913 == 0.0:
            self.consumer_1913 = self._consumer_goods / (c.population_m)
            self.urban_food_1913 = v["grain_urban_consumption_mt"]
        other_ph = 0.08  # t grain equivalent of potatoes, vegetables, fish per town dweller
        food_ph = (urban_food / (self.urban_m * 1e6) + other_ph) / (c.food_norm_t + other_ph)
        goods_ph = consumer_urban / self.urban_m / (self.consumer_1913 * (1 - 0.45))
        v["real_wage_index"] = 100.0 * max(food_ph, WAGE_FLOOR) ** 0.5 * max(goods_ph, WAGE_FLOOR) ** 0.5
        v["real_wage_floored"] = float(min(food_ph, goods_ph) <= WAGE_FLOOR)
        # Terms of trade for next year's decisions: goods sent to the village per tonne that left it.
        off_farm = (v["grain_compulsory_mt"] * regime.procurement_price_ratio + v["grain_state_purchases_mt"]
                    + v["grain_market_sales_mt"])
        if self.goods_per_tonne_1913 == 0.0:
            # The reference (terms = 1) is the first year that sends goods to the village: the start year in the
            # built-in scenarios; before it (consumer_share_rural = 0) grain buys nothing, terms 0.
            self.goods_per_tonne_1913 = consumer_rural / max(off_farm, 1e-9)
        self.terms = mech.terms_of_trade(consumer_rural, off_farm, self.goods_per_tonne_1913)
        v["terms_of_trade"] = self.terms
        # Famine: rural food is grain eaten plus meat of the slaughtered; towns eat what reaches them.
        rural_food = self._food_t + self._meat_t
        rural_deaths = mech.famine_deaths(rural_food, hh.members, self.params.famine)
        other_food = other_ph * self.urban_m * 1e6
        urban_deaths = float(mech.famine_deaths(np.array([urban_food + other_food]), np.array([self.urban_m * 1e6]),
                                                self.params.famine)[0]) / 1e6
        hh.members = hh.members - rural_deaths
        self.urban_m -= urban_deaths
        v["famine_excess_deaths_m"] = float(rural_deaths.sum()) * self.weight / 1e6 + urban_deaths
        per_head = rural_food / np.maximum(hh.members + rural_deaths, 1e-12)
        v["rural_food_per_head_t"] = float((rural_food.sum()) / (hh.members + rural_deaths).sum())
        v["urban_food_per_head_t"] = urban_food / (self.urban_m * 1e6)
        norm = c.food_norm_t * 1.1
        coll = hh.collective
        self._shortage = np.array([
            max(0.0, 1 - food_ph),
            float(np.mean(np.maximum(0, 1 - per_head[coll] / norm))) if coll.any() else 0.0,
            float(np.mean(np.maximum(0, 1 - per_head[~coll] / norm))) if (~coll).any() else 0.0,
            max(0.0, 1 - goods_ph),
        ])
        # Markets clear by price: want shows up as dear goods, not queues (a lower real wage, counted there).
        clearing = 0.4 if regime.legal_market >= 0.5 and regime.rationing < 0.5 else 1.0
        v["shortage_index"] = float(np.mean(self._shortage * np.array([clearing, 1.0, 1.0, clearing])))
        # Industry recruits peasants as unskilled workers; a collapse sends workers back to the villages.
        need = self._workers_needed
        workers = self.skilled_m + self.unskilled_m
        if need > workers:
            recruits = min(need - workers, c.migration_cap * self.rural_population_m() * 0.5)
        else:
            recruits = -0.5 * (workers - need) * 0.5
        recruits -= shock.urban_flight_share * self.unskilled_m
        # No more people leave the towns than they hold above their floor.
        moved_people = max(recruits * 2.0, min(0.0, URBAN_FLOOR_M - self.urban_m))
        recruits = moved_people / 2.0
        left = hh.members - moved_people * 1e6 / (self.weight * hh.members.size)
        # A household below the floor already (famine took them) sends no one, and no one is sent to refill it:
        # the towns paid for such refills until they held fewer than none (a helper's fuzzing: a legal regime, the
        # towns at -4 M by 1993, more famine deaths than people, then nan).
        floor = np.minimum(MIN_MEMBERS, hh.members)
        floored = left < floor
        members = np.maximum(left, floor)
        if floored.any():
            # A household held at the floor keeps people the others send instead, and whom none can send stay:
            # the floor created people (fuzzing: 11,000 over 1914-40 at 3,000 households). Where it does not bind
            # the step is as before, bit for bit.
            short = float(np.sum(floor[floored] - left[floored]))
            room = members - floor
            take = min(short, float(room.sum()))
            if take > 0:
                members = np.maximum(members - room * (take / float(room.sum())), floor)
            moved_people -= (short - take) * self.weight / 1e6
            recruits = moved_people / 2.0
        hh.members = members
        self.urban_m += moved_people
        self.unskilled_m = max(0.05, self.unskilled_m + recruits)
        self.skilled_m *= 1 - 0.02 - 0.5 * shock.urban_flight_share
        self.training, graduates = mech.training_step(self.training, regime.training_rate * self.unskilled_m)
        graduates = min(graduates, self.unskilled_m)
        self.skilled_m += graduates
        self.unskilled_m -= graduates
        workers = self.skilled_m + self.unskilled_m
        if workers > self.urban_m:
            # The workers are town dwellers: no more of them than the towns hold (a helper's fuzzing: 7.2 M workers
            # in towns of 2.5 M, a population of 5.0 M, after decades of famine; their return to the villages then
            # emptied the towns below nothing). In the built-in scenarios they are a small share of the towns.
            self.skilled_m *= self.urban_m / workers
            self.unskilled_m *= self.urban_m / workers
        v["migration_m"] = moved_people

    def _conflict(self, regime: Regime, rec: YearRecord) -> None:
        coercion = min(1.0, regime.requisition_rate + regime.collectivization_forced * (
            rec.values["households_joining_share"] * 3 + rec.values["expropriated_share"] * 5)
            + 0.5 * regime.procurement_quota_share)
        self.conflict = mech.conflict_step(self.conflict, self._shortage, coercion, self.params.conflict)
        # Collective farms learn to work: effort recovers as tractors arrive and the first years pass.
        if self.hh.collective.any():
            c = self.params.calibration
            self.collective_effort = min(1.0 + c.voluntary_collective_bonus * (1 - regime.collectivization_forced),
                                         self.collective_effort + c.collective_recovery)
        rec.values["conflict_index"] = self.conflict
        rec.values["coercion"] = coercion

    def _population(self, shock: Shock, rec: YearRecord) -> None:
        c, hh = self.params.calibration, self.hh
        rural = self.rural_population_m()
        war = shock.war_deaths_m
        if 0.85 * war >= rural or 0.15 * war >= self.urban_m:
            # (fuzzing the Python API: war deaths of 200 million made a population of -39 M)
            raise SimulateError(f"the shock of {rec.year}: war deaths of {war:g} million people are more than the "
                                f"country holds (85% of them in the villages, {rural:.4g} M people, 15% in the towns, "
                                f"{self.urban_m:.4g} M)")
        growth = c.natural_increase * (1 - c.war_birth_deficit * shock.mobilisation_share)
        hh.members *= 1 + growth - 0.85 * war / max(rural, 1e-9)
        self.urban_m *= 1 + growth * 0.6 - 0.15 * war / max(self.urban_m, 1e-9)
        if self.urban_m < URBAN_FLOOR_M:
            # People move in from the villages (above their households' floor) to keep the towns at theirs. The
            # floor alone created them (fuzzing: a user regime sending the towns to the villages, within the
            # documented ranges, made 0.12-0.40 M people a year that no birth explains, from 1954 on).
            room = np.maximum(hh.members - MIN_MEMBERS, 0.0)
            take = min((URBAN_FLOOR_M - self.urban_m) * 1e6 / self.weight, float(room.sum()))
            if take > 0:
                hh.members = hh.members - room * (take / float(room.sum()))
                self.urban_m += take * self.weight / 1e6
                rec.values["migration_m"] += take * self.weight / 1e6
        end = self.rural_population_m() + self.urban_m
        rec.values["population_start_m"] = self._population_start_m
        rec.values["population_end_m"] = end
        # Mid-year, like the herds and the population estimates it is compared with.
        rec.values["population_m"] = 0.5 * (self._population_start_m + end)
        rec.values["urban_m"] = self.urban_m

    def rural_population_m(self) -> float:
        """Rural population, millions of persons."""
        return float(self.hh.members.sum()) * self.weight / 1e6


def check_balances(rec: YearRecord, tol_mt: float = 1e-6) -> None:
    """Raise :class:`BalanceError` unless the year's accounting identities hold.

    Grain, farms: harvest + state release = seed + feed + consumption + procurement + market sales + losses +
    stock change (per household and in total). Grain, state and towns: stock + procurement + market sales =
    exports + army + urban consumption + release to the villages + stock. Livestock, each kind: end = start +
    births - deaths - slaughter - requisition.
    """
    v = rec.values
    if v["grain_household_residual_share"] > 1e-9:
        raise BalanceError(f"{rec.year}: household grain balance off by {v['grain_household_residual_t']} t "
                           f"({v['grain_household_residual_share']:.2g} of a household's grain)")
    uses = sum(v[f"grain_{k}_mt"] for k in ("seed", "feed", "rural_consumption", "procurement", "market_sales",
                                            "losses")) + v["grain_stock_end_mt"] - v["grain_stock_start_mt"]
    uses -= v["grain_transfers_net_mt"]  # zero up to rounding: sharing moves grain between households only
    uses -= v["grain_state_release_mt"]  # grain the state sends back to the villages
    if abs(v["grain_harvest_mt"] - uses) > tol_mt * max(1.0, v["grain_harvest_mt"]):
        raise BalanceError(f"{rec.year}: grain balance: harvest {v['grain_harvest_mt']:.6f} Mt != uses {uses:.6f} Mt")
    state_in = v["state_stock_start_mt"] + v["grain_procurement_mt"] + v["grain_market_sales_mt"]
    state_out = (v["grain_exports_mt"] + v["grain_army_mt"] + v["grain_urban_consumption_mt"]
                 + v["grain_state_release_mt"] + v["state_stock_end_mt"])
    if abs(state_in - state_out) > tol_mt * max(1.0, state_in):
        raise BalanceError(f"{rec.year}: off-farm grain balance: in {state_in:.6f} Mt != out {state_out:.6f} Mt")
    for kind in KINDS:
        end = (v[f"{kind}_start_m"] + v[f"{kind}_births_m"] - v[f"{kind}_deaths_m"] - v[f"{kind}_slaughter_m"]
               - v[f"{kind}_requisition_m"])
        if abs(end - v[f"{kind}_end_m"]) > tol_mt * max(1.0, end):
            raise BalanceError(f"{rec.year}: {kind}: start + births - deaths - slaughter - requisition = {end:.6f} M "
                               f"but the herd counts {v[f'{kind}_end_m']:.6f} M")
        if v[f"{kind}_end_m"] < 0:
            raise BalanceError(f"{rec.year}: {kind}: negative herd")
