"""Every file bonjoro-tui keeps, named once. Renaming one is a change to this module.

The directories themselves (data, config, log) come from :mod:`bonjoro_tui.settings`
(platformdirs, or ``BONJORO_TUI_*_DIR``); this module says what lives in them.
"""

from __future__ import annotations

from pathlib import Path

TOKENS_FILE = "tokens.toml"  # in the data dir: the token store (bonjoro_tui.store)
CONFIG_FILE = "config.toml"  # in the config dir: the user's settings and [keymap]
DEBUG_LOG_FILE = "bonjoro-tui.log"  # in the log dir: --debug exchanges, redacted
CRASH_LOG_FILE = "bonjoro-tui-crash.log"  # in the log dir: the dashboard's crash reports
HISTORY_FILE = "history.json"  # in the data dir: the explorer's history and saved requests (no secrets)
SANDBOX_DIR = "sandbox"  # in the data dir: the built-in sandbox's own files
SANDBOX_STATE_FILE = "state.json"  # in SANDBOX_DIR: signing key, refresh families, knobs
SANDBOX_PORT_FILE = "port"  # in SANDBOX_DIR: the port the last run listened on
SANDBOX_ANNOUNCE_FILE = "running.json"  # in SANDBOX_DIR: the running sandbox's URL, pid and secret


def tokens_file(data_dir: Path) -> Path:
    return data_dir / TOKENS_FILE


def config_file(config_dir: Path) -> Path:
    return config_dir / CONFIG_FILE


def history_file(data_dir: Path) -> Path:
    return data_dir / HISTORY_FILE


def sandbox_dir(data_dir: Path) -> Path:
    return data_dir / SANDBOX_DIR


def sandbox_state_file(data_dir: Path) -> Path:
    return sandbox_dir(data_dir) / SANDBOX_STATE_FILE


def sandbox_port_file(data_dir: Path) -> Path:
    return sandbox_dir(data_dir) / SANDBOX_PORT_FILE


def sandbox_announce_file(data_dir: Path) -> Path:
    return sandbox_dir(data_dir) / SANDBOX_ANNOUNCE_FILE
