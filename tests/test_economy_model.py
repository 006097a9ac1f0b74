"""The data model: immutability, exact round trips through CSV and Parquet, atomic writes, technique choice."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needplan import read_economy, write_economy
from needplan.economy import io as economy_io
from needplan.economy import schema_markdown


def test_economy_is_immutable(demo_dir: Path) -> None:
    e = read_economy(demo_dir)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.name = "other"  # type: ignore[misc]
    for array in (e.target, e.available, e.technique_capacity, e.good_kind):
        with pytest.raises(ValueError):
            array[0] = 1
    with pytest.raises(ValueError):
        e.use.data[0] = 5.0
    with pytest.raises((TypeError, ValueError)):
        e.goods.values[0] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        e.provenance["folder"] = "x"  # type: ignore[index]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_is_exact(demo_dir: Path, tmp_path: Path, fmt: str) -> None:
    e = read_economy(demo_dir)
    out = write_economy(e, tmp_path / "copy", fmt=fmt)  # type: ignore[arg-type]
    assert (out / f"goods.{fmt}").exists()
    back = read_economy(out)
    assert back.name == e.name and back.description == e.description
    assert list(back.goods) == list(e.goods) and list(back.techniques) == list(e.techniques)
    for name in ("good_kind", "technique_good", "technique_output", "technique_capacity", "technique_quality",
                 "available", "target", "weight", "quality_weighted", "need_listed"):
        np.testing.assert_array_equal(getattr(back, name), getattr(e, name), err_msg=name)
    assert (back.use != e.use).nnz == 0 and (back.make != e.make).nnz == 0


def test_write_refuses_to_overwrite_and_is_atomic(demo_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    e = read_economy(demo_dir)
    target = write_economy(e, tmp_path / "copy")
    with pytest.raises(FileExistsError):
        write_economy(e, target)
    before = sorted(p.name for p in target.iterdir())

    def broken(folder: Path, tables: object, fmt: str) -> None:
        (folder / "goods.csv").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(economy_io, "write_tables", broken)
    with pytest.raises(OSError, match="disk full"):
        economy_io.write_economy(e, target, overwrite=True)
    with pytest.raises(OSError, match="disk full"):
        economy_io.write_economy(e, tmp_path / "new")
    assert sorted(p.name for p in target.iterdir()) == before  # the old folder is untouched
    assert read_economy(target).n_goods == e.n_goods
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["copy"]  # no temporary folder left behind


def test_technique_choice(demo_dir: Path) -> None:
    e = read_economy(demo_dir)
    default = e.technology()
    assert e.techniques[default.techniques[list(e.goods[e.products]).index("shoes")]] == "shoe_workshop"
    tractor = e.technology({"grain": "grain_tractor"})
    grain = list(e.goods[e.products]).index("grain")
    assert e.techniques[tractor.techniques[grain]] == "grain_tractor"
    # The horse technique's joint leather is credited; the tractor technique has none.
    leather = list(e.goods[e.products]).index("leather")
    assert default.A[leather, grain] == pytest.approx(-0.002) and tractor.A[leather, grain] == 0
    with pytest.raises(ValueError, match="makes 'grain', not 'shoes'"):
        e.technology({"shoes": "grain_tractor"})
    with pytest.raises(ValueError, match="unknown technique"):
        e.technology({"grain": "grain_by_magic"})


def test_a_choice_in_any_natural_form_is_read_or_refused_by_name(demo_dir: Path) -> None:
    """An analysis's own ``techniques`` (a Series) and a list of technique ids are choices too; positions that
    are not whole numbers are refused (from fuzzing: 1.99 was read as 1, giving grain its tractor, and True as
    1), and so are a string and a 2-D array, saying what a choice may be."""
    e = read_economy(demo_dir)
    grain = list(e.goods[e.products]).index("grain")
    by_tractor = e.resolve_choice({"grain": "grain_tractor"})
    ids = pd.Series(e.techniques[by_tractor], index=e.goods[e.products])
    assert list(e.resolve_choice(ids)) == list(by_tractor)
    assert list(e.resolve_choice(list(ids))) == list(by_tractor)
    assert list(e.resolve_choice(by_tractor.astype(float))) == list(by_tractor)
    fractional = by_tractor.astype(float)
    fractional[grain] = 1.99
    with pytest.raises(ValueError, match=r"choice for 'grain' is 1\.99: technique positions must be whole numbers"):
        e.resolve_choice(fractional)
    with pytest.raises(ValueError, match="whole numbers"):
        e.resolve_choice(np.ones(len(by_tractor), dtype=bool))
    for wrong in ("grain_tractor", by_tractor.reshape(1, -1)):
        with pytest.raises(ValueError, match="choice must map product ids to technique ids"):
            e.resolve_choice(wrong)
    ids.iloc[grain] = "grain_by_magic"
    with pytest.raises(ValueError, match="choice for 'grain' names unknown technique 'grain_by_magic'"):
        e.resolve_choice(list(ids))


def test_format_doc_is_generated_from_the_schema() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "format.md").read_text()
    assert schema_markdown() in doc, "docs/format.md is out of date: paste needplan.economy.schema_markdown()"


def test_build_consuming_its_tables_gives_the_same_economy_and_leaves_the_callers_alone() -> None:
    """``consume=True`` (what read_economy passes) empties the dict and may keep the inputs' amounts without a
    copy; without it the economy copies them, so changing the caller's table afterwards changes nothing."""
    from needplan.data.generate import generate_economy
    from needplan.economy.validate import build_economy

    e = generate_economy(300, family="structured", seed=4)
    tables = e.tables()
    kept = build_economy(tables, name="kept", check_productive=False)
    tables["inputs"]["amount"] *= 2.0
    assert (kept.use != e.use).nnz == 0
    given = e.tables()
    consumed = build_economy(given, name="consumed", check_productive=False, consume=True)
    assert given == {}
    assert (consumed.use != e.use).nnz == 0 and (consumed.make != e.make).nnz == 0
    assert list(consumed.techniques) == list(e.techniques) and list(consumed.goods) == list(e.goods)
    with pytest.raises(ValueError):
        consumed.use.data[0] = 1.0


def test_id_lookups_compare_labels_in_the_index_s_own_order_and_hash_the_rest() -> None:
    """validate._positions: ids that are the index itself, in its order (as needplan writes them), are compared
    instead of hashed; any other order, a subset, unknown ids and categoricals give get_indexer's answer."""
    from needplan.economy.validate import _positions

    index = pd.Index([f"g{i}" for i in range(50)], dtype=object)
    same = index.to_numpy().copy()
    rng = np.random.default_rng(0)
    for values in (same, same[rng.permutation(50)], same[:49], np.append(same[:-1], "nope"),
                   np.array(["g3", "", "g7"], dtype=object)):
        want = index.get_indexer(values)
        np.testing.assert_array_equal(_positions(index, values), want)
        cat = pd.Categorical(values, categories=pd.unique(values))
        np.testing.assert_array_equal(_positions(index, cat), want)
    np.testing.assert_array_equal(_positions(index, same), np.arange(50))


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_SCALAR = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False), _TEXT)
_VALUE = st.one_of(_SCALAR, st.lists(_SCALAR, max_size=3), st.dictionaries(_TEXT, _SCALAR, max_size=3))
_KEYS = _TEXT.filter(lambda k: k not in ("format_version", "name", "description", "folder"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_TEXT.filter(lambda t: t.strip() != ""), description=_TEXT,
       extra=st.dictionaries(_KEYS, _VALUE, max_size=4))
def test_a_manifest_written_is_read_back_as_it_was(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                                                     name: str, description: str, extra: dict) -> None:
    """A helper's fuzzing: a provenance key that needs quotes ("my key", "a.b", "año") was written bare, a name or
    value with a carriage return or another control character was written raw (the folder could not be read
    again), and a table of the manifest was dropped. What ``write_economy`` writes, ``read_economy`` reads back."""
    out = tmp_path_factory.mktemp("manifest") / "eco"
    economy = dataclasses.replace(read_economy(demo_dir), name=name, description=description,
                                  provenance=dict(extra))
    write_economy(economy, out)
    back = read_economy(out)
    assert (back.name, back.description) == (name, description)
    assert {k: v for k, v in back.provenance.items() if k != "folder"} == {
        k: list(v) if isinstance(v, tuple) else v for k, v in extra.items()}
    assert back.provenance["folder"] == str(out.resolve())


def test_a_manifest_s_own_folder_key_does_not_hide_where_it_was_read(demo_dir: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(demo_dir, tmp_path / "eco")
    with open(tmp_path / "eco" / "economy.toml", "a") as fh:
        fh.write('folder = "mine"\nseed = "18446744073709551615"\n')
    economy = read_economy(tmp_path / "eco")
    assert economy.provenance["folder"] == str((tmp_path / "eco").resolve())
    big = dataclasses.replace(economy, provenance={"generator_seed": 2**64 - 1})
    write_economy(big, tmp_path / "big")  # beyond TOML's 64-bit integers: kept as its digits
    assert int(read_economy(tmp_path / "big").provenance["generator_seed"]) == 2**64 - 1
