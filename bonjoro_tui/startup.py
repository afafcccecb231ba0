"""The dashboard's start-up runs without full passes of CPython's cyclic garbage collector.

Start-up creates a few hundred thousand objects that live as long as the program (modules,
classes, Textual's parsed stylesheet, the widgets) and almost no garbage. A full collection
traverses every one of them: before the first frame there was one (18–49 ms of a ~300–700 ms
start on the shared 2-core machine), and more while the sandbox and the HTTP stack load after it
(the bare Textual app of the benchmark makes fewer objects and had none). During start-up only
the young generations are collected (the garbage of start-up is young: no more memory is kept);
the oldest generation's threshold is back to what it was once the start-up is done. Pausing the
collector altogether saved a few ms more but kept ~1 MiB more at the peak (issue 16 figure 8).

``bonjoro-tui`` pauses before the dashboard's imports (``cli/main.py``), the app at its Load
event (headless runs and tests, which do not go through the command line), and the app resumes
once the first frame is painted and, signed in, the user's name shown — or when it ends. A
collector someone else disabled or tuned meanwhile is left as it is. Standard library only: the
command line imports this module before it knows what it will run.
"""

from __future__ import annotations

import gc

#: The oldest generation's threshold during start-up: no full collection.
START_UP_THRESHOLD = 1_000_000

_saved: tuple[int, int, int] | None = None


def pause_collector() -> None:
    """No full collection until :func:`resume_collector` (the young generations go on as usual)."""
    global _saved
    if _saved is None and gc.isenabled():
        _saved = gc.get_threshold()
        gc.set_threshold(_saved[0], _saved[1], START_UP_THRESHOLD)


def resume_collector() -> None:
    """End :func:`pause_collector`'s pause, if it is ours: the thresholds as they were."""
    global _saved
    if _saved is not None:
        saved, _saved = _saved, None
        if gc.get_threshold() == (saved[0], saved[1], START_UP_THRESHOLD):  # nobody changed them since
            gc.set_threshold(*saved)
