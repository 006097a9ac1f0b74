"""CLI command ``needplan plan``: parse, build and solve the plan, print it (or its JSON), write its tables."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from needplan.cli import Command, check_out, flag, one_of, writing
from needplan.cli.economy_commands import Folder, load, stdout_console
from needplan.data.names import FILLS, OBJECTIVES, SOLVERS

if TYPE_CHECKING:
    from needplan.economy.model import Economy
    from needplan.plan import PlanModel, PlanResult


def build_plan(economy: Economy, objective: str, labour_weights: dict[str, float] | None = None) -> PlanModel:
    """:func:`needplan.plan.build_plan`, imported on the first call (``needplan --help`` loads no numpy); a name of
    this module, so that a test can replace it to see that ``plan`` refuses its ``--out`` before building."""
    from needplan.plan import build_plan as build

    return build(economy, objective, labour_weights=labour_weights)


def labour_weights(given: list[str] | None) -> dict[str, float] | None:
    """``--labour-weight KIND=WEIGHT`` options as a mapping (None where none is given); the plan engine checks the
    kinds and the weights themselves. Raises :class:`~needplan.plan.errors.PlanInputError` for an option without
    ``=``, a weight that is not a number, or a kind given twice."""
    from needplan.plan.errors import PlanInputError

    if not given:
        return None
    weights: dict[str, float] = {}
    for text in given:
        kind, sep, value = text.rpartition("=")
        kind = kind.strip()
        if not sep or not kind:
            raise PlanInputError(f"--labour-weight must be KIND=WEIGHT (labour_skilled=2), got {text!r}")
        try:
            weight = float(value)
        except ValueError:
            raise PlanInputError(f"--labour-weight {text!r}: the weight {value.strip()!r} is not a number") from None
        if kind in weights:
            raise PlanInputError(f"--labour-weight: {kind!r} given twice")
        weights[kind] = weight
    return weights


def plan_cmd(
    folder: Folder,
    objective: Annotated[str, typer.Option(metavar=one_of(OBJECTIVES), help=(
        "ray: the largest share of every target met together (Kantorovich; needs beyond it are made along, not "
        "aimed at); min-labour: every target met with the least labour; harmony: Cockshott's sum of each need's "
        "satisfaction, diminishing above its target (a need may get nothing where it costs too much)"))] = "ray",
    solver: Annotated[str, typer.Option(metavar=one_of(SOLVERS), help="the solver: HiGHS, ours, or by size")] = "auto",
    tolerance: Annotated[float, typer.Option(help="relative tolerance on the objective, balances and duals")] = 1e-6,
    out: Annotated[Path | None, typer.Option(help=(
        "write the plan as tidy CSV tables into this folder (an infeasible or stopped run's too: its conflict or "
        "best plan, exit 1)"))] = None,
    overwrite: Annotated[bool, flag("--overwrite", "replace the --out folder if it exists (by an optimal plan only)")
                         ] = False,
    as_json: Annotated[bool, flag("--json", "print one JSON object instead of tables")] = False,
    limit: Annotated[int, typer.Option(min=0, help="rows of each table and bottlenecks to print")] = 10,
    time_limit: Annotated[float | None, typer.Option(
        help="seconds per solver call; when reached the status is 'stopped' (with the best plan found, if any, "
             "printed and written) and the exit code 1")] = None,
    fill: Annotated[str | None, typer.Option(metavar=one_of(FILLS), help=(
        "ray only: of the plans with the best fulfilment, 'leximin' takes the one that raises the needs the "
        "bottlenecks do not hold back as far as they go, in turn, then uses the least labour; 'least-labour' the "
        "one that keeps every need at that fulfilment (joint products may make more) with the least labour; without "
        "it the solver returns any of them"))] = None,
    labour_weight: Annotated[list[str] | None, typer.Option(
        "--labour-weight", metavar="KIND=WEIGHT", help=(
            "min-labour only: the weight of one unit of a labour kind in the total minimised (default 1 each); "
            "repeat for several kinds"))] = None,
) -> None:
    """Compute the plan that best satisfies the needs; explain what binds. Exit 1 when there is no plan."""
    from needplan.economy.io import present
    from needplan.plan.errors import PlanInfeasibleError, PlanInputError

    if objective not in OBJECTIVES:
        raise PlanInputError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if solver not in SOLVERS:
        raise PlanInputError(f"--solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if fill is not None and fill not in FILLS:
        raise PlanInputError(f"--fill must be one of {', '.join(FILLS)}, got {fill!r}")
    if fill and objective != "ray":
        raise PlanInputError(f"--fill applies to --objective ray only, not to {objective}")
    if time_limit is not None and not time_limit > 0:  # also refuses nan
        raise PlanInputError(f"--time-limit must be a number of seconds above 0, got {time_limit}")
    weights = labour_weights(labour_weight)
    if weights and objective != "min-labour":
        raise PlanInputError(f"--labour-weight applies to --objective min-labour only, not to {objective}")
    check_out(out, folder, overwrite=overwrite)  # before the solve, not after it
    economy = load(folder)
    model = build_plan(economy, objective, weights)
    with Console(stderr=True).status(f"solving ({objective})", spinner="dots"):
        result = model.solve(solver, tolerance, time_limit, fill=fill)
    if out is not None and (result.status == "optimal" or not present(out)):
        with writing(out):
            result.write(out, overwrite=overwrite)
    elif out is not None:
        # A run that ends in error (infeasible, stopped) does not replace what is there: it may be the plan of an
        # earlier, good run (fuzzing: a time limit of 1e-9 s replaced a folder with empty tables).
        typer.echo(f"{out} kept as it was: this run ended {result.status} (write it to a new folder to keep it)",
                   err=True)
    if as_json:
        result.write_json(sys.stdout)
        sys.stdout.write("\n")
    else:
        print_plan(result, economy.name, limit)
    if result.status == "infeasible":
        raise PlanInfeasibleError(result.explanation)
    if result.status != "optimal":
        why = result.solver.get("message", "") if result.has_plan else result.explanation  # it names the message
        raise PlanInfeasibleError(f"status {result.status}: {why}")


def print_plan(result: PlanResult, name: str, limit: int) -> None:
    """The plan as readable tables and sentences on standard output."""
    import numpy as np
    import pandas as pd

    console = stdout_console()
    # Ids, names and messages naming them go in as Text: taken as written, never as markup or emoji codes.
    weights = str(result.solver.get("labour_weights") or "")
    weighted = f" (labour weighted: {weights})" if any(not w.endswith("=1") for w in weights.split("; ") if w) else ""
    console.print(Text.assemble((name, "bold"), f": objective {result.objective_name}{weighted}, status ",
                                (result.status, "bold")))
    if not result.has_plan:  # why goes to standard error, once, as the command's error line
        if len(result.conflict):
            # The limits first, then the targets, ``limit`` rows in all: a shortage of one labour kind conflicts with
            # hundreds of targets (850 at 3,000 goods), each in the result's conflict table (conflict.csv with --out).
            shown = result.conflict.sort_values("kind", key=lambda k: k == "target", kind="stable")
            more = len(shown) - limit
            table = Table(title="smallest conflicting set of constraints",
                          caption=f"and {more:,} more (every one in conflict.csv with --out)" if more > 0 else None)
            for col in ("constraint", "kind", "bound"):
                table.add_column(col)
            for r in shown.head(limit).itertuples():
                table.add_row(Text(str(r.constraint)), Text(str(r.kind)), f"{r.bound:,.6g}")
            console.print(table)
        return
    fulfil = "" if result.fulfilment is None else f", fulfilment {_percent(result.fulfilment)}"
    if result.fulfilment is not None and result.objective_name != "ray" and result.median_fulfilment is not None:
        # Only ray holds every need at one fulfilment; elsewhere the least fulfilled need is one end of a spread.
        fulfil += f" (the least fulfilled need; the median need {_percent(result.median_fulfilment)})"
    console.print(f"objective value {result.objective:.8g}{fulfil}")
    idx = result.indices
    console.print(f"indices (need-weighted mean of net output / target): gross quantity {_percent(idx['quantity'])}, "
                  f"quality-adjusted {_percent(idx['quality_adjusted'])}")
    # Nothing to the plan's tolerance (fuzzing, Spain 2010: a need at 1.1e-9 of its target by HiGHS, -9e-13 by fast,
    # counted by one solver and not the other beside a threshold of 1e-9)
    nothing = (int((result.needs["fulfilment"] <= float(result.solver.get("tolerance", 0.0))).sum())
               if result.objective_name == "harmony" else 0)
    if nothing:  # (a newcomer: "harmony silently gives some needs nothing")
        console.print(f"note: {nothing:,} of {len(result.needs):,} needs {'gets' if nothing == 1 else 'get'} nothing: "
                      "the harmony gives their labour and resources to needs that gain more from them (a shortfall "
                      "costs at most H(-1) = -1.5 a need, times its weight)")
    table = Table(title="needs")
    for col in ("need", "target", "net output", "quality-adj.", "quantity index", "quality index", "shadow price"):
        table.add_column(col, justify="left" if col == "need" else "right")
    # The first rows only, then their products: sorting or joining all 10^6 rows took 180 MiB at 10^6 goods.
    # Least fulfilled first; ties to 1e-9 in the needs' own order, not by rounding noise (a table of needs all at
    # 70.00% listed other needs after a change in the 13th digit).
    order = pd.Series(np.round(result.needs["fulfilment"].to_numpy(), 9), index=result.needs.index)
    needs = result.needs.loc[order.nsmallest(limit, keep="first").index]
    needs = needs.join(result.products.loc[needs.index, ["net_output", "quality_adjusted"]])
    for good, r in needs.iterrows():
        table.add_row(Text(str(good)), f"{r.target:,.6g}", _amount(r.net_output, r.target),
                      _amount(r.quality_adjusted, r.target), _percent(r.quantity_index), _percent(r.quality_index),
                      f"{r.shadow_price:.4g}")
    console.print(table)
    table = Table(title="activity (largest first)")
    for col in ("technique", "makes", "activity", "capacity", "utilisation"):
        table.add_column(col, justify="left" if col in ("technique", "makes") else "right")
    for tech, r in result.activity.nlargest(limit, "activity").iterrows():
        cap = "unlimited" if r.capacity == float("inf") else f"{r.capacity:,.6g}"
        util = "" if r.utilisation != r.utilisation else f"{r.utilisation:.1%}"
        table.add_row(Text(str(tech)), Text(str(r.good)), f"{r.activity:,.6g}", cap, util)
    console.print(table)
    if len(result.bottlenecks):
        console.print("[bold]bottlenecks[/bold] (ranked by effect: % objective per 1% more)")
        for r in result.bottlenecks.head(limit).itertuples():
            console.print(_bottleneck(r))
    elif result.explanation.startswith("no bottleneck is named"):  # a stopped plan whose prices are not verified
        console.print(Text(f"bottlenecks: {result.explanation}"))
    else:
        console.print(Text("bottlenecks: none binds" + _used_up(result)))
    res = result.residuals
    console.print(f"residuals (largest relative violation, recomputed from the plan): balance {res['balance']:.1e}, "
                  f"resources {res['resources']:.1e}, capacity {res['capacity']:.1e}")
    s = result.solver
    note = f"; {s['note']}" if s.get("note") else ""
    console.print(Text(f"solver: {s['name']} ({s['message']}), {s['iterations']} iterations, {s['seconds']:.3f} s, "
                       f"dual residual {s.get('dual_residual', float('nan')):.1e}, "
                       f"duality gap {s.get('duality_gap', float('nan')):.1e}{note}"))


def _used_up(result: PlanResult) -> str:
    """Where no limit has a price, those the plan uses up all the same (fuzzing: min-labour on Spain 2019 said
    "none binds" with its labour at 18,490,200 of 18,490,200: the least labour for the targets is all there is)."""
    from needplan.plan.explain import is_used_up

    if result.status != "optimal":
        return ""  # a stopped plan's prices are not known to be 0
    prim, act = result.primaries, result.activity
    full = prim[is_used_up(prim["used"].to_numpy(), prim["available"].to_numpy())]
    caps = act[is_used_up(act["activity"].to_numpy(), act["capacity"].to_numpy())]
    names = [f"{g} ({r.used:,.6g} of {r.available:,.6g})" for g, r in full.iterrows()]
    names += [f"the capacity of {t} ({r.activity:,.6g} of {r.capacity:,.6g})" for t, r in caps.head(5).iterrows()]
    if not names:
        return ""
    more = f" and {len(caps) - 5} more capacities" if len(caps) > 5 else ""
    return f"; used up all the same, at a price of 0: {', '.join(names)}{more}"


def _bottleneck(r: Any) -> Text:
    """One bottleneck line of :func:`print_plan` (a row of ``PlanResult.bottlenecks``), its constraint in bold."""
    return Text.assemble(f"  {r.kind} ", (str(r.constraint), "bold"), f": {r.explanation}")


def demo_cmd() -> None:
    """The main job on the bundled economies: plan the small demo economy, then Spain 2019 (INE, real data)."""
    import pandas as pd

    from needplan.analysis import analyze
    from needplan.data import demo_folder
    from needplan.data.sut import shipped_economy
    from needplan.economy import read_economy

    console = stdout_console()
    economy = read_economy(demo_folder())
    console.print(Text.assemble((economy.name, "bold"), f": {economy.description}\n{economy!r}\n"))
    print_plan(build_plan(economy, "ray").solve("auto", 1e-6), economy.name, limit=10)
    spain = shipped_economy("spain_2019")
    # (rich draws a rule without a title in "─" whatever the encoding: a traceback under cp1252; fuzzing)
    console.rule(characters="─" if console.encoding.startswith("utf") else "-")
    console.print(Text.assemble("\n", ("Spain 2019", "bold"), ", a real economy: the INE supply-use table shipped "
                                f"with needplan (million EUR, labour in full-time equivalents)\n{spain!r}\n"))
    result = build_plan(spain, "ray").solve("auto", 1e-6)
    console.print(f"the largest uniform expansion of the table's final demand that 2019 employment allows: "
                  f"status [bold]{result.status}[/bold], fulfilment {result.fulfilment:.4%} (the table's own "
                  f"final demand is what its employment produced, so 100% is the import's identity check)")
    for r in result.bottlenecks.head(1).itertuples():
        console.print(_bottleneck(r))
    embodied = analyze(spain).embodied["labour_fte"]
    names = pd.Series(spain.good_name, index=spain.goods)
    table = Table(title="labour embodied per million EUR of final use, most and least labour-intensive")
    for col in ("product", "FTE per million EUR"):
        table.add_column(col, justify="left" if col == "product" else "right")
    ranked = embodied.sort_values(ascending=False)
    for good in [*ranked.index[:5], *ranked.index[-3:]]:
        table.add_row(Text(f"{names[good]} ({good})"), f"{ranked[good]:.2f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("plan", cls=Command)(plan_cmd)
    app.command("demo", cls=Command)(demo_cmd)


def _percent(value: float | None) -> str:
    """``value`` as a percentage to two decimals; rounding noise below that shows as 0.00%, never -0.00%."""
    if value is None:
        return "none"
    return f"{0.0 if abs(value) < 5e-5 else value:.2%}"


def _amount(value: float, scale: float) -> str:
    """``value`` to 6 significant digits, or 0 where it is below 1e-9 of ``scale`` (a need's net output of 4.5e-13
    beside a target of 300 is the rounding of the flows it is the difference of, not an output)."""
    return "0" if abs(value) <= 1e-9 * abs(scale) else f"{value:,.6g}"
