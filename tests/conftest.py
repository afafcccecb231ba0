"""Shared fixtures. Every test runs isolated from the developer's own configuration:
no BONJORO_* variable, data/config/log dirs under tmp_path, cwd in tmp_path (so no .env
leaks in), and BROWSER pointing at a command that does nothing."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser):
    # Declared here, at the root, so `make test PYTEST_ARGS=--soak` works: pytest only reads
    # options from a subdirectory's conftest when that directory is named on the command line.
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="adversarial suite: multiply request, kill and race counts by 10 (also BONJORO_TUI_SOAK=1)",
    )


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("BONJORO_") or key in {"REDIRECT_URI", "BROWSER"}:
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("BONJORO_TUI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("BONJORO_TUI_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("BONJORO_TUI_LOG_DIR", str(home / "logs"))
    monkeypatch.setenv("BROWSER", "true")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield home
