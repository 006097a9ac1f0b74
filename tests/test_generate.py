"""The synthetic economy generator: valid, productive, feasible, deterministic; and ``needplan generate``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from needplan import leontief
from needplan.analysis import analyze
from needplan.cli import app
from needplan.data import generate as gen
from needplan.data.generate import GeneratorError, generate_economy, make_spec, write_generated
from needplan.economy import Economy, read_economy
from needplan.errors import EconomyError

runner = CliRunner()


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _witness_feasible(e: Economy) -> None:
    """The needs can be met within labour with first techniques, except where capacities force the alternative."""
    tech = e.technology()
    x, _ = leontief.gross_output(tech.A, e.target[tech.products], method="neumann")
    assert np.all(x >= 0)  # by-products may cover part of a need, so x >= target need not hold
    labour_first = tech.R @ x
    # The witness plan uses at most available / headroom; the first-technique plan differs from it only on the
    # few capacity-limited goods with an alternative, so it stays well inside the availability.
    assert np.all(labour_first <= e.available[tech.primaries] * 1.05)


@pytest.mark.parametrize("family", ["uniform", "structured"])
def test_generated_economy_is_valid_productive_and_converges(family: str) -> None:
    e = generate_economy(2000, family=family, seed=7)
    assert e.n_goods == 2000 + (1 if family == "uniform" else 2)
    tech = e.technology()
    productive, blocking = leontief.check_productive(tech.A)
    assert productive and blocking == ()
    # Column sums of |A| below one for every technique: productive whatever technique is chosen.
    net = (e.use - e.make)[e.products]
    net = net @ sp.diags(1.0 / e.technique_output)
    own = np.asarray(abs(net).sum(axis=0)).ravel() - 1.0  # remove the main product's own output
    assert own.max() < 0.95
    result = analyze(e, method="neumann")
    assert result.solver.converged and result.solver.method == "neumann"
    x, report = leontief.gross_output(tech.A, e.target[tech.products], method="neumann")
    assert 30 <= report.iterations <= 70, report
    assert np.all(x >= 0)
    _witness_feasible(e)


def test_uniform_family_shape() -> None:
    e = generate_economy(3000, inputs_per_good=8, seed=1)
    tech = e.technology()
    assert e.n_techniques == 3000 and len(e.labour) == 1
    per_good = np.diff(tech.A.tocsc().indptr)
    assert 7 <= per_good.mean() <= 8 and per_good.max() <= 8
    assert tech.A.diagonal().max() == 0  # suppliers are other goods
    capped = np.isfinite(e.technique_capacity)
    assert 0.07 < capped.mean() < 0.13
    assert 0.4 < e.need_listed[e.products].mean() < 0.6
    assert e.make.nnz == e.n_techniques  # no joint products in this family


def test_structured_family_has_hubs_alternatives_joint_products_and_two_labour_kinds() -> None:
    e = generate_economy(5000, seed=2, family="structured")
    assert len(e.labour) == 2
    products_with_alt = np.bincount(e.technique_good, minlength=e.n_goods)[e.products] > 1
    assert 0.15 < products_with_alt.mean() < 0.25
    joint = e.make.nnz - e.n_techniques
    assert 0.02 * e.n_techniques < joint < 0.07 * e.n_techniques
    users = np.diff(e.use[e.products].tocsr().indptr)  # techniques using each product
    assert users[0] > 0.3 * e.n_techniques  # "energy" is an input to a third of all techniques or more
    assert np.median(users) < 10
    alt = np.flatnonzero(np.bincount(e.technique_good) > 1)
    qualities = e.technique_quality[np.isin(e.technique_good, alt)]
    assert qualities.min() < 1.0 < qualities.max()  # alternatives differ in quality


def _capacity_ratio(e: Economy) -> tuple[np.ndarray, np.ndarray]:
    """Capacity of each capped first technique over what the first-technique plan for the needs asks of it."""
    tech = e.technology()
    x, _ = leontief.gross_output(tech.A, e.target[tech.products], method="neumann")
    cap = e.technique_capacity[tech.techniques]
    capped = np.isfinite(cap) & (x > 0)
    ratio = cap[capped] * e.technique_output[tech.techniques][capped] / x[capped]
    has_alt = np.bincount(e.technique_good, minlength=e.n_goods)[tech.products] > 1
    return ratio, has_alt[capped]


@pytest.mark.parametrize(("n", "seed"), [(1000, 3), (300, 7)])
def test_structured_needs_are_feasible_counted_at_quality(n: int, seed: int) -> None:
    """Needs count quality-adjusted output, so the witness plan must meet them at quality: every target can be met
    together (min-labour finds a plan; the ray reaches at least 1). Before the witness accounted for quality,
    1,000 goods with seed 3 reached 97.7% of every target and min-labour was infeasible."""
    from needplan.plan import build_plan

    e = generate_economy(n, family="structured", seed=seed)
    assert build_plan(e, "min-labour").solve("highs").status == "optimal"
    ray = build_plan(e, "ray").solve("highs")
    assert ray.status == "optimal" and ray.fulfilment >= 1.0


def test_capacities_bind_at_the_needs() -> None:
    """Without alternatives a capacity is 0-5% above the need-level output (the first limit a plan meets)."""
    ratio, has_alt = _capacity_ratio(generate_economy(3000, seed=4))
    assert ratio.size > 200 and not has_alt.any()
    assert ratio.min() >= 1.0 - 1e-12 and ratio.max() <= 1.05 + 1e-12


def test_capacities_force_alternatives() -> None:
    """With an alternative, the capped first technique cannot make all that the needs ask: it binds."""
    ratio, has_alt = _capacity_ratio(generate_economy(5000, family="structured", seed=4))
    assert has_alt.sum() > 50
    assert np.median(ratio[has_alt]) < 0.9


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    spec = make_spec(500, family="structured", seed=11)
    a = _folder_bytes(write_generated(tmp_path / "a", spec, fmt="parquet"))
    b = _folder_bytes(write_generated(tmp_path / "b", spec, fmt="parquet"))
    assert a == b
    c = _folder_bytes(write_generated(tmp_path / "c", make_spec(500, family="structured", seed=12), fmt="parquet"))
    assert c["inputs.parquet"] != a["inputs.parquet"]
    assert c["economy.toml"] != a["economy.toml"]


def test_parquet_and_csv_hold_the_same_economy(tmp_path: Path) -> None:
    spec = make_spec(300, seed=5, techniques_per_good=2)
    ec = read_economy(write_generated(tmp_path / "csv", spec, fmt="csv"))
    ep = read_economy(write_generated(tmp_path / "pq", spec, fmt="parquet"))
    assert list(ec.goods) == list(ep.goods) and list(ec.techniques) == list(ep.techniques)
    assert (ec.use != ep.use).nnz == 0 and (ec.make != ep.make).nnz == 0
    np.testing.assert_array_equal(ec.technique_capacity, ep.technique_capacity)
    assert ep.provenance["generator_seed"] == 5 and ep.provenance["generator_techniques_per_good"] == 2
    assert ec.techniques[0] == "t0000001" and ec.goods[0] == "g0000001" and "labour_1" in ec.goods


def test_default_format_is_parquet_above_ten_thousand_goods(tmp_path: Path) -> None:
    small = write_generated(tmp_path / "small", make_spec(50, inputs_per_good=3))
    assert (small / "inputs.csv").exists()
    big = write_generated(tmp_path / "big", make_spec(gen.PARQUET_ABOVE + 1, inputs_per_good=2))
    assert (big / "inputs.parquet").exists() and not (big / "inputs.csv").exists()


def test_tiny_economies_are_valid() -> None:
    for n in (1, 2, 3):
        for family in ("uniform", "structured"):
            e = generate_economy(n, family=family, seed=n)
            assert len(e.products) == n and e.need_listed.any()


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"n_goods": 0}, "goods must be at least 1"),
    ({"n_goods": 10, "inputs_per_good": -1}, "inputs per good"),
    ({"n_goods": 10, "labour_kinds": 0}, "labour kinds"),
    ({"n_goods": 10, "family": "cubist"}, "family must be one of uniform, structured"),
    ({"n_goods": 10, "capacity_share": 1.5}, "capacity share"),
    ({"n_goods": 10, "material_share": (0.5, 1.0)}, "material share"),
    ({"n_goods": 10, "labour_headroom": 0.9}, "labour headroom"),
    # (a helper's fuzzing: 10^20 of either, or 2^63 - 1 techniques per good, ended in a numpy traceback)
    ({"n_goods": 10, "labour_kinds": 10**20}, "labour kinds must be from 1 to 10,000"),
    ({"n_goods": 10, "techniques_per_good": 2**63 - 1}, "techniques per good must be from 1 to 10,000"),
    ({"n_goods": 100_000, "techniques_per_good": 5_000}, "goods times techniques per good must be at most 10"),
])
def test_bad_arguments_are_refused_by_name(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(GeneratorError, match=word):
        make_spec(**kwargs)  # type: ignore[arg-type]


def test_cli_writes_a_folder_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "eco"
    result = runner.invoke(app, ["generate", str(out), "--goods", "400", "--inputs-per-good", "6",
                                 "--techniques-per-good", "2", "--labour-kinds", "3", "--seed", "9",
                                 "--family", "structured"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    checked = runner.invoke(app, ["validate", str(out)])
    assert checked.exit_code == 0 and "400 products, 3 labour kinds" in checked.output
    e = read_economy(out)
    assert e.provenance["generator_family"] == "structured" and e.provenance["generator_inputs_per_good"] == 6
    # Existing folder: refused without --overwrite, replaced with it.
    again = runner.invoke(app, ["generate", str(out), "--goods", "20"])
    assert again.exit_code != 0
    said = again.output + str(again.exception)  # (fuzzing: it quoted the Python API to the command line)
    assert "pass --overwrite to replace it" in said and "overwrite=True" not in said
    assert read_economy(out).n_goods == 403
    replaced = runner.invoke(app, ["generate", str(out), "--goods", "20", "--overwrite", "--format", "parquet"])
    assert replaced.exit_code == 0, replaced.output
    assert read_economy(out).n_goods == 21 and (out / "goods.parquet").exists() and not (out / "goods.csv").exists()


@pytest.mark.parametrize("args", [["--goods", "0"], ["--goods", "10", "--family", "nope"],
                                  ["--goods", "10", "--format", "xlsx"], ["--goods", "10", "--labour-kinds", "0"]])
def test_cli_bad_arguments_exit_nonzero_with_a_clear_message(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "eco"
    result = runner.invoke(app, ["generate", str(out), *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
    assert not out.exists() and os.listdir(tmp_path) == []


def test_a_failed_write_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(folder: Path, tables: object, fmt: str) -> None:
        (folder / "goods.csv").write_text("good,kind,unit\n", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(gen, "write_tables", broken)
    with pytest.raises(OSError, match="disk full"):
        write_generated(tmp_path / "eco", make_spec(30))
    assert os.listdir(tmp_path) == []


def test_parquet_ids_with_bad_rows_are_named(tmp_path: Path) -> None:
    """Dictionary-encoded (categorical) id columns are validated like text: unknown and duplicate rows named."""
    import pandas as pd

    folder = write_generated(tmp_path / "eco", make_spec(40, inputs_per_good=3, seed=3), fmt="parquet")
    inputs = pd.read_parquet(folder / "inputs.parquet")
    assert isinstance(inputs["good"].dtype, pd.CategoricalDtype)
    goods = inputs["good"].cat.add_categories(["nowhere"])
    goods[5] = "nowhere"
    goods[6] = goods[7]
    inputs["good"] = goods
    inputs.to_parquet(folder / "inputs.parquet", index=False)
    with pytest.raises(EconomyError) as err:
        read_economy(folder)
    text = str(err.value)
    assert "inputs.parquet row 6: unknown good 'nowhere'" in text
    assert f"inputs.parquet row 8: input {goods[7]!r} of technique" in text and "listed twice" in text


def test_more_inputs_per_good_than_suppliers_is_what_the_draw_gives(tmp_path: Path) -> None:
    """Found by fuzzing: --inputs-per-good 200 with 100 goods was accepted and recorded as 200, where each technique
    drew among the 99 other goods. The spec (and the manifest) now say 99, and the economy is the same."""
    from needplan.data.generate import generate_tables, make_spec

    spec = make_spec(100, inputs_per_good=200, seed=3)
    assert spec.inputs_per_good == 99
    assert make_spec(100, inputs_per_good=200, family="structured").inputs_per_good == 100  # itself too, skewed
    same = generate_tables(make_spec(100, inputs_per_good=99, seed=3))
    for name, frame in generate_tables(spec).items():
        pd.testing.assert_frame_equal(frame, same[name])
