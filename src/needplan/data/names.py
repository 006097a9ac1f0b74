"""The choices of the importers and the generator, in a module that imports nothing heavy: the command line names
them in its options' help, and ``needplan --help`` loads no numpy or pandas. Their modules re-export them:
:data:`needplan.data.generate.FAMILIES`, :data:`needplan.data.sut.FORMATS`, :data:`needplan.data.sut.LABOUR_MEASURES`.
"""

from __future__ import annotations

from typing import Literal

Family = Literal["uniform", "structured"]
FAMILIES: tuple[Family, ...] = ("uniform", "structured")
"""The families of synthetic economies :mod:`needplan.data.generate` makes."""

Format = Literal["ine", "scb", "csv"]
FORMATS = ("ine", "scb", "csv")
"""The sources of supply-use tables :func:`needplan.data.sut.import_sut` reads."""

LABOUR_MEASURES = ("fte", "persons", "jobs", "hours", "compensation")
"""The measures of labour a supply-use table may give per industry."""
