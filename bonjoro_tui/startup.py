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

Two more uses of the same knobs, both for the explorer (issue 16 figures 7 and 11): what the
explorer builds once is set aside like the start-up's objects once it has answered
(:func:`set_aside`), and while a body of megabytes is parsed, shown and checked the full passes
wait and run once, alone, after its verdict (:func:`hold_full_passes`).
"""

from __future__ import annotations

import gc

#: The oldest generation's threshold during start-up: no full collection.
START_UP_THRESHOLD = 1_000_000

_saved: tuple[int, int, int] | None = None
#: Set by the program (:func:`freeze_when_started`), never by a test process: see there.
_freeze_requested = False
_frozen = False


def freeze_when_started() -> None:
    """When the start-up is over, set what it made aside for good (``gc.freeze``).

    What exists then — modules, classes, Textual's stylesheet, the screens and widgets — lives as
    long as the program; a full pass of the collector traversed all of it again each time (70–105
    ms on the event loop in the explorer, right when a 5 MB response was parsed and shown: most of
    figure 7's stall, issue 16). Frozen objects are still freed by reference counting when they
    go; only a reference cycle among them that becomes garbage is kept (the start-up makes almost
    none, and the young collection just before the freeze takes what it has). Only the program
    asks for it (``bonjoro-tui``, and the benchmark that starts the dashboard as it does): a test
    process runs many apps one after another, and each freeze would keep the previous ones' cycles.
    """
    global _freeze_requested
    _freeze_requested = True


def _raise_oldest() -> tuple[int, int, int]:
    """The thresholds as they are, then no full collection (the oldest generation's threshold
    out of reach; the young generations go on as usual)."""
    saved = gc.get_threshold()
    gc.set_threshold(saved[0], saved[1], START_UP_THRESHOLD)
    return saved


def _restore(saved: tuple[int, int, int]) -> None:
    """The thresholds ``_raise_oldest`` saw — unless someone changed them since: theirs stay."""
    if gc.get_threshold() == (saved[0], saved[1], START_UP_THRESHOLD):
        gc.set_threshold(*saved)


def pause_collector() -> None:
    """No full collection until :func:`resume_collector` (the young generations go on as usual)."""
    global _saved
    if _saved is None and gc.isenabled():
        _saved = _raise_oldest()


def resume_collector() -> None:
    """End :func:`pause_collector`'s pause, if it is ours: the thresholds as they were (and, when
    :func:`freeze_when_started` asked for it, the start-up's objects frozen, once)."""
    global _saved, _frozen
    if _saved is not None:
        saved, _saved = _saved, None
        _restore(saved)
        if _freeze_requested and not _frozen and gc.isenabled():
            _frozen = True
            gc.collect(1)  # the young generations' garbage, not frozen with the rest (~1-3 ms)
            gc.freeze()


_set_aside: set[str] = set()


def set_aside(what: str) -> None:
    """Once per ``what`` (a part of the program made once and kept, e.g. the explorer's screen,
    its catalog and the parsed definition), when :func:`freeze_when_started` was asked for and the
    start-up's objects are frozen: collect everything (one full pass: no garbage of then is kept),
    then freeze what is left. As with the start-up's freeze, a reference cycle among those objects
    that becomes garbage later is kept for good (a reviewer counted ~700 objects after several
    responses: once per process, it does not grow with use).

    The explorer made ~100 widgets and the catalog after the start-up; each full pass of the
    collector traversed all of it again — 27–42 ms on the event loop, landing in a frame of the
    5 MB response (issue 16 figures 7 and 11; the 5 MB document itself is ~6,000 tracked objects,
    ~3 ms). Asked for once the explorer has shown its first response, this pass happens then,
    once, instead of in the middle of a later one."""
    if not _frozen or what in _set_aside or not gc.isenabled():
        return
    _set_aside.add(what)
    gc.collect()
    gc.freeze()


#: How many callers hold full passes back now (:func:`hold_full_passes`), and the thresholds then.
_holds = 0
_hold_saved: tuple[int, int, int] | None = None


def hold_full_passes() -> None:
    """No full pass of the collector until the matching :func:`release_full_passes`.

    A large response (megabytes parsed, a tree, the Raw text, the contract check) makes tens of
    thousands of objects that survive; the collector then ran a full pass (25–40 ms, over ~50,000
    objects) in whichever frame or thread was allocating, on top of that frame's own 15–30 ms
    (issue 16 figures 7 and 11). Held back while the response is shown, the pass runs once, alone,
    after the last frame (the caller runs :func:`full_pass` when its frame is drawn). The young
    generations are collected as usual."""
    global _holds, _hold_saved
    _holds += 1
    if _holds == 1 and _hold_saved is None and _saved is None and gc.isenabled():
        _hold_saved = _raise_oldest()


def release_full_passes() -> bool:
    """End one :func:`hold_full_passes`; True when it was the last one: the caller then runs
    :func:`full_pass`, which puts the thresholds back (restored first, the pass held back would
    run at the next young collection, inside whatever frame or thread allocates then)."""
    global _holds
    if _holds == 0:
        return False
    _holds -= 1
    return _holds == 0


def full_pass() -> None:
    """The full collection held back by :func:`hold_full_passes`, then the thresholds as they were
    (unless someone changed them meanwhile). Nothing while a new hold is on."""
    global _hold_saved
    if _holds or _hold_saved is None:
        return
    saved, _hold_saved = _hold_saved, None
    if gc.isenabled():
        gc.collect()
    _restore(saved)


def end_holds() -> None:
    """The app is ending: whatever holds are left (a large body still being checked) end now and
    the thresholds are as they were, without the pass (a program that embeds the app, or a test
    process, goes on with its collector as it was)."""
    global _holds, _hold_saved
    _holds = 0
    if _hold_saved is not None:
        saved, _hold_saved = _hold_saved, None
        _restore(saved)
