"""Output folders from the command line: refused where writing would delete something, one clear line for the
system's refusals, nothing half written and nothing left beside them (cases from fuzzing the CLI)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from needplan.economy.io import atomic_folder, replace_problem
from needplan.errors import OutputError
from needplan.simulate.regimes import BUILTIN_REGIMES, SimulateError
from needplan.simulate.scenarios import MAX_YEARS, Scenario
from test_plan_cli import DEMO, run


def _demo(tmp_path: Path) -> Path:
    folder = tmp_path / "econ"
    shutil.copytree(DEMO, folder)
    return folder


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("out", [".", "", ".."])
def test_an_output_without_a_name_of_its_own_is_refused_and_leaves_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str,
        overwrite: list[str]) -> None:
    """``--out . --overwrite`` used to raise a ValueError after writing every table into a temporary folder, which
    it left behind. Later it was refused only after the plan was solved and printed, and ``--out ""`` without
    ``--overwrite`` read ". exists" (fuzzing): now before any work, by name."""
    econ = _demo(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, printed, err = run(["plan", str(econ), "--out", out, *overwrite], capsys)
    assert code == 1 and "not a folder name of its own" in err and "Traceback" not in err
    assert printed == "" and list(work.iterdir()) == []


def test_an_output_that_holds_the_current_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    with pytest.raises(OutputError, match="current folder"), atomic_folder(tmp_path / "a", overwrite=True):
        pass
    assert inner.is_dir()


def test_the_input_folder_is_not_overwritten_by_the_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    econ = _demo(tmp_path)
    before = sorted(p.name for p in econ.iterdir())
    code, _, err = run(["plan", str(econ), "--out", str(econ), "--overwrite"], capsys)
    assert code == 1 and "is (or holds) the input" in err
    code, _, err = run(["plan", str(econ), "--out", str(tmp_path), "--overwrite"], capsys)
    assert code == 1 and "is (or holds) the input" in err
    assert sorted(p.name for p in econ.iterdir()) == before


def test_no_input_inside_an_input_folder_is_overwritten(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Fuzzing: ``--out`` naming a file or year folder inside the input replaced it with the output, exit 0 (a
    series' workbook became a folder holding series.csv; an economy lost its goods table)."""
    econ = _demo(tmp_path)
    code, _, err = run(["plan", str(econ), "--out", str(econ / "goods.csv"), "--overwrite"], capsys)
    assert code == 1 and "is a file in the input folder" in err
    table = tmp_path / "table"
    shutil.copytree(Path(__file__).parent / "data" / "sut_csv", table)
    code, _, err = run(["import-sut", str(table), str(table / "use.csv"), "--overwrite"], capsys)
    assert code == 1 and "is a file in the input folder" in err
    series = tmp_path / "series"
    shutil.copytree(table, series / "2019")
    code, _, err = run(["sut-series", str(series), "--years", "2019", "--out", str(series / "2019"), "--overwrite"],
                       capsys)
    assert code == 1 and "is (or holds) the input" in err
    code, _, err = run(["sut-series", str(series), "--years", "2019", "--out", str(series / "2019" / "supply.csv"),
                        "--overwrite"], capsys)
    assert code == 1 and "is a file in the input folder" in err
    assert all(f.is_file() for f in (econ / "goods.csv", table / "use.csv", series / "2019" / "supply.csv"))
    code, _, _ = run(["plan", str(econ), "--out", str(econ / "plan")], capsys)  # a new folder inside is fine
    assert code == 0 and (econ / "plan").is_dir()


@pytest.mark.parametrize("name", ["needs.parquet", "outputs.parquet", "resources.parquet", "goods.parquet/plan"])
def test_an_output_named_like_a_table_inside_an_economy_is_refused(capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path, name: str) -> None:
    """A helper's audit: ``plan ECON --out ECON/needs.parquet`` wrote the plan there, exit 0, and ECON could no
    longer be read (both needs.csv and needs.parquet); so did the other writers into any economy folder."""
    econ = _demo(tmp_path)
    before = sorted(p.name for p in econ.iterdir())
    code, printed, err = run(["plan", str(econ), "--out", str(econ / name)], capsys)
    assert code == 1 and "would make that economy unreadable" in err and printed == ""
    other = _demo(tmp_path / "other")
    code, _, err = run(["generate", str(other / name), "--goods", "5"], capsys)
    assert code == 1 and "would make that economy unreadable" in err
    assert sorted(p.name for p in econ.iterdir()) == before


def test_overwriting_leaves_nothing_beside_it_and_the_folder_follows_the_umask(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The replaced output used to stay beside the new folder as ``.out.old<pid>``; the folder had mode 0700 (a
    temporary folder's), whatever the umask."""
    econ = _demo(tmp_path)
    target = tmp_path / "runs" / "out"
    target.mkdir(parents=True)
    (target / "summary.csv").write_text("x")
    umask = os.umask(0o022)
    try:
        code, _, err = run(["plan", str(econ), "--out", str(target), "--overwrite"], capsys)
    finally:
        os.umask(umask)
    assert code == 0, err
    assert [p.name for p in target.parent.iterdir()] == ["out"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert (target / "plan.json").is_file() and (target / "summary.csv").read_text() != "x"


@pytest.mark.parametrize("args", [["--time-limit", "1e-9"], ["--objective", "min-labour"]])
def test_a_run_without_a_plan_keeps_an_existing_out_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                           args: list[str]) -> None:
    """Found by fuzzing the CLI: a run stopped at once (or infeasible, as the demo's min-labour is), exit 1,
    replaced an earlier good plan's folder with empty tables (or a conflict). An existing folder is now kept, and
    the run says so; a new folder still gets what the run found (the conflict, for an infeasible plan)."""
    econ = _demo(tmp_path)
    target = tmp_path / "out"
    assert run(["plan", str(econ), "--out", str(target)], capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    code, _, err = run(["plan", str(econ), "--out", str(target), "--overwrite", *args], capsys)
    assert code == 1 and f"{target} kept as it was: this run ended" in err, err
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["econ", "out"]
    fresh = tmp_path / "fresh"
    code, _, _ = run(["plan", str(econ), "--out", str(fresh), *args], capsys)
    assert code == 1 and (fresh / "summary.csv").is_file()
    if "min-labour" in args:
        assert (fresh / "conflict.csv").stat().st_size > 10


@pytest.mark.parametrize("what", ["file", "fifo", "link", "nested"])
def test_overwrite_replaces_only_a_folder_of_plain_files(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                         what: str) -> None:
    """Found by fuzzing the CLI as root: ``needplan plan DIR --out /dev/null --overwrite`` replaced the device with a
    plan folder (every later ``> /dev/null`` on the machine failed). needplan's outputs are folders of plain files;
    --overwrite now refuses anything else before the solve, and the library's writers refuse it too: a file, a
    device (a FIFO here), a link (to a folder of files) and a folder that holds a folder (a home folder named by
    mistake). Each is left exactly as it was."""
    econ = _demo(tmp_path)
    target = tmp_path / "out"
    if what == "file":
        target.write_text("precious")
    elif what == "fifo":
        os.mkfifo(target)
    elif what == "link":
        (tmp_path / "real").mkdir()
        (tmp_path / "real" / "summary.csv").write_text("precious")
        target.symlink_to(tmp_path / "real")
    else:
        (target / "documents").mkdir(parents=True)
        (target / "documents" / "letter.txt").write_text("precious")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    code, out, err = run(["plan", str(econ), "--out", str(target), "--overwrite"], capsys)
    assert code == 1 and out == "" and err.startswith(f"error: {target}") and "Traceback" not in err, err
    assert "--overwrite" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert {"file": target.is_file, "fifo": target.is_fifo, "link": target.is_symlink,
            "nested": (target / "documents").is_dir}[what]()
    from needplan import read_economy
    from needplan.plan import build_plan

    result = build_plan(read_economy(econ), "ray").solve()
    with pytest.raises(OutputError, match="--overwrite"):
        result.write(target, overwrite=True)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_overwrite_replaces_every_command_s_output_but_not_a_folder_with_a_user_s_file(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Found by fuzzing the CLI: ``plan DIR --out my_notes --overwrite`` deleted the user's thesis.txt there (the
    folder held plain files only), and ``generate`` replaced another economy. --overwrite now replaces only a folder
    of the files needplan writes; every command's own output is such a folder, so each is replaced in turn."""
    econ = _demo(tmp_path)
    out = tmp_path / "out"
    sut = Path(__file__).parent / "data" / "sut_csv"
    shutil.copytree(econ, tmp_path / "years" / "2019")
    for args in (["plan", str(econ), "--out", str(out)],
                 ["plan", str(econ), "--objective", "min-labour", "--out", str(out)],  # (infeasible: its conflict)
                 ["generate", str(out), "--goods", "20", "--family", "structured"],
                 ["generate", str(out), "--goods", "20", "--format", "parquet"],
                 ["import-sut", str(sut), str(out), "--format", "csv"],
                 ["sut-series", str(tmp_path / "years"), "--format", "economy", "--years", "2019", "--out", str(out)],
                 ["simulate", "--scenario", "ussr-1913-1940", "--out", str(out), "--households", "50", "--runs", "2"],
                 ["compare", "ussr-1913-1940", "ussr-left-opposition", "--out", str(out), "--households", "50"]):
        shutil.rmtree(out, ignore_errors=True)
        code, _, err = run(args, capsys)
        assert code in (0, 1) and out.is_dir(), (args, err)
        economy = args[0] in ("generate", "import-sut")
        assert replace_problem(out, economy=economy) is None, (args, sorted(p.name for p in out.iterdir()))
        assert (replace_problem(out) is None) is not economy, args
    (out / "thesis.txt").write_text("precious")
    before = sorted(p.name for p in out.iterdir())
    code, _, err = run(["plan", str(econ), "--out", str(out), "--overwrite"], capsys)
    assert code == 1 and err.strip() == (f"error: {out} holds 'thesis.txt', which needplan does not write: "
                                         "--overwrite replaces only a folder of needplan's output; choose another "
                                         "name or remove it yourself"), err
    assert sorted(p.name for p in out.iterdir()) == before and (out / "thesis.txt").read_text() == "precious"


@pytest.mark.parametrize("command", ["plan", "simulate", "compare", "sut-series", "api"])
def test_overwrite_by_a_command_that_writes_no_economy_does_not_delete_an_economy(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str) -> None:
    """An economy folder may be written by hand and holds only names needplan writes, so ``plan OTHER --out MINE
    --overwrite`` (or ``simulate``, ``compare``, ``sut-series``, ``PlanResult.write``) deleted it. Only
    ``generate`` and ``import-sut``, which write economies, replace one now (the test above)."""
    econ = _demo(tmp_path)
    mine = tmp_path / "mine"
    shutil.copytree(DEMO, mine)
    shutil.copytree(econ, tmp_path / "years" / "2019")
    before = {p.name: p.read_bytes() for p in mine.iterdir()}
    if command == "api":
        from needplan import read_economy
        from needplan.plan import build_plan

        result = build_plan(read_economy(econ), "ray").solve()
        with pytest.raises(OutputError, match="holds an economy"):
            result.write(mine, overwrite=True)
    else:
        args = {"plan": ["plan", str(econ)],
                "simulate": ["simulate", "--scenario", "ussr-1913-1940", "--households", "50", "--runs", "2"],
                "compare": ["compare", "ussr-1913-1940", "ussr-left-opposition", "--households", "50"],
                "sut-series": ["sut-series", str(tmp_path / "years"), "--format", "economy", "--years", "2019"],
                }[command]
        code, printed, err = run([*args, "--out", str(mine), "--overwrite"], capsys)
        assert code == 1 and err.strip() == (
            f"error: {mine} holds an economy (economy.toml): only generate and import-sut replace an economy, so "
            "--overwrite will not delete it here; choose another name or remove it yourself"), err
        assert printed == ""
    assert {p.name: p.read_bytes() for p in mine.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["econ", "mine", "years"]


def test_a_long_output_name_fits_and_a_too_long_one_is_one_line(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    """A 250-character name is valid; the temporary name beside it used to add 14 characters and fail with an
    OSError traceback. A name over the system's limit is one error line naming it."""
    econ = _demo(tmp_path)
    code, _, err = run(["plan", str(econ), "--out", str(tmp_path / ("y" * 250))], capsys)
    assert code == 0, err
    assert (tmp_path / ("y" * 250) / "plan.json").is_file()
    code, _, err = run(["plan", str(econ), "--out", str(tmp_path / ("x" * 300))], capsys)
    assert code == 1 and "File name too long" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_scenario_folder_and_a_negative_seed_are_refused_without_a_traceback(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "my.toml"
    folder.mkdir()
    code, _, err = run(["simulate", "--scenario", str(folder), "--out", str(tmp_path / "o")], capsys)
    assert code == 1 and "Is a directory" in err and "Traceback" not in err
    code, _, err = run(["simulate", "--scenario", "ussr-1913-1940", "--seed", "-1", "--out", str(tmp_path / "o")],
                       capsys)
    assert code == 2 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_scenario_of_too_many_years_is_refused() -> None:
    """end_year = 100000000 used to run until killed."""
    with pytest.raises(SimulateError, match=f"more than {MAX_YEARS} years"):
        Scenario("long", "", 1913, 1913 + MAX_YEARS, ((1913, next(iter(BUILTIN_REGIMES))),))


def test_an_output_under_a_file_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """It used to read "[Errno 17] File exists: '.../afile'"."""
    (tmp_path / "afile").write_text("x")
    code, _, err = run(["plan", str(DEMO), "--out", str(tmp_path / "afile" / "p")], capsys)
    assert code == 1 and "afile is a file, not a folder" in err and "Traceback" not in err


def test_compare_refuses_a_scenario_given_twice(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The second copy used to replace the first silently."""
    code, _, err = run(["compare", "ussr-1913-1940", "ussr-1913-1940", "--out", str(tmp_path / "c")], capsys)
    assert code == 1 and "given twice" in err
    assert not (tmp_path / "c").exists()


def test_a_missing_year_of_an_scb_workbook_is_found_before_any_import(tmp_path: Path) -> None:
    """sut-series used to find it only after importing and planning the years before it."""
    import openpyxl

    from needplan.data.sut import SutError, year_source

    book = tmp_path / "scb.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "2015"  # type: ignore[union-attr]
    wb.save(book)
    assert year_source(book, "scb", 2015) == book
    with pytest.raises(SutError, match="no sheet for year 2016 \\(sheets: 2015\\)"):
        year_source(book, "scb", 2016)


@pytest.mark.parametrize("command", [["simulate", "--scenario", "ussr-1913-1940", "--households", "10"],
                                     ["compare", "ussr-1913-1940", "ussr-left-opposition", "--households", "10"]])
def test_a_full_disk_is_one_line_naming_the_output(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    """Fuzzing on a full disk: simulate and compare said "error: No space left on device", naming no output (and
    generate's Parquet, through pyarrow, "Error writing bytes to file. Detail: [errno 28] ..."). Nothing is left."""
    import errno

    import pandas as pd

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out = tmp_path / "o"
    code, _, err = run([*command, "--out", str(out)], capsys)
    assert code == 1 and err.strip() == f"error: cannot write {out}: No space left on device", err
    assert list(tmp_path.iterdir()) == []


def test_writing_names_the_output_for_any_system_error_but_needplan_s_own() -> None:
    from needplan.cli import writing

    for raised, said in ((OSError("Error writing bytes to file. Detail: [errno 28] No space left on device"),
                          "cannot write out: Error writing bytes to file. Detail: [errno 28]"),
                         (PermissionError(13, "Permission denied", "out/.tmp/x.csv"),
                          "cannot write out: Permission denied")):
        with pytest.raises(OutputError, match=said.replace("[", r"\[").replace("]", r"\]")), writing(Path("out")):
            raise raised
    with pytest.raises(FileExistsError, match=r"out exists \(pass --overwrite"), writing(Path("out")):
        raise FileExistsError("out exists (pass --overwrite to replace it)")


def test_a_termination_signal_while_writing_leaves_nothing(tmp_path: Path) -> None:
    """Fuzzing: SIGTERM during simulate's writing left its hidden temporary folder for good (exit 143). The command
    turns it into an exit, which removes what was being written."""
    import signal

    from needplan.cli import exit_on_signal

    before = signal.signal(signal.SIGTERM, exit_on_signal)
    try:
        with pytest.raises(SystemExit) as info, atomic_folder(tmp_path / "out") as tmp:
            (tmp / "series.csv").write_text("year\n1913\n")
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert info.value.code == 128 + signal.SIGTERM and list(tmp_path.iterdir()) == []


def test_an_old_copy_that_cannot_be_removed_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fuzzing (root, a file of the old output made immutable): --overwrite wrote the new output, left the old one
    as a hidden folder beside it and said nothing, exit 0."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "series.csv").write_text("old\n")
    monkeypatch.setattr(shutil, "rmtree", lambda *args, **kwargs: None)  # the old copy cannot be removed
    with pytest.raises(OutputError, match=r"out is written, but its old copy could not be removed: .*\.out\.old"):
        with atomic_folder(out, overwrite=True) as tmp:
            (tmp / "series.csv").write_text("new\n")
    assert (out / "series.csv").read_text() == "new\n"
