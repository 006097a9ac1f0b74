"""What the command line prints of the user's text and the system's refusals (cases from fuzzing the CLI): ids and
names as written, never read as rich markup; messages in plain Python terms; one error line, without numpy's
floating-point warnings; an output folder that cannot be written refused by its own name, before the solve."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from needplan.cli import main, plan_commands
from needplan.leontief import equilibrate
from needplan.plan import PlanResult
from test_plan_cli import DEMO, run

TABLE = Path(__file__).parent / "data" / "sut_csv"
TECH = "[bold]power[/i]station\\"  # an unmatched closing tag crashed rich; the balanced one was eaten


def _demo(tmp_path: Path, fields: dict[str, str], name: str = "demo") -> Path:
    """The demo economy with each CSV field equal to a key of ``fields`` replaced by its value."""
    folder = tmp_path / "econ"
    shutil.copytree(DEMO, folder)
    for table in folder.glob("*.csv"):
        lines = table.read_text(encoding="utf-8").splitlines()
        table.write_text("\n".join(",".join(fields.get(f, f) for f in line.split(",")) for line in lines) + "\n",
                         encoding="utf-8")
    toml = folder / "economy.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('name = "demo"', f"name = {name!r}"), encoding="utf-8")
    return folder


def _never(*_: object, **__: object) -> None:
    raise AssertionError("the plan was built: the output folder should have been refused before")


def test_plan_and_analyze_print_ids_and_names_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``[/]`` in a name raised rich's MarkupError (exit 1, a traceback after half the output); ``[eu]cloth`` was
    printed as ``cloth``; ``:smile:`` would become an emoji."""
    folder = _demo(tmp_path, {"cloth": "[eu]cloth", "Cotton cloth": "Cotton [/x] cloth :smile:",
                              "power_station": TECH, "land": "land[/]"}, name="x [/] y")
    code, out, err = run(["plan", str(folder), "--limit", "20"], capsys)
    assert code == 0 and err == ""
    flat = " ".join(out.split())  # the long lines wrap at spaces
    assert out.startswith("x [/] y: objective ray, status optimal")
    assert "│ [eu]cloth " in out and f"│ {TECH} " in out
    assert f"capacity {TECH}: the capacity of {TECH}, which makes Electricity" in flat
    assert "Cotton [/x] cloth :smile: ([eu]cloth)" in flat and "resource land[/]: " in flat
    code, out, err = run(["analyze", str(folder)], capsys)
    assert code == 0 and err == ""
    # (the technique's column is narrowed to fit 140 characters: its id is cut with an ellipsis, as any long id)
    assert "x [/] y: gross output" in out and "│ [eu]cloth " in out and "│ [bold]power[/i]sta" in out
    assert "land[/]" in out


def test_a_folder_path_that_reads_as_markup_is_no_crash(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The spinner's ``reading {folder}`` was markup: ``.../[/b]`` raised MarkupError before anything was read."""
    folder = tmp_path / "[" / "b]"
    shutil.copytree(DEMO, folder)
    code, out, err = run(["validate", str(folder)], capsys)
    assert code == 0 and out.startswith("ok: ") and err == ""


def test_import_sut_prints_the_tables_names_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = tmp_path / "[/]table"
    shutil.copytree(TABLE, table)
    for name in ("supply.csv", "use.csv", "final_demand.csv"):
        path = table / name
        text = path.read_text(encoding="utf-8").replace("\nb,", "\n[b]b\\,").replace("household", "hh[/x]")
        path.write_text(text, encoding="utf-8")
    code, out, err = run(["import-sut", str(table), str(tmp_path / "out"), "--format", "csv"], capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    assert f"{table} (csv), industry-technology assumption" in flat and "│ [b]b\\ " in out
    assert "by category: hh[/x] " in flat and "needs = hh[/x] + exports" in flat


def test_an_unknown_quality_weighted_is_quoted_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """It ended "got np.str_('maybe')": numpy's repr of the lower-cased cell."""
    folder = _demo(tmp_path, {})
    needs = folder / "needs.csv"
    needs.write_text(needs.read_text(encoding="utf-8").replace("cloth,1500,1,true", "cloth,1500,1,Maybe"),
                     encoding="utf-8")
    code, _, err = run(["validate", str(folder)], capsys)
    assert code == 1
    assert err.endswith("needs.csv line 3: quality_weighted must be true or false, got 'Maybe'\n"), err


def test_equilibrate_takes_entries_near_the_limits_of_double_precision_without_a_warning() -> None:
    """A column of 1e308 beside 5 overflowed ``sqrt(top * bottom)``; a row spread that underflows to 0 divided by
    zero in ``log2``: RuntimeWarnings printed above the error line (pytest makes them errors)."""
    M = sp.csr_matrix(np.array([[1e308, 1.0], [5.0, 1e-300]]))
    for beyond in (None, 4.0):
        r, c = equilibrate(M, 4, beyond=beyond)
        assert r.shape == (2,) and c.shape == (2,)


def test_a_target_of_1e308_is_one_error_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as the command (no argv): numpy's overflow and invalid-value warnings from the LP's scaling used to be
    printed before the error line."""
    folder = _demo(tmp_path, {"20000": "1e308"})
    monkeypatch.setattr(sys, "argv", ["needplan", "plan", str(folder)])
    monkeypatch.setattr(sys, "warnoptions", [])
    code, out, err = _run_as_command(capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: HiGHS refuses this plan's LP") and len(err.splitlines()) == 1, err


def _run_as_command(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main()
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no folder can be made")
def test_an_out_that_cannot_be_made_is_refused_by_its_name_before_the_solve(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """It solved, then said "[Errno 2] No such file or directory: '/proc/.plan_out.uibtd2nj.tmp'"."""
    monkeypatch.setattr(plan_commands, "build_plan", _never)
    code, out, err = run(["plan", str(DEMO), "--out", "/proc/plan_out"], capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: cannot write /proc/plan_out: cannot make a folder in /proc (") and ".tmp" not in err
    assert len(err.splitlines()) == 1


def test_an_existing_out_without_overwrite_is_refused_before_the_solve(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_commands, "build_plan", _never)
    (tmp_path / "p").mkdir()
    code, out, err = run(["plan", str(DEMO), "--out", str(tmp_path / "p")], capsys)
    assert code == 1 and out == ""
    assert err == f"error: {tmp_path / 'p'} exists (pass --overwrite to replace it)\n"


def test_a_write_that_fails_names_the_out_folder_not_the_temporary_one(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "p"

    def full_disk(self: PlanResult, folder: Path, *, overwrite: bool = False, payload: object = None) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / ".p.x1y2z3.tmp" / "needs.csv"))

    monkeypatch.setattr(PlanResult, "write", full_disk)
    code, _, err = run(["plan", str(DEMO), "--out", str(out)], capsys)
    assert code == 1
    assert err == f"error: cannot write {out}: {os.strerror(errno.ENOSPC)}\n"


def test_error_lines_name_the_place_and_stay_short(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Found by fuzzing the command line: an id of 2 million characters was echoed in a 2 MB error line; a product
    that used up more of itself than it made read "grain use up ... of each other as they make"; every capacity of
    the needs' makers at 0 was blamed on the needs; a folder given as an INE workbook was "no such file"; and an
    unbalanced table named "product 'a'" as if it were a file in the table's folder."""
    long_id = tmp_path / "long"
    shutil.copytree(DEMO, long_id)
    with (long_id / "goods.csv").open("a", encoding="utf-8") as f:
        f.write("x" * 100_000 + ",product,t,\n")
    selfish = tmp_path / "selfish"
    shutil.copytree(DEMO, selfish)
    inputs = selfish / "inputs.csv"
    inputs.write_text(inputs.read_text().replace("grain_horse,grain,0.12", "grain_horse,grain,1e308"))
    unbalanced = tmp_path / "unbalanced"
    shutil.copytree(TABLE, unbalanced)
    use = unbalanced / "use.csv"
    use.write_text(use.read_text().replace("a,9,", "a,,"))
    cases = [
        (["validate", str(long_id)], lambda e: len(e) < 2100 and e.endswith("characters more)")),
        (["validate", str(selfish)], lambda e: "grain uses up at least as much of itself as it makes" in e),
        (["plan", str(_demo(tmp_path, {"": "0"}))],
         lambda e: e.startswith("error: techniques: nothing can make 'grain'") and "capacity 0" in e),
        (["import-sut", str(TABLE), str(tmp_path / "o1"), "--format", "ine"],
         lambda e: e == f"error: {TABLE}: is a folder, not an .xlsx workbook"),
        (["import-sut", str(unbalanced), str(tmp_path / "o2"), "--format", "csv"],
         lambda e: e.startswith(f"error: {unbalanced}: product 'a': supply 100 but")),
    ]
    for args, good in cases:
        code, _, err = run(args, capsys)
        first = err.strip().splitlines()[0]
        assert code == 1 and good(first), (args, first[:300])


def test_the_demo_prints_on_an_output_that_is_not_utf8(tmp_path: Path) -> None:
    """Redirected on Windows, stdout is cp1252: rich drew the demo's untitled rule in "─" anyway, a
    UnicodeEncodeError traceback after the first economy (fuzzing). The rule is "-" there; any other character the
    output cannot write is one error line."""
    import subprocess

    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    proc = subprocess.run([sys.executable, "-m", "needplan", "demo"], capture_output=True, env=env, cwd=tmp_path,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode("cp1252", "replace")[-500:]
    assert b"Traceback" not in proc.stderr and b"Spain 2019" in proc.stdout
