"""A long HiGHS solve stops at Ctrl-C or a termination signal, instead of running to its end first.

Each test runs Python in a subprocess, so that the signal goes to a process of its own. The economy is structured,
3,000 goods: HiGHS's simplex takes 5-7 s on this machine (more under load), and the signal comes 1 s into the
solve, or 4.5 s into the command (HiGHS runs from about 3 s to 8 s there). Under load the signal may come before
the solve: the tests then pass without telling the two apart, never fail.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from needplan.data.generate import make_spec, write_generated

SCRIPT = """
import json, os, signal, threading, time
from needplan.data.generate import generate_economy
from needplan.plan import build_plan
model = build_plan(generate_economy(3000, family="structured", seed=1), "ray")
threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
start = time.perf_counter()
try:
    model.solve("highs")
    out = {"interrupted": False}
except KeyboardInterrupt:
    out = {"interrupted": True, "after": time.perf_counter() - start}
    again = model.solve("highs")
    out.update(status=again.status, fulfilment=again.fulfilment)
print(json.dumps(out))
"""


def test_ctrl_c_stops_a_long_highs_solve_and_the_model_solves_again() -> None:
    """Before, KeyboardInterrupt came only when HiGHS's run ended (5.0 s after the signal here), and a notebook
    could not stop a solve of 20,000 goods. The model is usable after it: solved again, it is optimal."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["interrupted"], out
    assert out["after"] < 1.0 + 2.0, out  # the signal at 1.0 s; HiGHS stops at its next iteration
    assert out["status"] == "optimal" and abs(out["fulfilment"] - 1.0037265636679) < 1e-9, out


def test_a_termination_signal_stops_plan_during_a_highs_solve_and_leaves_no_output(tmp_path: Path) -> None:
    """Helper's audit: ``kill`` did not stop ``needplan plan`` on structured 20,000 goods for minutes; it needed
    SIGKILL. Now it exits 143 within moments, and its --out folder is not left behind, whole or half-written."""
    folder, out = tmp_path / "econ", tmp_path / "plan"
    write_generated(folder, make_spec(3000, family="structured", seed=1))
    command = [sys.executable, "-m", "needplan", "plan", str(folder), "--solver", "highs", "--out", str(out)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        try:
            time.sleep(4.5)  # started (2.8 s to read and validate here), built: HiGHS's run is under way
            sent = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=120)
            waited = time.perf_counter() - sent
            error = proc.stderr.read() if proc.stderr else ""
        finally:
            proc.kill()
    assert rc == 128 + signal.SIGTERM, error
    assert waited < 3.0, waited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["econ"]
