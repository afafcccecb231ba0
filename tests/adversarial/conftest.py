"""The adversarial suite: the --soak option, the secret registry, and the figures printed at the end.

Run the bounded suite with ``make test`` (or ``pytest tests/adversarial``); the soak mode
multiplies every count by 10: ``pytest tests/adversarial --soak`` (the option exists when this
directory is named on the command line) or ``BONJORO_TUI_SOAK=1 make test``.
"""

from __future__ import annotations

import os

import pytest

from adversarial import registry

SOAK_FACTOR = 10


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.adversarial)
            # One worker runs them all, in order (make test: -n auto --dist loadgroup): the secrets
            # scan (test_secrets_scan.py, last) reads everything the tests before it produced.
            item.add_marker(pytest.mark.xdist_group("adversarial"))


def soak_enabled(config) -> bool:
    return bool(config.getoption("--soak", default=False)) or os.environ.get("BONJORO_TUI_SOAK", "") not in ("", "0")


@pytest.fixture(scope="session")
def scale(pytestconfig) -> int:
    """How many times the bounded counts are multiplied (1, or SOAK_FACTOR with --soak)."""
    return SOAK_FACTOR if soak_enabled(pytestconfig) else 1


@pytest.fixture(scope="session")
def secret_registry():
    """Every real token value issued during the suite (see registry.py)."""
    return registry.SECRETS


@pytest.fixture(autouse=True)
def record_issued_tokens(monkeypatch):
    """Every access token, refresh token and code an in-process sandbox issues is registered."""
    from bonjoro_tui.sandbox import grants, signing

    def recording(fn):
        def wrapper(*args, **kwargs):
            value = fn(*args, **kwargs)
            registry.secret(value)
            return value
        return wrapper

    monkeypatch.setattr(signing, "encode", recording(signing.encode))
    monkeypatch.setattr(grants.GrantsMixin, "_new_refresh", recording(grants.GrantsMixin._new_refresh))
    monkeypatch.setattr(grants.GrantsMixin, "issue_code", recording(grants.GrantsMixin.issue_code))


@pytest.fixture(autouse=True)
def harvest_after_test(tmp_path):
    """After each test: register the tokens in any store it wrote and the logs it left."""
    yield
    registry.harvest_tree(tmp_path, "files")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    for where, text in (
        ("stdout", report.capstdout),
        ("stderr", report.capstderr),
        ("log", report.caplog),
        ("failure", report.longreprtext if report.failed else ""),
    ):
        registry.output(f"{item.nodeid} {report.when} {where}", text)


# The figures are printed by the root conftest (tests/conftest.py), which also gathers them from
# the xdist worker that ran this suite.
