"""Snapshot tests (pytest-textual-snapshot) of every screen and the key wizard states, at 80x24
and 120x36, against the real core and sandbox with a fixed clock, fixed ports and fixed PKCE
values (see scenes.py). Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update``
after a deliberate UI change, and look at the SVGs before committing them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import start_session, stop_session
from .fakes import Clock
from .scenes import CALLBACK_PORT, DATA_DIR, SANDBOX_PORT, SCENES, build_app, demo_lock, fixed_randomness
from .secrets_scan import assert_no_secrets, issued_secrets

SIZES = {"80x24": (80, 24), "120x36": (120, 36)}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", SCENES)
def test_snapshot(scene, size, snap_compare, monkeypatch):
    with demo_lock():
        _snapshot(scene, size, snap_compare, monkeypatch)


def _snapshot(scene, size, snap_compare, monkeypatch):
    shutil.rmtree(Path(DATA_DIR).parent, ignore_errors=True)
    monkeypatch.setenv("BONJORO_TUI_DATA_DIR", DATA_DIR)
    clock = Clock()
    session = start_session(clock, sandbox_port=SANDBOX_PORT, callback_port=CALLBACK_PORT)
    seen: list[str] = []

    async def run_before(pilot) -> None:
        await SCENES[scene](pilot)
        # The very screen the snapshot is taken of, checked for every secret this run issued.
        svg = pilot.app.export_screenshot()
        assert_no_secrets(svg, issued_secrets(session))
        seen.append(scene)

    try:
        with fixed_randomness():
            assert snap_compare(build_app(session, clock), run_before=run_before, terminal_size=SIZES[size])
    finally:
        stop_session(session)
        shutil.rmtree(Path(DATA_DIR).parent, ignore_errors=True)
    assert seen == [scene]
