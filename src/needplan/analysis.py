"""Input-output analysis of an economy: the Leontief core applied with labels, results as pandas objects.

A thin layer: it picks the technology for a technique choice, calls the pure functions of
:mod:`needplan.leontief`, and labels the results by good id. It never solves anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from needplan import leontief
from needplan.data.names import LEONTIEF_METHODS
from needplan.economy.model import Choice, Economy, FloatArray
from needplan.economy.validate import unproductive
from needplan.errors import NeedplanError


class AnalysisError(NeedplanError, ValueError):
    """A Leontief analysis that cannot be computed: ``I - A`` singular, or results beyond double precision."""


@dataclass(frozen=True)
class Analysis:
    """Leontief analysis of one economy and technique choice.

    ``gross_output``: units of each product per period to deliver ``final_demand``, made by the chosen
    techniques (joint products are credited through the net technology matrix). ``embodied``: products x
    primary goods, primary units per unit of product ("labour values"). ``multipliers``: type I output
    multipliers per product. ``solver``: the combined report of the solves.
    """

    economy_name: str
    techniques: pd.Series
    final_demand: pd.Series
    gross_output: pd.Series
    embodied: pd.DataFrame
    multipliers: pd.Series
    solver: leontief.SolveReport


def analyze(
    economy: Economy,
    final_demand: pd.Series | None = None,
    *,
    choice: Choice = None,
    method: leontief.Method = "auto",
    tol: float = 1e-12,
    allow_negative: bool = False,
) -> Analysis:
    """Gross output, embodied primary inputs and output multipliers of ``economy``.

    ``final_demand`` is a Series indexed by product id (missing products count as zero; ids that are not
    products raise ``ValueError``); by default the economy's need targets. ``choice`` picks one technique per
    product (see :meth:`Economy.resolve_choice`). Raises :class:`AnalysisError` where the system cannot be
    solved, is not solved to tolerance (the report would say ``converged=False``), or a result is not finite (a
    final demand too large for double precision), rather than return it. A gross output that comes out negative
    beyond rounding (joint products made beyond what is used of them, or a negative final demand) is refused the
    same way unless ``allow_negative`` is true: Leontief analysis has no surplus to leave unused, so it runs a
    technique backwards, which no economy can (``needplan plan`` finds a plan then).
    """
    if method not in LEONTIEF_METHODS:  # (fuzzing: "foo" ran as auto, where the CLI refuses it)
        raise ValueError(f"method must be {', '.join(LEONTIEF_METHODS[:-1])} or {LEONTIEF_METHODS[-1]}, "
                         f"got {method!r}")
    if final_demand is not None and not isinstance(final_demand, pd.Series):
        raise TypeError(f"final_demand must be a pandas Series indexed by product id, got "
                        f"{type(final_demand).__name__}")
    tech = economy.technology(choice)
    # Validation checks each product's first technique (unless built with check_productive=False); another choice
    # may use more than it makes, and a direct solve then gave negative labour values without a word (a helper's
    # fuzzing: a technique using 2 units of its own product per unit, embodied labour -1). Column or row sums below
    # one, as in every imported and generated economy, decide it without a solve.
    why = unproductive(economy, choice, tech)
    if why is not None:
        raise AnalysisError(f"{economy.name}: not computed: the economy is not productive with the techniques "
                            f"{'chosen' if choice else 'of each product first listed'}: {why}, so no net surplus is "
                            "possible")
    product_ids = economy.goods[tech.products]
    if final_demand is None:
        d = economy.target[tech.products].copy()
    else:
        unknown = final_demand.index.difference(product_ids)
        if len(unknown):
            raise ValueError(f"final demand names goods that are not products: {', '.join(map(str, unknown[:5]))}")
        d = final_demand.reindex(product_ids, fill_value=0.0).to_numpy(dtype=np.float64)
    try:
        x, rep_x = leontief.gross_output(tech.A, d, tol=tol, method=method)
        emb, rep_e = leontief.embodied_inputs(tech.A, tech.R, tol=tol, method=method)
        mult, rep_m = leontief.output_multipliers(tech.A, tol=tol, method=method)
    except leontief.NotProductiveError as exc:
        raise AnalysisError(f"{economy.name}: not computed: {exc}") from None
    if not np.all(np.isfinite(x)):
        big = int(np.argmax(d))
        raise AnalysisError(f"{economy.name}: gross output not computed: it is beyond double precision (the largest "
                            f"final demand is {d[big]:g} of {str(economy.goods[tech.products[big]])!r}; count it in "
                            "a larger unit)")
    if not (np.all(np.isfinite(emb)) and np.all(np.isfinite(mult))):
        raise AnalysisError(f"{economy.name}: embodied inputs not computed: they are beyond double precision (the "
                            "amounts per unit of product are too large; count products in smaller units)")
    report = rep_x.combine(rep_e).combine(rep_m)
    if not report.converged:  # (before the signs: an unconverged iterate read -231 where the answer is -5.02e4)
        # Fuzzing: a barely productive economy under method="neumann" gave a gross output of 90 for 10^9.
        hint = ("the Neumann iteration does not converge in time on a barely productive economy; method 'direct' "
                "or 'auto' solves it" if "neumann" in report.method and "direct" not in report.method
                else "the system is too ill-conditioned for double precision")
        raise AnalysisError(f"{economy.name}: not computed: the relative residual is {report.residual:.1e} after "
                            f"{report.iterations} iterations ({report.method}): {hint}")
    if not allow_negative:
        _require_nonnegative(economy.name, x, d, product_ids)
    primary_ids = economy.goods[tech.primaries]
    return Analysis(
        economy_name=economy.name,
        techniques=pd.Series(economy.techniques[tech.techniques], index=product_ids, name="technique"),
        final_demand=pd.Series(d, index=product_ids, name="final_demand"),
        gross_output=pd.Series(x, index=product_ids, name="gross_output"),
        embodied=pd.DataFrame(np.asarray(emb).reshape(len(product_ids), len(primary_ids)), index=product_ids,
                              columns=primary_ids),
        multipliers=pd.Series(mult, index=product_ids, name="output_multiplier"),
        solver=report,
    )


def negative_values_note(economy: Economy, result: Analysis) -> str | None:
    """A sentence on the products whose embodied inputs or output multipliers come out negative, or ``None``.

    With joint products a technique is credited with its by-products at what they embody when made on their
    own; the credit can exceed what the technique itself uses, so a product can embody a negative amount of
    labour (Steedman's objection to labour values under joint production) and its multiplier can be negative.
    These are accounting values of one technique choice, not labour a plan saves: ``needplan plan`` says what a
    plan uses. Names the products (the first five) and the chosen techniques that make a by-product.
    """
    emb = result.embodied.to_numpy()
    tiny = 1e-9 * np.max(np.abs(emb), axis=0, initial=0.0)  # rounding, per primary (in its own unit)
    low = (emb < -tiny).any(axis=1) | (result.multipliers.to_numpy() < -1e-9)
    if not low.any():
        return None
    products = result.gross_output.index[low]
    parts = []
    for product in products[:5]:
        row = result.embodied.loc[product]
        values = ", ".join(f"{c} {row[c]:.6g}" for c in row.index[row.to_numpy() < -tiny])
        parts.append(f"{product} ({values or f'multiplier {result.multipliers[product]:.4g}'})")
    more = f" and {len(products) - 5} more" if len(products) > 5 else ""
    chosen = economy.techniques.get_indexer(result.techniques.to_numpy())
    make = economy.make[:, chosen].tocoo()
    byproduct = make.row != economy.technique_good[chosen][make.col]
    joint = [f"{economy.techniques[chosen[k]]} also makes {economy.goods[make.row[i]]}"
             for i, k in zip(np.flatnonzero(byproduct), make.col[byproduct], strict=True)]
    why = (f" ({'; '.join(joint[:3])}{' ...' if len(joint) > 3 else ''})" if joint else "")
    return (f"negative values for {', '.join(parts)}{more}: with joint products a technique is credited with its "
            f"by-products at what they embody when made on their own{why}, and the credit can exceed its own inputs "
            "(Steedman's objection to labour values under joint production). These are accounting values of this "
            "technique choice, not inputs any plan saves; `needplan plan` gives what a plan uses.")


def _require_nonnegative(name: str, x: FloatArray, d: FloatArray, product_ids: pd.Index) -> None:
    """Raise :class:`AnalysisError` naming the products whose gross output ``x`` is negative beyond rounding."""
    scale = max(float(np.max(np.abs(x), initial=0.0)), 1.0)
    bad = np.flatnonzero(x < -1e-9 * scale)
    if not len(bad):
        return
    bad = bad[np.argsort(x[bad], kind="stable")]
    names = ", ".join(f"{str(product_ids[i])!r} ({x[i]:.3g})" for i in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    why = ("the final demand is negative for some products" if np.any(d < 0) else
           "joint products are made beyond what the needs and production use of them")
    raise AnalysisError(
        f"{name}: gross output comes out negative for {names}{more}: {why}, and Leontief analysis (one technique "
        "per product, no surplus left unused) has no answer then; `needplan plan` finds one")
