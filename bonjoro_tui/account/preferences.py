"""What the user chose in the dashboard, remembered in their ``config.toml``.

:func:`remember` sets one top-level key (the theme, the default profile) in the user's config
file and leaves everything else as they wrote it — comments, order, other keys and tables — by
editing the document with tomlkit (a round-trip TOML library) instead of re-serialising a dict.

Where the write goes is ``settings.config_dir``, which a working-directory ``.env`` can never
choose (``settings.NOT_FROM_DOTENV``). The file is written through :mod:`bonjoro_tui.files`: the
directory created 0700 (or refused when someone else could write to it), the file replaced
atomically, 0600, never through a symbolic link — a ``config.toml`` linked into place by a dotfile
manager is read, but not rewritten (the error says which line to add by hand). ``config.toml`` is
a trusted source (it chooses where tokens go), so only the keys of :data:`KEYS` can be written
here: a preference can never become an endpoint.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from bonjoro_tui import locations
from bonjoro_tui.errors import BonjoroError

if TYPE_CHECKING:
    from bonjoro_tui.settings import Settings

#: The keys the dashboard may write, and what each holds.
KEYS = {
    "theme": "the dashboard's colour theme (a Textual theme name)",
    "profile": "the profile used when neither --profile nor BONJORO_PROFILE names one",
}


class PreferenceError(BonjoroError):
    """The preference could not be written; the message says why and the hint what to do."""


def config_path(settings: "Settings") -> Path:
    return locations.config_file(settings.config_dir)


def remember(settings: "Settings", key: str, value: str) -> Path:
    """Set ``key = "value"`` at the top level of the user's config.toml; return the file's path.

    Raises :class:`PreferenceError` (nothing written) when the key is not one of :data:`KEYS`,
    the config directory or file is not safely ours, the file is a symbolic link, or it is not
    valid TOML (it would not have loaded either)."""
    if not isinstance(value, str) or not value or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        raise PreferenceError(f"{key}: {value!r} is not a value to remember")
    return _write(settings, key, value)


def forget(settings: "Settings", key: str) -> Path:
    """Remove the top-level ``key`` from the user's config.toml (nothing else changes); return the
    file's path. Raises :class:`PreferenceError` as :func:`remember` does."""
    return _write(settings, key, None)


def _write(settings: "Settings", key: str, value: str | None) -> Path:
    if key not in KEYS:
        raise PreferenceError(f"{key!r} is not a preference bonjoro-tui writes (only {', '.join(KEYS)})")
    import tomlkit

    from bonjoro_tui.files import UnsafePathError, private_dir, read_private, write_private_atomic

    path = config_path(settings)
    by_hand = (f'add `{key} = "{value}"` to {path} yourself' if value is not None
               else f"remove the line `{key} = …` from {path} yourself")
    try:
        private_dir(path.parent, label="config directory")
        if path.is_symlink():
            raise PreferenceError(f"{path} is a symbolic link: bonjoro-tui reads it but does not rewrite it",
                                  hint=by_hand)
        raw = read_private(path, label="config file")
    except UnsafePathError as exc:
        raise PreferenceError(f"{exc}; the preference was not saved", hint=by_hand) from None
    except OSError as exc:
        raise PreferenceError(f"{path}: cannot read the config file ({exc.strerror})", hint=by_hand) from None
    try:
        text = "" if raw is None else raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PreferenceError(f"{path}: the config file is not UTF-8 text; the preference was not saved",
                              hint=by_hand) from None
    try:
        doc = tomlkit.parse(text)
    except Exception as exc:  # tomlkit's ParseError and friends
        raise PreferenceError(f"{path}: the config file is not valid TOML ({exc}); not rewritten",
                              hint=by_hand) from None
    if value is None:
        if key not in doc:
            return path
        del doc[key]
    elif doc.get(key) == value:
        return path
    else:
        doc[key] = value
    data = tomlkit.dumps(doc).encode("utf-8")
    tomllib.loads(data.decode("utf-8"))  # what we write must load (it always does; a cheap guard)
    try:
        write_private_atomic(path, data, label="config file")
    except OSError as exc:  # UnsafePathError included
        raise PreferenceError(f"{path}: the preference was not saved ({exc.strerror or exc})", hint=by_hand) from None
    return path


def read(settings: "Settings", key: str) -> str | None:
    """The value of ``key`` in the user's config.toml as written there (None: not set, or the
    file is missing, unreadable or not private — then it is not trusted either)."""
    path = config_path(settings)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            return None
        with open(path, "rb") as f:
            data = tomllib.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    value = data.get(key)
    return value if isinstance(value, str) else None

