"""Shared fixtures: the bundled demo economy and a writable copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "src" / "needplan" / "data" / "demo"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def demo_dir() -> Path:
    return DEMO


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A copy of the demo folder that a test may break."""
    dest = tmp_path / "economy"
    shutil.copytree(DEMO, dest)
    return dest
