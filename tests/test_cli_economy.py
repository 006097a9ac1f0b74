"""The economy commands end to end: validate, analyze (table and JSON), demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from needplan import read_economy
from needplan.analysis import analyze


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "needplan", *args], capture_output=True, text=True, check=False)


def test_analyze_json_has_the_documented_shape(demo_dir: Path) -> None:
    proc = run("analyze", str(demo_dir), "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert set(payload) == {"technique", "final_demand", "gross_output", "multiplier", "embodied", "solver"}
    assert set(payload["solver"]) == {"method", "iterations", "residual", "seconds"}
    assert isinstance(payload["solver"]["iterations"], int) and payload["solver"]["residual"] < 1e-9
    expected = analyze(read_economy(demo_dir))
    got = np.array([payload["gross_output"][p] for p in expected.gross_output.index])
    np.testing.assert_allclose(got, expected.gross_output.to_numpy(), rtol=1e-12)
    for key, series in (("final_demand", expected.final_demand), ("multiplier", expected.multipliers)):
        assert payload[key] == pytest.approx(series.to_dict(), rel=1e-12)  # the table's columns, every product
    assert payload["technique"] == expected.techniques.to_dict() and payload["technique"]["grain"] == "grain_horse"
    assert set(payload["embodied"]["shoes"]) == {"labour_unskilled", "labour_skilled", "land"}
    # Gross output covers the needs (shoes are needed, nothing uses them).
    assert payload["gross_output"]["shoes"] == 60000.0


def test_analyze_table_and_demo(demo_dir: Path) -> None:
    proc = run("analyze", str(demo_dir))
    assert proc.returncode == 0 and "gross output" in proc.stdout and "steel_mill" in proc.stdout
    demo = run("demo")
    assert demo.returncode == 0, demo.stderr
    assert "demo" in demo.stdout and "shoes" in demo.stdout and "Spain 2019" in demo.stdout
    # Both plans, the toy one and the real country, are verified optimal.
    assert demo.stdout.count("status optimal") == 2, demo.stdout


def test_real_table_plan_is_verified_to_tight_residuals() -> None:
    """Spain 2019 has coefficients of 1e-11 on activities of 1e5: none may be dropped by the LP solver."""
    from needplan.data.sut import shipped_economy
    from needplan.plan import build_plan

    result = build_plan(shipped_economy("spain_2019"), "ray").solve("highs", 1e-6)
    assert result.status == "optimal"
    assert max(result.residuals.values()) < 1e-9
    # Employment binds: fulfilment is the ratio of available labour to the labour the table's demand embodies.
    assert result.bottlenecks.iloc[0]["kind"] == "labour"


def test_validate_ok_and_missing_folder(demo_dir: Path, tmp_path: Path) -> None:
    ok = run("validate", str(demo_dir))
    assert ok.returncode == 0 and ok.stdout.startswith("ok: Economy('demo'")
    missing = run("validate", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "is not a folder" in missing.stderr and "Traceback" not in missing.stderr


def test_an_unconverged_analysis_is_refused_and_a_negative_limit_too(tmp_path: Path) -> None:
    """Fuzzing: on a barely productive economy ``--method neumann`` gave up and printed a gross output of 90
    where the answer is 10^9, exit 0; ``--limit -1`` printed one row less and "9 more" of 8 products."""
    folder = tmp_path / "barely"
    folder.mkdir()
    tables = {"economy.toml": 'format_version = 1\nname = "barely"\n',
              "goods.csv": "good,kind,unit\na,product,t\nb,product,t\nL,labour,h\n",
              "techniques.csv": "technique,good\nta,a\ntb,b\n",
              "inputs.csv": "technique,good,amount\nta,a,0.99999999\ntb,b,0.1\nta,L,1\ntb,L,1\n",
              "needs.csv": "good,target\na,10\nb,5\n", "resources.csv": "good,available\nL,100\n"}
    for name, text in tables.items():
        (folder / name).write_text(text)
    proc = run("analyze", str(folder), "--method", "neumann")
    assert proc.returncode == 1 and "not computed: the relative residual is" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    direct = analyze(read_economy(folder), method="direct")
    assert direct.solver.converged and np.isclose(direct.gross_output["a"], 1e9, rtol=1e-6)
    proc = run("analyze", str(folder), "--limit", "-1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_an_unconverged_analysis_with_a_joint_product_says_so_not_its_iterate_s_signs(demo_copy: Path) -> None:
    """A helper's audit: with the demo's joint product and a barely productive grain, ``--method neumann`` said
    "gross output comes out negative for 'leather' (-231)", an unconverged iterate's figure (the direct solve:
    -5.02e4, and coal too)."""
    inputs = demo_copy / "inputs.csv"
    inputs.write_text(inputs.read_text().replace("grain_horse,grain,0.12\n", "grain_horse,grain,0.9999999\n"))
    proc = run("analyze", str(demo_copy), "--method", "neumann")
    assert proc.returncode == 1 and "not computed: the relative residual is" in proc.stderr
    assert "method 'direct' or 'auto' solves it" in proc.stderr and "negative" not in proc.stderr
    proc = run("analyze", str(demo_copy), "--method", "direct")
    assert proc.returncode == 1 and "gross output comes out negative for 'leather' (-5.02e+04)" in proc.stderr


def _sheep_and_wool(folder: Path) -> Path:
    """Steedman's case: sheep make mutton and twice as much wool from one hour, shearing makes wool from one."""
    folder.mkdir()
    files = {
        "goods.csv": "good,kind,unit,name\nmutton,product,t,Mutton\nwool,product,t,Wool\nlabour,labour,h,Labour\n",
        "techniques.csv": "technique,good,output,capacity,quality\nsheep,mutton,1,,1\nshearing,wool,1,,1\n",
        "inputs.csv": "technique,good,amount\nsheep,labour,1\nshearing,labour,1\n",
        "outputs.csv": "technique,good,amount\nsheep,wool,2\n",
        "resources.csv": "good,available\nlabour,100\n",
        "needs.csv": "good,target,weight,quality_weighted\nmutton,10,1,true\nwool,30,1,true\n",
        "economy.toml": 'format_version = 1\nname = "sheep"\n',
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_negative_labour_values_of_joint_production_are_explained(tmp_path: Path) -> None:
    """Mutton embodies 1 - 2 x 1 = -1 hour: sheep are credited with their wool at shearing's hour per tonne.
    Before, the table printed -1 (and a multiplier of -1) with no word on why."""
    from needplan.analysis import negative_values_note

    folder = _sheep_and_wool(tmp_path / "sheep")
    result = analyze(read_economy(folder))
    assert result.embodied.loc["mutton", "labour"] == -1.0 and result.embodied.loc["wool", "labour"] == 1.0
    note = negative_values_note(read_economy(folder), result)
    assert note is not None and note.startswith("negative values for mutton (labour -1): ")
    assert "(sheep also makes wool)" in note and "wool (" not in note
    proc = run("analyze", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert "note: negative values for mutton" in " ".join(proc.stdout.split())
    # Without the by-product, no value is negative and nothing is said.
    (folder / "outputs.csv").write_text("technique,good,amount\n")
    plain = read_economy(folder)
    assert negative_values_note(plain, analyze(plain)) is None
    assert "note:" not in run("analyze", str(folder)).stdout


def test_validate_notes_what_is_valid_but_easily_not_meant(demo_copy: Path) -> None:
    """Found by fuzzing spreadsheet exports: an inputs.csv with its header only passed validate silently, and every
    product was then made from nothing (ray fulfilment 133%, harmony unbounded)."""
    assert "note:" not in run("validate", str(demo_copy)).stdout
    (demo_copy / "inputs.csv").write_text("technique,good,amount\n")
    (demo_copy / "resources.csv").write_text("good,available\n")
    proc = run("validate", str(demo_copy))
    assert proc.returncode == 0 and proc.stdout.splitlines()[1:] == [
        "note: no technique has an input (the inputs table lists none above 0): every product is made from nothing",
        "note: no labour kind or resource has an availability in the resources table: nothing but capacities "
        "limits a plan"]


def test_the_demo_folder_is_found_wherever_needplan_is_installed() -> None:
    """A newcomer with needplan installed elsewhere: the README's src/needplan/data/demo was no folder there."""
    import needplan.data

    folder = needplan.data.demo_folder()
    assert folder.is_dir() and repr(read_economy(folder)).startswith("Economy('demo': 8 products, 2 labour kinds, "
                                                                      "1 resource, 10 techniques")


def test_version() -> None:
    from importlib.metadata import version

    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout == f"needplan {version('needplan')}\n"
