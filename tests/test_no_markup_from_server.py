"""Lint: no text reaches a Textual/Rich sink in bonjoro_tui/tui without being either our own
literal or escaped by the one safe-text function (``bonjoro_tui.safetext.safe_text``, directly
or through ``tui.text.plain`` / ``rich_plain`` / ``template`` / ``notice``).

What it checks (an AST walk of every ``bonjoro_tui/tui/**/*.py``):

1. **Markup sinks** parse a ``str`` as Textual/Rich markup, so a server's ``[@click=…]`` would
   run an action and ``[/x]`` would raise ``MarkupError``: ``Static(x)``, ``Label(x)``,
   ``Button(x)``, ``<w>.update(x)``, ``<table>.add_row(*cells)``, tree ``add`` / ``add_leaf`` /
   ``set_label``, ``add_options``, assignments to ``.label`` / ``.border_title`` /
   ``.border_subtitle``, and ``notify(x)`` *unless* it passes
   ``markup=False``. Each argument must be **literal** — a constant, or an f-string / ``+`` /
   ``%`` whose every interpolation is a constant, a number formatter (``duration``,
   ``clock_time``, ``size``, ``len``, ``int``, ``round``, ``min``, ``max`` …) or carries a
   numeric format spec (``{x:.0f}``) — or an object that is not parsed:
   a call to ``plain`` / ``rich_plain`` / ``template`` (with a literal template) / ``grid`` /
   ``Text`` / ``Text.assemble`` / ``Content``, a ``self.<method>()`` whose return annotation is
   ``Text`` / ``Content`` / ``Table`` (likewise a module-level function), or a local name or
   parameter that is one of those.
   ``safe_text(x)`` alone is *not* enough here: it escapes controls, not brackets.
2. **Text sinks** never parse markup but write their text to the terminal, so each text
   argument must be **safe**: a literal as above, or a call to an escaper (``safe_text``,
   ``notice``, ``plain``, ``rich_plain``, ``template``, ``safe_json_dumps``), possibly
   interpolated into an f-string or joined with literals — or a module-level helper every
   ``return`` of which is safe (inferred, e.g. ``_header()`` returning ``safe_text(...)``):
   ``Text(x)``, ``Text.assemble(...)``
   (strings and ``(str, style)`` pairs), ``Content(x)``, ``<text>.append(x)`` on a local that
   holds a ``Text``, ``notify(x, markup=False)``, ``Static(x, markup=False)``, assignments to
   ``.title`` / ``.sub_title`` (the header builds ``Content`` from them).
3. **Names** are followed inside the enclosing function: every assignment (``=``, ``+=``,
   conditional) to the name must satisfy the rule the sink needs. Module-level UPPER_CASE
   constants count as literals. Anything else — an attribute (``self.url``, ``t.scope``), a
   subscript (``user["name"]``), a parameter without a renderable annotation, ``str(x)`` — is
   rejected, because it may hold server text.

A line can opt out with ``# safe-text: <reason>``; the reason is required. ``REVIEWED`` below
lists findings in files owned by others, by file and exact expression, each with its reason:
when such a line changes, the entry stops matching and the finding comes back.

The lint is checked against itself: ``BAD`` snippets (each a real way server text leaked
before) must be flagged and ``GOOD`` snippets must not.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "bonjoro_tui" / "tui"

ESCAPERS = {"safe_text", "notice", "plain", "rich_plain", "template", "safe_json_dumps"}
FORMATTERS = {"duration", "clock_time", "size", "len", "int", "float", "round", "abs", "min", "max"}
NUMERIC_SPEC = tuple("dfFeEgGn%xXob")  # an f-string format spec that only a number accepts
RENDERABLE_BUILDERS = {"plain", "rich_plain", "template", "grid", "Text", "Content"}
RENDERABLE_TYPES = {"Text", "Content", "Table"}
MARKUP_CALLS = {"Static", "Label", "Button"}
MARKUP_METHODS = {"update", "add_row", "add_leaf", "set_label", "add_options"}
MARKUP_ATTRS = {"label", "border_title", "border_subtitle"}
TEXT_ATTRS = {"sub_title", "title"}  # the header shows them as Content(str): never markup, but on screen
TREE_RECEIVERS = ("node", "root", "tree")  # `.add(` is a markup sink on these receivers only
PRAGMA = "# safe-text:"

#: Findings in files this lint's author does not own, reviewed one by one: (file, expression).
REVIEWED: dict[tuple[str, str], str] = {
    ("screens/explorer.py", "f'{tag} ({len(groups[tag])})'"): "the endpoint catalog: parsed from the API definition packaged with bonjoro-tui, not a response",
    ("screens/explorer.py", "f'{ep.method:<6} '"): "the endpoint catalog: parsed from the API definition packaged with bonjoro-tui, not a response",
    ("screens/explorer.py", "ep.path"): "the endpoint catalog: parsed from the API definition packaged with bonjoro-tui, not a response",
    ("screens/explorer.py", "f'{ep.method} {ep.path}'"): "the endpoint catalog: parsed from the API definition packaged with bonjoro-tui, not a response",
    ("screens/explorer.py", "f\"  {ep.summary or ''}\""): "the endpoint catalog: parsed from the API definition packaged with bonjoro-tui, not a response",
    ("screens/explorer.py", "f'Sending {exchange.method} {safe_text(exchange.path)} …'"):
        "the method is one of the explorer's fixed list of HTTP methods; the path is escaped",
    ("widgets/response.py", "f' {status} {httpx.codes.get_reason_phrase(status)} '"):
        "httpx's own table of standard reason phrases, looked up by the status code (an int)",
    ("widgets/json_tree.py", "str(value)"):
        "a JSON number here: strings, null and booleans are returned earlier in _scalar",
    ("widgets/json_tree.py", "safe_text(key, limit=KEY_LIMIT) if isinstance(key, str) else f'[{key}]'"):
        "a str key is escaped; the other branch is a list index (an int)",
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.source}"


class Scope:
    """Assignments and parameter annotations of one function (or the module)."""

    def __init__(self, node: ast.AST, module_constants: set[str], methods: dict[str, ast.FunctionDef],
                 module: "Module | None" = None) -> None:
        self.assigned: dict[str, list[ast.expr]] = {}
        self.params: dict[str, ast.expr | None] = {}
        self.module_constants = module_constants
        self.methods = methods
        self.module = module or Module()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                if a is not None:
                    self.params[a.arg] = a.annotation
        for sub in ast.walk(node):
            if isinstance(sub, ast.Assign):
                for target in sub.targets:
                    for name in _names(target):
                        self.assigned.setdefault(name, []).append(sub.value if isinstance(target, ast.Name) else None)
            elif isinstance(sub, (ast.AugAssign, ast.AnnAssign)) and isinstance(sub.target, ast.Name) and sub.value:
                self.assigned.setdefault(sub.target.id, []).append(sub.value)
            elif isinstance(sub, (ast.For, ast.AsyncFor, ast.comprehension)):
                for name in _names(sub.target):
                    self.assigned.setdefault(name, []).append(None)  # a loop variable: unknown
            elif isinstance(sub, ast.NamedExpr):
                self.assigned.setdefault(sub.target.id, []).append(sub.value)


@dataclass
class Module:
    """What one file defines: functions that return renderables, and inferred escapers."""

    renderers: set[str] = None  # type: ignore[assignment]
    escapers: set[str] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.renderers = set() if self.renderers is None else self.renderers
        self.escapers = set() if self.escapers is None else self.escapers


def _module_info(tree: ast.Module, constants: set[str]) -> Module:
    module = Module()
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    module.renderers = {f.name for f in defs if _annotation_is_renderable(f.returns)}
    changed = True
    while changed:  # a helper may return another helper's result
        changed = False
        for f in defs:
            if f.name in module.escapers:
                continue
            check = Checker(Scope(f, constants, {}, module))
            returns = [n.value for n in ast.walk(f) if isinstance(n, ast.Return)]
            if returns and all(v is None or check.safe(v) for v in returns):
                module.escapers.add(f.name)
                changed = True
    return module


def _names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    return []


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_text_class_call(call: ast.Call) -> bool:
    """``Text(...)``, ``Text.assemble(...)``, ``Content(...)``, ``Content.assemble(...)``."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in ("Text", "Content")
    return (isinstance(func, ast.Attribute) and func.attr in ("assemble",)
            and isinstance(func.value, ast.Name) and func.value.id in ("Text", "Content"))


class Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._seen: set[tuple[str, str]] = set()

    # -- the two properties -----------------------------------------------------------------

    def literal(self, e: ast.expr | None) -> bool:
        """Our own text: no value from outside can be in it."""
        if e is None:
            return False
        if isinstance(e, ast.Constant):
            return True
        if isinstance(e, ast.JoinedStr):
            return all(self._numeric(v) or self.literal(v.value) if isinstance(v, ast.FormattedValue) else True
                       for v in e.values)
        if isinstance(e, ast.BinOp):  # string concatenation or arithmetic on literals
            return self.literal(e.left) and self.literal(e.right)
        if isinstance(e, ast.IfExp):
            return self.literal(e.body) and self.literal(e.orelse)
        if isinstance(e, ast.BoolOp):
            return all(self.literal(v) for v in e.values)
        if isinstance(e, ast.Compare | ast.UnaryOp):
            return True  # a bool or number
        if isinstance(e, ast.Call):
            return _call_name(e) in FORMATTERS or (
                isinstance(e.func, ast.Attribute) and e.func.attr in ("lower", "upper", "strip", "title")
                and self.literal(e.func.value))
        if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Dict):
            return all(self.literal(v) for v in e.value.values)
        if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and e.value.id in self.scope.module_constants:
            return True  # one of our module's constant tables (ICONS[state])
        if isinstance(e, ast.Name):
            return self._name(e.id, self.literal, allow_param=False)
        return False

    @staticmethod
    def _numeric(v: ast.FormattedValue) -> bool:
        spec = v.format_spec
        if not isinstance(spec, ast.JoinedStr) or not all(isinstance(p, ast.Constant) for p in spec.values):
            return False
        text = "".join(str(p.value) for p in spec.values)
        return text.endswith(NUMERIC_SPEC)

    def safe(self, e: ast.expr | None) -> bool:
        """Text fit for a non-markup sink: literal, or escaped by the one function."""
        if e is None:
            return False
        if self.literal(e):
            return True
        if isinstance(e, ast.JoinedStr):
            return all(self.safe(v.value) if isinstance(v, ast.FormattedValue) else True for v in e.values)
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Mod)):
            return self.safe(e.left) and self.safe(e.right)
        if isinstance(e, ast.IfExp):
            return self.safe(e.body) and self.safe(e.orelse)
        if isinstance(e, ast.BoolOp):
            return all(self.safe(v) for v in e.values)
        if isinstance(e, ast.Call):
            name = _call_name(e)
            if name in ESCAPERS or (isinstance(e.func, ast.Name) and name in self.scope.module.escapers):
                return True
            if isinstance(e.func, ast.Attribute) and e.func.attr == "join":  # "sep".join(safe parts)
                return self.literal(e.func.value) and all(self._elements_safe(a) for a in e.args)
            return False
        if isinstance(e, ast.Name):
            return self._name(e.id, self.safe, allow_param=False)
        return False

    def renderable(self, e: ast.expr | None) -> bool:
        """For a markup sink: literal markup of ours, or an object that is never parsed."""
        if e is None:
            return False
        if self.literal(e):
            return True
        if isinstance(e, ast.IfExp):
            return self.renderable(e.body) and self.renderable(e.orelse)
        if isinstance(e, ast.Call):
            name = _call_name(e)
            if name == "template":
                return bool(e.args) and self.literal(e.args[0])
            if name in RENDERABLE_BUILDERS or _is_text_class_call(e):
                return True
            if isinstance(e.func, ast.Name) and name in self.scope.module.renderers:
                return True
            func = e.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
                method = self.scope.methods.get(func.attr)
                return method is not None and _annotation_is_renderable(method.returns)
            return False
        if isinstance(e, ast.Name):
            return self._name(e.id, self.renderable, allow_param=True)
        return False

    def _elements_safe(self, e: ast.expr) -> bool:
        if isinstance(e, (ast.GeneratorExp, ast.ListComp)):
            return self.safe(e.elt)
        if isinstance(e, (ast.List, ast.Tuple)):
            return all(self.safe(x) for x in e.elts)
        return False

    def _name(self, name: str, prop, *, allow_param: bool) -> bool:
        if name in self.scope.module_constants:
            return True
        key = (name, prop.__name__)
        if key in self._seen:  # a cycle (x = x + "…"): decided by the other assignments
            return True
        if name in self.scope.params:
            return allow_param and _annotation_is_renderable(self.scope.params[name])
        values = self.scope.assigned.get(name)
        if not values:
            return False
        self._seen.add(key)
        try:
            return all(prop(v) for v in values)
        finally:
            self._seen.discard(key)


def _annotation_is_renderable(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    names = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
    names |= {n.value for n in ast.walk(annotation) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return bool(names) and names <= RENDERABLE_TYPES | {"None"}


def _text_locals(scope: Scope) -> set[str]:
    """Locals that hold a Rich ``Text`` / ``Content`` (their ``.append`` is a text sink)."""
    held = set()
    for name, values in scope.assigned.items():
        if values and all(isinstance(v, ast.Call) and (_is_text_class_call(v) or _call_name(v) in ("rich_plain", "plain"))
                          for v in values):
            held.add(name)
    for name, annotation in scope.params.items():
        if _annotation_is_renderable(annotation):
            held.add(name)
    return held


def lint_source(source: str, path: str = "<string>") -> list[Finding]:
    tree = ast.parse(source)
    lines = source.splitlines()
    constants = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name) and t.id.isupper()}
    constants |= {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names
                  if (a.asname or a.name).isupper()}  # MAX_DEPTH imported from another module
    findings: list[Finding] = []

    def functions(node: ast.AST, methods: dict[str, ast.FunctionDef]):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                own = {f.name: f for f in child.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
                yield from functions(child, own)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child, methods
                yield from functions(child, methods)

    module = _module_info(tree, constants)
    units = [(tree, {})] + list(functions(tree, {}))
    for unit, methods in units:
        scope = Scope(unit, constants, methods, module)
        check = Checker(scope)
        text_locals = _text_locals(scope)
        body = [unit] if isinstance(unit, ast.Module) else unit.body
        for stmt in body:
            for node in _walk_own(stmt, top=isinstance(unit, ast.Module)):
                findings.extend(_check_node(node, check, text_locals, lines, path))
    return findings


def _walk_own(node: ast.AST, *, top: bool):
    """``ast.walk`` that does not enter nested functions/classes (they are their own unit);
    lambdas belong to the function they are written in."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield n
        stack.extend(ast.iter_child_nodes(n))


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _markup_off(call: ast.Call) -> bool:
    value = _kw(call, "markup")
    return isinstance(value, ast.Constant) and value.value is False


def _check_node(node: ast.AST, check: Checker, text_locals: set[str], lines: list[str], path: str) -> list[Finding]:
    problems: list[tuple[str, ast.expr]] = []
    if isinstance(node, ast.Call):
        name = _call_name(node)
        func = node.func
        receiver = func.value if isinstance(func, ast.Attribute) else None
        receiver_name = receiver.id if isinstance(receiver, ast.Name) else (
            receiver.attr if isinstance(receiver, ast.Attribute) else "")
        args = node.args
        if name in ("template", "from_markup") and args:
            if not check.literal(args[0]):
                problems.append((f"{name}() parses its first argument as markup: it must be ours", args[0]))
        elif name == "notify" and args:
            if _markup_off(node):
                if not check.safe(args[0]):
                    problems.append(("notify(markup=False) text not escaped", args[0]))
            elif not check.literal(args[0]):
                problems.append(("notify() parses markup: non-literal message needs markup=False", args[0]))
        elif name in MARKUP_CALLS and isinstance(func, ast.Name) and args:
            if _markup_off(node):
                if not check.safe(args[0]):
                    problems.append((f"{name}(markup=False) text not escaped", args[0]))
            elif not check.renderable(args[0]):
                problems.append((f"{name}() parses a str as markup", args[0]))
        elif isinstance(func, ast.Attribute) and (
                name in MARKUP_METHODS or (name == "add" and receiver_name.lower().endswith(TREE_RECEIVERS))):
            if name == "add_options":
                items = args[0].elts if args and isinstance(args[0], (ast.List, ast.Tuple)) else None
                elt = args[0].elt if args and isinstance(args[0], (ast.ListComp, ast.GeneratorExp)) else None
                candidates = items if items is not None else ([elt] if elt is not None else args[:1])
            elif name == "add_row":
                candidates = list(args)
            else:
                candidates = args[:1]
            for arg in candidates:
                if not check.renderable(arg):
                    problems.append((f".{name}() parses a str as markup", arg))
        elif _is_text_class_call(node):
            parts = args if isinstance(func, ast.Attribute) else args[:1]
            for arg in parts:
                text = arg.elts[0] if isinstance(arg, ast.Tuple) and arg.elts else arg
                if isinstance(text, ast.Call) and (_is_text_class_call(text) or _call_name(text) in RENDERABLE_BUILDERS):
                    continue
                if not check.safe(text):
                    problems.append((f"{ast.unparse(func)}() text not escaped", text))
        elif name in ("append", "append_text") and receiver_name in text_locals and args:
            arg = args[0]
            if not (check.safe(arg) or check.renderable(arg) or (
                    isinstance(arg, ast.IfExp) and all(check.safe(b) or check.renderable(b) for b in (arg.body, arg.orelse)))):
                problems.append((f"{receiver_name}.append() text not escaped", arg))
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr in MARKUP_ATTRS:
                if not check.renderable(node.value):
                    problems.append((f".{target.attr} = parses a str as markup", node.value))
            elif isinstance(target, ast.Attribute) and target.attr in TEXT_ATTRS:
                if not check.safe(node.value):
                    problems.append((f".{target.attr} = text not escaped", node.value))
    found = []
    for rule, expr in problems:
        line = lines[expr.lineno - 1] if expr.lineno <= len(lines) else ""
        if PRAGMA in line and line.split(PRAGMA, 1)[1].strip():
            continue
        source = ast.unparse(expr)
        if (path, source) in REVIEWED:
            continue
        found.append(Finding(path, expr.lineno, rule, source))
    return found


# ---- the lint, on the code ----------------------------------------------------------------


def tui_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", tui_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unescaped_text_reaches_a_sink(path):
    rel = str(path.relative_to(ROOT))
    findings = lint_source(path.read_text(encoding="utf-8"), rel)
    assert not findings, "server text may reach the screen unescaped or as markup:\n" + "\n".join(map(str, findings))


def test_the_lint_sees_the_files():
    names = {str(p.relative_to(ROOT)) for p in tui_files()}
    assert {"app.py", "screens/status.py", "screens/login.py", "widgets/steps.py", "text.py"} <= names


def test_reviewed_entries_still_exist():
    """A reviewed finding whose line is gone is removed from REVIEWED (no stale permissions)."""
    for (rel, source) in REVIEWED:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        assert any(ast.unparse(n) == source for n in ast.walk(tree) if isinstance(n, ast.expr)), (rel, source)


# ---- the lint, on itself --------------------------------------------------------------------

BAD = {
    "notify with server text, markup on": 'def f(self, exc):\n    self.notify(f"Failed: {exc}")\n',
    "notify markup=False but raw": 'def f(self, exc):\n    self.notify(f"Failed: {exc}", markup=False)\n',
    "notify with explain() output": 'def f(self, exc):\n    what, todo = self.explain(exc)\n    self.notify(f"{what}\\n{todo}")\n',
    "Static with a /me name": 'def f(self, user):\n    yield Static(f"Hello {user[\'name\']}")\n',
    "Static markup=False, not escaped": 'def f(self):\n    yield Static(self.url, markup=False)\n',
    "update with an attribute": 'def f(self, profile):\n    self.query_one(Static).update(profile.tokens.scope)\n',
    "update with safe_text (brackets still parsed)": 'def f(self, name):\n    self.query_one(Static).update(safe_text(name))\n',
    "update with a str local": 'def f(self, user):\n    who = user_name(user)\n    w.update(f"Signed in as {who}")\n',
    "Text with raw detail": 'def f(self, s):\n    return Text(s.detail, style="dim")\n',
    "Text.append raw": 'def f(self, what):\n    out = Text()\n    out.append(what + "\\n")\n',
    "Text.assemble raw pair": 'def f(self, b):\n    return Text.assemble(b.description, (f"  id: {b.id}", "dim"))\n',
    "add_row with str cells": 'def f(rows):\n    for key, value in rows:\n        table.add_row(key, value)\n',
    "tree leaf from a key": 'def f(node, key):\n    node.add_leaf(f"{key}: value")\n',
    "tree add from a value": 'def f(tree, value):\n    tree.root.add(str(value))\n',
    "button label from config": 'def f(self, key):\n    button.label = f"Refresh ({key(\'refresh\')})"\n',
    "border_title from server": 'def f(self, r):\n    w.border_title = r.reason\n',
    "sub_title from settings": 'def f(self):\n    self.sub_title = f"LIVE · {self.settings.base_url}"\n',
    "nested function is checked too": 'def f(self):\n    def g(x):\n        self.notify(x)\n    g(1)\n',
    "Content of a header": 'def f(r):\n    return Content(r.headers["x"])\n',
    "template built from server text": 'def f(name):\n    return template(f"[b]{name}[/b]")\n',
    "from_markup of server text": 'def f(r):\n    return Content.from_markup(r.text)\n',
    "escaper inference is not fooled": 'def h(x):\n    return x.strip()\ndef f(v):\n    return Text(h(v))\n',
    "pragma without a reason": 'def f(self, x):\n    self.notify(x)  # safe-text:\n',
    "options from raw labels": 'def f(self, hist):\n    o.add_options([e.label() for e in hist])\n',
}

GOOD = {
    "literal notify": 'def f(self):\n    self.notify("Saved.", title="Saved")\n',
    "formatted numbers in notify": 'def f(self, left):\n    self.notify(f"valid for {duration(left)}.")\n',
    "escaped notify": 'def f(self, what):\n    self.notify(f"Failed: {notice(what)}", markup=False)\n',
    "plain in Static": 'def f(self):\n    yield Static(plain(self.url))\n',
    "template with values": 'def f(self, k):\n    yield Static(template("[b]Keys[/b] $k", k=k))\n',
    "Text built from escaped parts": ('def f(self, what):\n    out = Text()\n    out.append("Failed: ", style="red")\n'
                                      '    out.append(rich_plain(what))\n    self.query_one(Static).update(out)\n'),
    "f-string with safe_text into Text": 'def f(self, u):\n    w.update(Text(f"Signed in as {safe_text(u)}.", style="b"))\n',
    "renderable method": ('class S:\n    def _t(self) -> Text:\n        return Text("x")\n'
                          '    def f(self):\n        w.update(self._t())\n'),
    "renderable parameter": 'def f(self, outcome: Text):\n    w.update(outcome)\n',
    "grid": 'def f(self, rows):\n    w.update(grid(rows))\n',
    "pragma with a reason": 'def f(self, x):\n    self.notify(x)  # safe-text: x is a literal passed by every caller\n',
    "literal dict lookup": 'def f(self, m):\n    text = {"a": "A", "b": "B"}[m]\n    text += "\\n[yellow]note[/yellow]"\n    w.update(text)\n',
    "inferred escaper": 'def h(x):\n    return None if x is None else safe_text(x)\ndef f(v):\n    return Text(f"a {h(v) or \'?\'}")\n',
    "numeric format spec": 'def f(e):\n    return Text(f"{e.elapsed * 1000:.0f} ms")\n',
    "renderable module function": 'def g(v) -> Text:\n    return Text("x")\ndef f(node, v):\n    node.add_leaf(g(v))\n',
    "add_row with rich_plain": 'def f(rows):\n    for k, v in rows:\n        table.add_row(rich_plain(k), rich_plain(v))\n',
}


@pytest.mark.parametrize("name", list(BAD))
def test_the_lint_flags(name):
    assert lint_source(textwrap.dedent(BAD[name])), f"not flagged: {name}"


@pytest.mark.parametrize("name", list(GOOD))
def test_the_lint_passes(name):
    assert lint_source(textwrap.dedent(GOOD[name])) == [], name
