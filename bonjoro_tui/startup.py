"""The dashboard's start-up runs without CPython's cyclic garbage collector.

Start-up creates a few hundred thousand objects that live as long as the program (modules,
classes, Textual's parsed stylesheet, the widgets) and almost no garbage. The collector scanned
them again and again while they were being made: ~120 passes before the first frame, one of them
over every object (18–49 ms of a ~300–700 ms start on the shared 2-core machine; the bare
Textual app of the benchmark makes fewer objects and had no full pass). Paused, it runs once
when the start-up is done.

``bonjoro-tui`` pauses it before the dashboard's imports (``cli/main.py``), the app at its Load
event (headless runs and tests, which do not go through the command line), and the app resumes
it once the first frame is painted and, signed in, the user's name shown — or when it ends. A
collector someone else disabled (an embedding program) is left as it is. Standard library only:
the command line imports this module before it knows what it will run.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """Pause the cyclic garbage collector until :func:`resume_collector` (if it is running)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """End :func:`pause_collector`'s pause, if it is ours: one full collection, then as usual."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
        gc.collect()
