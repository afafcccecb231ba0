"""Every secret the suite issued or configured, and everything the suite produced.

The secrets scan (test_secrets_scan.py, the last file of this directory) looks for each
registered secret in each registered output. Secrets are registered by the fixtures and
helpers that mint or receive them; outputs by the hooks in conftest.py (captured
stdout/stderr/log and failure text of every test), by the after-test fixture (files under
the isolated log dir, token files), and by tests that catch an exception (its message)."""

from __future__ import annotations

from pathlib import Path

#: Tokens, refresh tokens, client secrets and API keys seen during the suite.
SECRETS: set[str] = set()
#: (where, text) pairs: captured output, log files, exception messages.
OUTPUTS: list[tuple[str, str]] = []


def secret(*values: str | None) -> None:
    for value in values:
        if value and len(value) >= 8:
            SECRETS.add(value)


def output(where: str, text: str | bytes | None) -> None:
    if text:
        OUTPUTS.append((where, text.decode("utf-8", "replace") if isinstance(text, bytes) else text))


def message(exc: BaseException) -> str:
    """Record an exception's message (and return it, for the test's own assertion)."""
    text = str(exc)
    output(f"exception {type(exc).__name__}", text + "\n" + getattr(exc, "hint", ""))
    return text


def harvest_tree(root: Path, where: str) -> None:
    """Register the tokens of every token store and the text of every log file under root."""
    import tomllib

    if not root.exists():
        return
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        name = path.name
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if name.startswith("tokens.toml") and not name.endswith(".lock"):
            try:
                doc = tomllib.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            for table in (doc.get("profiles") or {}).values():
                if isinstance(table, dict):
                    secret(table.get("access_token"), table.get("refresh_token"))
        elif name.endswith(".log") or "logs" in path.parts or name.startswith("history.json"):
            # the explorer's history file is scanned like a log: no token may be in it
            output(f"{where}: {path.name}", raw)
