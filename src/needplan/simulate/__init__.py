"""The simulator: plans executed by people, year by year, under the regimes of 1917–1940 and their alternatives.

``Model`` holds the agent arrays and the yearly loop; ``mechanisms`` the eight behavioural rules; ``regimes`` and
``scenarios`` the policy bundles and their schedules; ``run`` the published series; ``plots`` the figures. The
simulator calls the Leontief core; nothing below it imports the simulator.
"""

from needplan.simulate.model import BalanceError, Model, Params, check_balances
from needplan.simulate.regimes import BUILTIN_REGIMES, Regime, SimulateError
from needplan.simulate.run import SERIES_COLUMNS, run_ensemble, run_scenario
from needplan.simulate.scenarios import SCENARIOS, Scenario, get_scenario, load_scenario_file

__all__ = [
    "BUILTIN_REGIMES", "SCENARIOS", "SERIES_COLUMNS", "BalanceError", "Model", "Params", "Regime", "Scenario",
    "SimulateError", "check_balances", "get_scenario", "load_scenario_file", "run_ensemble", "run_scenario",
]
