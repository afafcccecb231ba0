"""``bonjoro-tui`` with no subcommand: resolve settings, open the session, run the dashboard."""

from __future__ import annotations

import argparse
import sys


def run_tui(args: argparse.Namespace) -> int:
    from bonjoro_tui.session import open_session
    from bonjoro_tui.settings import SettingsError, load_settings

    flags = {"profile": getattr(args, "profile", None), "debug": getattr(args, "debug", None)}
    try:
        settings = load_settings(flags={k: v for k, v in flags.items() if v is not None})
    except SettingsError as exc:
        print(f"bonjoro-tui: {exc}", file=sys.stderr)
        return 1
    try:
        # Long-running: rotated tokens that a full disk cannot take are kept for this run.
        session = open_session(settings, keep_unsaved_tokens=True)
    except Exception as exc:  # e.g. the sandbox could not start
        print(f"bonjoro-tui: could not start: {exc}", file=sys.stderr)
        return 1
    from bonjoro_tui.tui.app import BonjoroApp

    try:
        app = BonjoroApp(session)
        result = app.run()
    finally:
        session.close()
    return int(result or 0)
