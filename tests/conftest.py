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


def _soak(config) -> bool:
    return bool(config.getoption("--soak", default=False)) or os.environ.get("BONJORO_TUI_SOAK", "") not in ("", "0")


# The adversarial suite's figures (tests/adversarial/figures.py). Under pytest-xdist that suite
# runs in one worker, which hands its figures to the controller when it finishes; the controller
# prints them. The hooks live here because the controller loads only this conftest.
def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        import json

        from adversarial.figures import FIGURES

        workeroutput["adversarial_figures"] = json.dumps(list(FIGURES.items()))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    import json

    from adversarial.figures import FIGURES

    for name, value in json.loads(getattr(node, "workeroutput", {}).get("adversarial_figures", "[]")):
        FIGURES[name] = value


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from adversarial.figures import FIGURES

    if not FIGURES:
        return
    tr = terminalreporter
    tr.section("adversarial suite figures" + (" (soak)" if _soak(config) else " (bounded)"))
    width = max(len(k) for k in FIGURES)
    for name, value in FIGURES.items():
        tr.write_line(f"{name:<{width}}  {value}")


def _real_dirs_state() -> dict[str, list[tuple[str, int]]]:
    """What is in the user's real data and config directories of bonjoro-tui (names and mtimes)."""
    import platformdirs

    state = {}
    for where in (platformdirs.user_data_dir("bonjoro-tui", appauthor=False),
                  platformdirs.user_config_dir("bonjoro-tui", appauthor=False)):
        try:
            state[where] = sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(where))
        except FileNotFoundError:
            state[where] = []
    return state


@pytest.fixture(autouse=True, scope="session")
def real_directories_untouched():
    """No test may write to the developer's real token store or config (a test that builds its
    settings from a hand-made environment without the isolated directories would)."""
    before = _real_dirs_state()
    yield
    after = _real_dirs_state()
    assert after == before, f"the test run wrote to the real bonjoro-tui directories: {before} -> {after}"


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


#: Lists longer than this are checked on their first SAMPLE items (a 5 MB page of greets would
#: take seconds to validate item by item; the items are built by one function each).
LONG_LIST, SAMPLE = 100, 50


@pytest.fixture(autouse=True)
def sandbox_api_responses_match_the_published_spec(monkeypatch):
    """Every API response an in-process sandbox sends during any test is checked against Bonjoro's
    published schema for its operation (tests/openapi_check.py, with its documented errata), and
    by the explorer's contract check (bonjoro_tui/api/contract.py), which must find it green;
    a mismatch fails the test that caused it. Sandboxes run as subprocesses are checked by the
    sandbox's own tests (tests/sandbox/test_cli_integration.py)."""
    import json

    from bonjoro_tui.api import contract
    from bonjoro_tui.sandbox import api
    from openapi_check import assert_api_response

    problems: list[str] = []
    handle = api.handle

    async def checked(req, state):
        response = await handle(req, state)
        if "x-sandbox-off-schema" in response.headers:
            return response  # the off_schema knob's answers depart from the schema on purpose
        path = req.path[len(api.PREFIX):] or "/"
        try:
            body = json.loads(response.body)
            if isinstance(body, dict) and isinstance(body.get("data"), list) and len(body["data"]) > LONG_LIST:
                body = {**body, "data": body["data"][:SAMPLE]}
            assert_api_response(req.method, api.PREFIX + path, response.status, body)
        except (AssertionError, ValueError) as exc:
            problems.append(f"{req.method} {req.path} -> {response.status}: {str(exc)[:600]}")
            return response
        # The explorer's own check (bonjoro_tui/api/contract.py) must call the same answer green.
        template = contract.operation_for(req.method, path)
        result = contract.check(req.method, template, response.status, body) if template else None
        if result is not None and result.matched is False:
            problems.append(f"{req.method} {req.path} -> {response.status}: the explorer's contract check "
                            f"found {result.total} differences: {result.differences[:3]}")
        return response

    monkeypatch.setattr(api, "handle", checked)
    yield
    assert not problems, "sandbox responses that do not match the published schema:\n" + "\n".join(problems[:5])
