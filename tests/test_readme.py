"""The README's examples are tests: its Python block runs, and .ci/run runs the README's test command."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README shows the Python API"
    namespace: dict[str, object] = {"print": lambda *a, **k: None}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    plan = namespace["plan"]
    assert plan.status == "optimal"  # type: ignore[attr-defined]


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"```sh\n(python3 -m venv .*?)\n```", README)
    assert len(commands) == 2, "exactly two set-up commands"
    demo, tests = commands
    assert "needplan demo" in demo and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
