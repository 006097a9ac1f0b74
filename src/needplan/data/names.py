"""The choices of the plan engine, the importers and the generator, in a module that imports nothing heavy: the
command line names them in its options' help, and ``needplan --help`` loads no numpy or pandas. Their modules
re-export them: :data:`needplan.plan.OBJECTIVES`, :data:`needplan.plan.SOLVERS`, :data:`needplan.plan.fill.FILLS`,
:data:`needplan.data.generate.FAMILIES`, :data:`needplan.data.sut.FORMATS`, :data:`needplan.data.sut.LABOUR_MEASURES`.
"""

from __future__ import annotations

from typing import Literal

Objective = Literal["ray", "min-labour", "harmony"]
OBJECTIVES: tuple[Objective, ...] = ("ray", "min-labour", "harmony")
"""The plan engine's objectives (:func:`needplan.plan.build_plan`)."""

SolverName = Literal["auto", "highs", "fast"]
SOLVERS: tuple[SolverName, ...] = ("auto", "highs", "fast")
"""The plan engine's solvers."""

FILLS = ("leximin", "least-labour")
"""The ways to fill a ray plan: the needs the bottlenecks do not hold back raised in turn, then the least labour; or
every need at the ray's fulfilment with the least labour."""

LEONTIEF_METHODS = ("auto", "neumann", "direct")
"""How :func:`needplan.leontief.solve` solves a Leontief system."""

TABLE_FORMATS = ("csv", "parquet")
"""The formats of an economy folder's tables."""

Family = Literal["uniform", "structured"]
FAMILIES: tuple[Family, ...] = ("uniform", "structured")
"""The families of synthetic economies :mod:`needplan.data.generate` makes."""

Format = Literal["ine", "scb", "csv"]
FORMATS = ("ine", "scb", "csv")
"""The sources of supply-use tables :func:`needplan.data.sut.import_sut` reads."""

LABOUR_MEASURES = ("fte", "persons", "jobs", "hours", "compensation")
"""The measures of labour a supply-use table may give per industry."""

Assumption = Literal["industry", "product"]
ASSUMPTIONS: tuple[Assumption, ...] = ("industry", "product")
"""How an import turns supply and use into techniques: industry or product technology."""

NeedWeights = Literal["value", "equal"]
NEED_WEIGHTS: tuple[NeedWeights, ...] = ("value", "equal")
"""How an import weighs the needs (the harmony objective's ``weight_g``): ``value``, in proportion to the
target's value (mean 1); ``equal``, 1 each."""

PLAN_TABLES = ("activity", "products", "primaries", "needs", "bottlenecks", "constraints", "conflict", "summary")
"""The tables a plan folder holds (``needplan plan --out``), one CSV each, beside ``plan.json``."""

FIGURE_THEMES = ("quantity_vs_quality", "herds", "grain_vs_procurement", "wages_and_famine",
                 "bureaucracy_and_conflict")
"""The simulator's figures, one PNG each (:data:`needplan.simulate.plots.THEMES`)."""

OTHER_OUTPUTS = ("plan.json", "series.csv", "series.parquet", "series.png", "primaries_by_product.csv", "summary.md",
                 "runs.csv", "runs.parquet", "bands.csv", "compare.csv", "compare.md")
"""The other files needplan's commands write into an output folder (``sut-series``, ``simulate``, ``compare``)."""
