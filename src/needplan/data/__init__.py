"""Data shipped with needplan (the demo economy, Spain 2019), the importers and the generator."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_folder() -> Path:
    """The folder of the small demo economy bundled with needplan (wherever it is installed):
    ``needplan.read_economy(needplan.data.demo_folder())``."""
    return Path(str(resources.files("needplan") / "data" / "demo"))
