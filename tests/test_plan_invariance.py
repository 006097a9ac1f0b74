"""Labels, not positions: an economy whose tables list their rows in another order plans the same.

Every table of the folder (goods, techniques, inputs, outputs, resources, needs) is shuffled with a seeded
generator and read back; the plan must agree by label with the plan of the original folder. A reader or builder
that aligned two tables by position would pair a technique with another's inputs and fail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needplan import read_economy
from needplan.data.generate import generate_economy
from needplan.economy.io import write_economy, write_tables
from needplan.economy.model import Economy
from needplan.plan import build_plan


def _shuffled(economy: Economy, folder: Path, seed: int) -> Economy:
    rng = np.random.default_rng(seed)
    src = write_economy(economy, folder / "original")
    tables = {p.stem: pd.read_csv(p, keep_default_na=False, dtype=str) for p in src.glob("*.csv")}
    out = folder / "shuffled"
    out.mkdir()
    (out / "economy.toml").write_text((src / "economy.toml").read_text())
    write_tables(out, {name: t.iloc[rng.permutation(len(t))] for name, t in tables.items()}, "csv")
    shuffled = read_economy(out)
    assert list(shuffled.goods) != list(economy.goods) and list(shuffled.techniques) != list(economy.techniques)
    # the same economy by label
    g = shuffled.goods.get_indexer(economy.goods)
    t = shuffled.techniques.get_indexer(economy.techniques)
    assert np.all(g >= 0) and np.all(t >= 0)
    for name in ("use", "make"):
        assert abs(getattr(shuffled, name)[g][:, t] - getattr(economy, name)).max() == 0, name
    for name in ("good_kind", "available", "target", "weight", "quality_weighted", "need_listed"):
        np.testing.assert_array_equal(getattr(shuffled, name)[g], getattr(economy, name), err_msg=name)
    for name in ("technique_capacity", "technique_quality", "technique_output"):
        np.testing.assert_array_equal(getattr(shuffled, name)[t], getattr(economy, name), err_msg=name)
    np.testing.assert_array_equal(g[economy.technique_good], shuffled.technique_good[t])
    return shuffled


@pytest.mark.parametrize("objective", ["ray", "min-labour", "harmony"])
def test_the_demo_plans_the_same_from_shuffled_tables(demo_dir: Path, tmp_path: Path, objective: str) -> None:
    original = read_economy(demo_dir)
    a = build_plan(original, objective).solve("highs", tolerance=1e-9)
    b = build_plan(_shuffled(original, tmp_path, 3), objective).solve("highs", tolerance=1e-9)
    assert a.status == b.status
    if not a.has_plan:
        assert set(a.conflict["constraint"]) == set(b.conflict["constraint"])
        return
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    pd.testing.assert_series_equal(b.activity["activity"].sort_index(), a.activity["activity"].sort_index(),
                                   rtol=1e-7, atol=1e-9)
    pd.testing.assert_series_equal(b.shadow_prices.sort_index(), a.shadow_prices.sort_index(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("solver", ["highs", "fast"])
def test_a_generated_economy_plans_the_same_from_shuffled_tables(tmp_path: Path, solver: str) -> None:
    original = generate_economy(300, family="structured", seed=5)
    a = build_plan(original, "ray").solve(solver, tolerance=1e-9)
    b = build_plan(_shuffled(original, tmp_path, 4), "ray").solve(solver, tolerance=1e-9)
    assert a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-8)
    # with alternative optima the activities may differ; the net output counted for each need may not fall short
    assert np.all(b.needs["counted"].sort_index() >= (1 - 1e-8) * b.objective * b.needs["target"].sort_index())
