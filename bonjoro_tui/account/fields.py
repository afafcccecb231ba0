"""An API call from ``key=value`` fields, gh api style: typed values, nested keys, path parameters.

``-F/--field`` values are typed (:func:`typed_value`): a JSON number, ``true``, ``false`` or
``null`` becomes that value, ``@FILE`` the file's text (``@-``: stdin), anything else a string;
``-f/--raw-field`` values are strings as written. A key may be nested — ``a[b]=1`` is
``{"a": {"b": 1}}``, ``a[]=1`` appends to the list ``a`` — in a JSON body; in a query the key is
sent as written (``a[b]=1``, which Laravel reads as the same nesting).

A path may name parameters (``/users/{user_id}``): a field of that name fills the placeholder
(quoted as one path segment) and is not sent; a placeholder left unfilled is an error naming it
— it is never sent literally. :func:`plan_request` puts it together: the method (GET, or POST
when there are fields or a body, unless paging), the path, the query and the JSON body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from bonjoro_tui.errors import BonjoroError

#: Methods whose fields go in the query string (they carry no body).
QUERY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

_KEY = re.compile(r"([^\[\]=]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FieldError(BonjoroError):
    """A field, header or path that cannot make a request (a usage error)."""


@dataclass(frozen=True)
class Field:
    key: str  # as written: "a[b][]"
    value: Any

    @property
    def parts(self) -> list[str]:
        match = _KEY.fullmatch(self.key)
        assert match is not None  # checked by parse_field
        return [match.group(1), *_PART.findall(match.group(2))]


@dataclass(frozen=True)
class RequestPlan:
    method: str
    path: str
    params: dict[str, list[str]] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def typed_value(text: str) -> Any:
    """``-F``'s value: a JSON number, true, false or null as that value; anything else the string."""
    if text in ("true", "false", "null"):
        return json.loads(text)
    if text and text == text.strip() and (text[0].isdigit() or text[0] == "-"):
        try:
            value = json.loads(text, parse_constant=_no_constant)
        except ValueError:
            return text
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return text


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON numbers, kept as strings


def parse_field(spec: str, *, typed: bool, read_stdin: Callable[[], str] | None = None) -> Field:
    """``key=value`` (``-F`` when ``typed``, ``-f`` otherwise)."""
    option = "-F/--field" if typed else "-f/--raw-field"
    key, sep, raw = spec.partition("=")
    if not sep:
        raise FieldError(f"{option} {spec!r}: expected KEY=VALUE")
    if not _KEY.fullmatch(key):
        raise FieldError(f"{option} {spec!r}: the key must be a name, optionally nested as name[a][b] or name[]")
    parts = [m for m in _PART.findall(key)]
    if "" in parts[:-1]:
        raise FieldError(f"{option} {spec!r}: [] (append to a list) may only come last in a key")
    if not typed:
        return Field(key, raw)
    if raw.startswith("@"):
        return Field(key, _read_value(raw[1:], option, read_stdin))
    return Field(key, typed_value(raw))


def _read_value(source: str, option: str, read_stdin: Callable[[], str] | None) -> str:
    if source == "-":
        if read_stdin is None:
            raise FieldError(f"{option}: stdin (@-) can be read only once")
        return read_stdin()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise FieldError(f"{option}: cannot read {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FieldError(f"{option}: {source} is not UTF-8 text") from None


def parse_header(spec: str) -> tuple[str, str]:
    """``'Name: value'``, by the explorer's rules (``api.request_builder.parse_headers``): a
    header the client sets itself (Authorization, Host, Cookie, …) is refused."""
    from bonjoro_tui.api.request_builder import HeaderError, parse_headers

    if "\n" in spec or "\r" in spec:
        raise FieldError("-H/--header: one header per option, without line breaks")
    try:
        parsed = parse_headers(spec)
    except HeaderError as exc:
        raise FieldError(f"-H/--header {spec.split(':', 1)[0].strip()!r}: {exc}",
                         hint="give each -H as 'Name: value'; the client sets Authorization (the profile's "
                         "token, to the API's origin only), Host, Cookie and the framing headers itself") from None
    if len(parsed) != 1:
        raise FieldError(f"-H/--header {spec!r}: expected 'Name: value'")
    return next(iter(parsed.items()))


def fill_path(path: str, fields: list[Field]) -> tuple[str, list[Field]]:
    """``/users/{user_id}`` with a field ``user_id``: the path filled (each value one
    percent-encoded segment, by the explorer's ``api.request_builder.fill_path``), and the fields
    left over."""
    from bonjoro_tui.api.request_builder import MissingPathValue, fill_path as fill_template, path_param_names

    names = path_param_names(path)
    if not names:
        return path, fields
    given = {f.key: f for f in fields}
    missing = [n for n in names if n not in given]
    if missing:
        wanted = ", ".join("{" + n + "}" for n in missing)
        how = " ".join(f"-F {n}=VALUE" for n in missing)
        raise FieldError(f"the path {path} names {wanted}: give {'it' if len(missing) == 1 else 'them'} with {how}")
    try:
        filled = fill_template(path, {n: _as_text(given[n].value) for n in names})
    except MissingPathValue as exc:  # empty, "." or "..": it would not name one thing
        bad = ", ".join("{" + n + "}" for n in exc.names)
        raise FieldError(f"the path {path}: {bad} needs a value that is not empty, '.' or '..'") from None
    used = set(names)
    return filled, [f for f in fields if f.key not in used]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_query(fields: list[Field]) -> dict[str, list[str]]:
    """Every field as a query parameter, its key as written, in order."""
    query: dict[str, list[str]] = {}
    for f in fields:
        query.setdefault(f.key, []).append(_as_text(f.value))
    return query


def build_body(fields: list[Field]) -> dict[str, Any]:
    """The JSON object the fields describe (nested keys make objects, ``[]`` appends to a list)."""
    body: dict[str, Any] = {}
    for f in fields:
        parts = f.parts
        node: Any = body
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            where = parts[0] + "".join(f"[{p}]" for p in parts[1:i])
            if part == "":  # only last (parse_field)
                if not isinstance(node, list):
                    raise FieldError(f"field {f.key}: {where or parts[0]} is not a list")
                node.append(f.value)
                break
            if not isinstance(node, dict):
                raise FieldError(f"field {f.key}: {where} is not an object")
            if last:
                if part in node:
                    raise FieldError(f"field {f.key} is given twice (or is also an object or a list)")
                node[part] = f.value
            else:
                wants_list = parts[i + 1] == ""
                child = node.setdefault(part, [] if wants_list else {})
                if wants_list and not isinstance(child, list) or not wants_list and not isinstance(child, dict):
                    raise FieldError(f"field {f.key}: {part} is already a value of another kind")
                node = child
    return body


def plan_request(
    method: str | None,
    path: str,
    fields: list[Field],
    *,
    data: Any = None,
    has_data: bool = False,
    headers: Sequence[tuple[str, str]] = (),
    paginate: bool = False,
) -> RequestPlan:
    """The request ``bonjoro-tui api`` sends (and the dashboard could): see the module docstring."""
    path, rest = fill_path(path, fields)
    if method is None:
        method = "POST" if (rest or has_data) and not paginate else "GET"
    method = method.upper()
    if method not in METHODS:
        raise FieldError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    params: dict[str, list[str]] = {}
    body = data
    if method in QUERY_METHODS:
        params = build_query(rest)
    elif rest:
        if has_data:
            raise FieldError("give the body either with --data or with -F/-f fields, not both")
        body = build_body(rest)
    merged: dict[str, str] = {}
    for name, value in headers:
        canonical = "Accept" if name.lower() == "accept" else name
        merged[canonical] = value
    return RequestPlan(method, path, params, body, merged)
