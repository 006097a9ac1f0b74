"""Scenarios: a span of years, a schedule of regimes by year, and exogenous shocks (wars, droughts).

Shocks are confined to 1914–1922 in the historical scenario (world war, civil war, the 1920–21 droughts) and are
calibrated on the 1913–1928 data; after 1928 nothing is imposed: the record must come from the mechanisms.
Counterfactual scenarios share history's schedule and shocks up to 1927.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needplan.simulate.regimes import BUILTIN_REGIMES, Regime, SimulateError, is_whole, regime_from_mapping


@dataclass(frozen=True)
class Shock:
    """What war and weather impose on one year. Neutral values mean "no shock"."""

    mobilisation_share: float = 0.0
    """share of rural working men taken into the army (cuts sowing labour)"""
    industry_disruption: float = 1.0
    """factor on industrial efficiency from transport, fuel and front-line losses (1 = none)"""
    urban_flight_share: float = 0.0
    """share of the town population fleeing hunger to the villages this year"""
    capital_destruction: float = 0.0
    """share of industrial capacity destroyed this year"""
    weather: float | None = None
    """harvest weather factor imposed instead of the random draw (1 = normal)"""
    war_deaths_m: float = 0.0
    """military, epidemic and emigration losses, millions of persons (not famine)"""
    horse_requisition_share: float = 0.0
    """share of horses taken by armies this year"""
    army_grain_mt: float = 0.0
    """grain the army needs from state stocks, Mt"""
    export_factor: float = 1.0
    """factor on grain exports (war closes the Straits)"""

    def __post_init__(self) -> None:
        # Shares between 0 and 1, factors and amounts finite and not negative: a weather of -1 made a harvest of
        # -76.8 Mt, war deaths of 10^6 million a negative population (fuzzing the Python API).
        for name in ("mobilisation_share", "urban_flight_share", "capital_destruction", "horse_requisition_share"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise SimulateError(f"shock {name}: must be a share from 0 to 1, got {value!r}")
        for name in ("industry_disruption", "weather", "war_deaths_m", "army_grain_mt", "export_factor"):
            value = getattr(self, name)
            if value is None and name == "weather":
                continue
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0.0):
                raise SimulateError(f"shock {name}: must be a finite number of 0 or more, got {value!r}")


HISTORY_SHOCKS: dict[int, Shock] = {
    1913: Shock(weather=1.0),  # the baseline year: its harvest is the calibration point, not a draw
    1914: Shock(0.15, 0.95, 0.0, 0.0, 1.0, 1.0, 0.05, 2.0, 0.4),
    1915: Shock(0.25, 0.85, 0.0, 0.02, 1.0, 1.4, 0.05, 3.0, 0.0),
    1916: Shock(0.30, 0.80, 0.0, 0.0, 0.95, 1.2, 0.05, 4.0, 0.0),
    1917: Shock(0.30, 0.55, 0.03, 0.02, 0.95, 1.0, 0.03, 4.0, 0.0),
    1918: Shock(0.15, 0.30, 0.15, 0.05, 0.95, 1.3, 0.05, 2.0),
    1919: Shock(0.25, 0.22, 0.10, 0.05, 0.95, 2.2, 0.08, 3.0),
    1920: Shock(0.25, 0.20, 0.05, 0.03, 0.72, 2.0, 0.08, 3.0),
    1921: Shock(0.08, 0.30, 0.0, 0.0, 0.58, 0.5, 0.02, 1.0),
    1922: Shock(0.03, 0.50, 0.0, 0.0, 1.0, 0.2, 0.0, 0.5),
    1923: Shock(0.0, 0.75, 0.0, 0.0, 1.0, 0.0, 0.0, 0.3),
    1924: Shock(0.0, 0.90, 0.0, 0.0, 0.9, 0.0, 0.0, 0.3),
}
"""Calibrated by hand on 1913–1928 (industry trough 1920, harvest 1921, population 1920–22, herds 1923)."""


MAX_YEARS = 500
"""The longest span a scenario may simulate, in years."""
FIRST_YEAR, LAST_YEAR = 1, 9999
"""Years a scenario may start and end in (fuzzing: 9.2e18 was accepted and printed through a float)."""


@dataclass(frozen=True)
class Scenario:
    """A named span of years with the regime in force each year and the shocks of each year."""

    name: str
    description: str
    start_year: int
    end_year: int
    schedule: tuple[tuple[int, str], ...]
    """(first year, regime name), sorted by year; a regime holds until the next entry"""
    regimes: dict[str, Regime] = field(default_factory=lambda: dict(BUILTIN_REGIMES))
    shocks: dict[int, Shock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("start_year", "end_year"):
            year = getattr(self, key)
            if not is_whole(year) or not FIRST_YEAR <= year <= LAST_YEAR:
                raise SimulateError(f"scenario {self.name}: {key} must be a year from {FIRST_YEAR} to {LAST_YEAR}, "
                                    f"got {year!r}")
        if self.end_year < self.start_year:
            raise SimulateError(f"scenario {self.name}: end_year {self.end_year} is before start_year "
                                f"{self.start_year}")
        if self.end_year - self.start_year >= MAX_YEARS:
            raise SimulateError(f"scenario {self.name}: {self.start_year}-{self.end_year} spans more than "
                                f"{MAX_YEARS} years (a year's step is a season's harvest and a plan's year)")
        if not self.schedule or self.schedule[0][0] > self.start_year:
            raise SimulateError(f"scenario {self.name}: schedule must give a regime for {self.start_year}")
        for year, regime in self.schedule:
            if regime not in self.regimes:
                raise SimulateError(f"scenario {self.name}: schedule year {year}: unknown regime {regime!r}")
        years = [year for year, _ in self.schedule]
        if any(b <= a for a, b in itertools.pairwise(years)):
            # an entry out of order was never in force (fuzzing the Python API); entries after end_year are
            # allowed here, so that a scenario can be cut short with its schedule as it is
            raise SimulateError(f"scenario {self.name}: schedule years must rise, each given once (got {years})")
        if self.shock(self.start_year).industry_disruption == 0:
            # (fuzzing the Python API: a ZeroDivisionError) The indices are relative to the start year's output.
            raise SimulateError(f"scenario {self.name}: the shock of the start year {self.start_year} stops all "
                                "industry (industry_disruption 0), and the industrial indices are relative to that "
                                "year's output: shock a later year, or give a factor above 0")

    def regime(self, year: int) -> Regime:
        """The regime in force in ``year``."""
        current = self.schedule[0][1]
        for first, name in self.schedule:
            if first <= year:
                current = name
        return self.regimes[current]

    def shock(self, year: int) -> Shock:
        """The shocks of ``year`` (no shock when none is listed)."""
        return self.shocks.get(year, Shock())

    @property
    def years(self) -> range:
        """The simulated years, both ends included."""
        return range(self.start_year, self.end_year + 1)


_HISTORY_SCHEDULE = ((1913, "tsarist_baseline"), (1918, "war_communism"), (1921, "nep"),
                     (1929, "forced_collectivization"), (1933, "second_five_year_plan"))


def _counterfactual(name: str, regime: str, description: str) -> Scenario:
    schedule = (*(e for e in _HISTORY_SCHEDULE if e[0] < 1928), (1928, regime))
    return Scenario(name, description, 1913, 1940, schedule, shocks=dict(HISTORY_SHOCKS))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("ussr-1913-1940", "history: 1913 baseline, world and civil war, NEP, forced collectivization and "
                 "the first five-year plan, the second, 1938-40", 1913, 1940, _HISTORY_SCHEDULE,
                 shocks=dict(HISTORY_SHOCKS)),
        _counterfactual("ussr-left-opposition", "left_opposition",
                        "history until 1927, then the Left Opposition's gradual industrialization"),
        _counterfactual("ussr-plan-market-democracy", "plan_market_democracy",
                        "history until 1927, then balanced quality-weighted plans checked by markets and votes"),
    )
}


def get_scenario(name: str) -> Scenario:
    """A built-in scenario by name; raises :class:`SimulateError` listing the known ones."""
    if name not in SCENARIOS:
        named_file = bool(name.strip()) and (Path(name).suffix.lower() == ".toml" or Path(name).exists())  # ("" is ".")
        hint = " (a scenario file's name must end in .toml)" if named_file else ""
        raise SimulateError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)}){hint}")
    return SCENARIOS[name]


def _int(table: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = table.get(key, default)
    if value is None:
        raise SimulateError(f"{where}{key}: is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimulateError(f"{where}{key}: must be a whole year, got {value!r}")
    return value


def load_scenario_file(path: str | Path) -> Scenario:
    """Read a user scenario from TOML: regimes under ``[regimes.NAME]`` and ``[[schedule]]`` entries.

    Keys: ``name`` (required, not a built-in scenario's), ``description``, ``base`` (a built-in scenario whose
    schedule and shocks are kept before the first user entry; default ``ussr-1913-1940``), ``start_year`` (only
    the base's own: the model starts from its economy), ``end_year``; regimes may start from one another in any
    order; each
    ``[[schedule]]`` has ``from`` (a year, each at most once and none after ``end_year``) and ``regime`` (built-in
    or defined in the file). Raises :class:`SimulateError` naming the file and the key of the first problem.
    """
    from needplan.economy.io import not_a_file, not_utf8_at, present

    p = Path(path)
    if present(p) and not p.is_dir() and (problem := not_a_file(p)) is not None:  # (fuzzing: a FIFO waited)
        raise SimulateError(f"{p}: {problem.message}")
    try:
        # A byte-order mark is no TOML, but editors write it; economy.toml takes it too (fuzzing)
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SimulateError(f"{p}: no such file") from None
    except UnicodeDecodeError as exc:  # (a helper's audit: it said "... can't decode byte 0xe9 in position 5")
        line, message = not_utf8_at(exc)
        raise SimulateError(f"{p} line {line}: {message}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SimulateError(f"{p}: not valid TOML: {exc}") from None
    where = f"{p}: "
    known_keys = {"name", "description", "base", "start_year", "end_year", "regimes", "schedule"}
    for key in data:
        if key not in known_keys:
            raise SimulateError(f"{where}{key}: unknown key (keys: {', '.join(sorted(known_keys))})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SimulateError(f"{where}name: is missing or not a string")
    if not name.isprintable():  # a line break in it broke summary.md's heading and compare.md's table
        raise SimulateError(f"{where}name: must be one line of printable text, got {name!r}")
    if name in SCENARIOS:  # (fuzzing: its summary and charts then carried the built-in's label and record)
        raise SimulateError(f"{where}name: {name!r} is a built-in scenario's name: give yours another")
    base_name = data.get("base", "ussr-1913-1940")
    if not isinstance(base_name, str) or base_name not in SCENARIOS:
        raise SimulateError(f"{where}base: unknown scenario {base_name!r} (known: {', '.join(SCENARIOS)})")
    base = SCENARIOS[base_name]
    regimes = dict(base.regimes)
    user_regimes = data.get("regimes", {})
    if not isinstance(user_regimes, dict):
        raise SimulateError(f"{where}regimes: must be a table of regimes")
    for rname in user_regimes:
        if not rname.strip():
            raise SimulateError(f"{where}regimes: a regime needs a name")
        if not rname.isprintable():  # (fuzzing: a line break split summary.md's schedule and series.csv's rows)
            raise SimulateError(f"{where}regimes: a regime's name must be one line of printable text, got {rname!r}")
        if rname in base.regimes:
            # Redefining one would change the years the base scenario runs it too, under the same label (fuzzing:
            # [regimes.nep] based on war_communism ran 1921-28 as war communism, labelled nep).
            raise SimulateError(f"{where}regimes.{rname}: a built-in regime has that name: give yours another "
                                f"(base = {rname!r} starts it from the built-in one)")
    pending = dict(user_regimes)
    while pending:  # each regime once its base is known: a file may define them in any order
        def base_of(r: str) -> object:
            table = pending[r]
            return table.get("base", "nep") if isinstance(table, dict) else None

        # A base that is no regime's name (a list: a review's traceback) is refused by regime_from_mapping.
        ready = [r for r in pending if not isinstance(base_of(r), str) or base_of(r) not in pending]
        if not ready:
            chain = [next(iter(pending))]
            while (b := base_of(chain[-1])) not in chain:  # every one pending has a pending base: a cycle ahead
                chain.append(str(b))
            cycle = chain[chain.index(str(b)):]
            raise SimulateError(f"{where}regimes.{cycle[0]}.base: "
                                + (f"{cycle[0]} starts from itself" if len(cycle) == 1 else
                                   f"regimes {' -> '.join([*cycle, cycle[0]])} start from each other")
                                + ": one of them must start from a built-in regime")
        for rname in ready:
            regimes[rname] = regime_from_mapping(rname, pending.pop(rname), f"{p}: regimes.{rname}", regimes)
    entries = data.get("schedule", [])
    if not isinstance(entries, list):
        raise SimulateError(f"{where}schedule: must be an array of tables ([[schedule]])")
    start = _int(data, "start_year", where, base.start_year)
    end = _int(data, "end_year", where, base.end_year)
    if start != base.start_year and FIRST_YEAR <= start <= LAST_YEAR:  # (fuzzing: 1929 began with 1913's economy,
        # every index rebased to 1929; a year out of range is the Scenario's to refuse)
        later = (f": keep start_year = {base.start_year} and give your regime from = {start} in [[schedule]] (the "
                 f"years before follow {base_name})" if start > base.start_year else "")
        raise SimulateError(f"{where}start_year: the simulation starts from the economy of {base.start_year}, "
                            f"calibrated to the record, so it cannot start in {start}{later}")
    user: list[tuple[int, str]] = []
    first_entry: dict[int, int] = {}
    for i, entry in enumerate(entries):
        ew = f"{where}schedule[{i}]."
        if not isinstance(entry, dict):
            raise SimulateError(f"{where}schedule[{i}]: must be a table with from and regime")
        for key in entry:
            if key not in ("from", "regime"):
                raise SimulateError(f"{ew}{key}: unknown key (keys: from, regime)")
        year = _int(entry, "from", ew)
        if year in first_entry:
            raise SimulateError(f"{ew}from: {year} is also schedule[{first_entry[year]}].from (one regime per year: "
                                "give each from year once)")
        if year > end:
            raise SimulateError(f"{ew}from: {year} is after end_year {end} (the entry would never be in force)")
        if year < start:  # (fuzzing: 1829 for 1929 ran the regime from the start, replacing the base's history)
            raise SimulateError(f"{ew}from: {year} is before start_year {start} (to run the regime from the start, "
                                f"give from = {start})")
        first_entry[year] = i
        regime = entry.get("regime")
        if not isinstance(regime, str):
            raise SimulateError(f"{ew}regime: is missing or not a string")
        if regime not in regimes:
            raise SimulateError(f"{ew}regime: unknown regime {regime!r} (known: {', '.join(sorted(regimes))})")
        user.append((year, regime))
    user.sort()
    first_user = user[0][0] if user else base.end_year + 1
    # The base's entries before the first user entry, and only those that come into force by end_year.
    schedule = tuple(e for e in base.schedule if e[0] < first_user and e[0] <= end) + tuple(user)
    description = data.get("description", f"user scenario based on {base_name}")
    if not isinstance(description, str):
        raise SimulateError(f"{where}description: must be a string")
    try:
        return Scenario(name, description, start, end, schedule, regimes, dict(base.shocks))
    except SimulateError as exc:
        raise SimulateError(f"{where}{exc}") from None
