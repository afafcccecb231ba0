"""``make bench`` keeps working: the quick mode runs every figure and prints the whole table.

Benchmarks are not tests: nothing here looks at how long anything took, only that each figure
produced numbers (a failing benchmark raises, so a broken harness fails this test).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ["1", "2", "3", "4", "5", "6", "7", "8", "9a", "9b", "10a", "10b", "10c", "11", "12a", "12b", "12c", "12d"]


def test_quick_bench_prints_every_figure():
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
    env["BENCH_QUICK"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "| figure" in out and "ratio" in out
    rows = [line for line in out.splitlines() if re.match(r"\| \d+[a-z]?\. ", line)]
    assert [line[2:].split(".")[0] for line in rows] == FIGURES, out
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        figure, ours, baseline, ratio, target, met = cells
        if ours == "skipped: no tmux":  # the real-terminal rows need tmux; never a made-up number
            assert figure.startswith("9"), line
            continue
        assert re.search(r"\d", ours), line  # a number was measured
        assert met.startswith(("yes", "NO")), line
        if not figure.startswith(("7.", "11.")):  # the explorer figures have no baseline
            assert re.search(r"\d", baseline), line
            assert re.fullmatch(r"\d+\.\d\d|∞ \(bare: 0\)", ratio), line
    assert "nproc" in out and "Python" in out  # the machine the numbers belong to


def test_startup_phases_explain_figure_one():
    """``python -m bench.phases`` (the start-up profile in docs/PERFORMANCE.md) still runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.phases", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=110
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # name, ours, bare: columns apart by two spaces or more (names have single spaces only)
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in done.stdout.splitlines()[1:])}
    for phase in ("1 import textual.app, Header, Footer, Static",
                  "2 build the app (ours: CLI, settings, session, BonjoroApp)",
                  "3 App.run to the first painted frame",
                  "CSS parse: all sources"):
        ours, bare = rows[phase]
        assert float(ours) > 0 and float(bare) > 0, done.stdout
    assert float(rows["CSS parse: app.tcss"][0]) > 0  # ours parses its own stylesheet; bare has none
