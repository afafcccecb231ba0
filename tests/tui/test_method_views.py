"""Adding a sign-in method is one entry on the wizard (docs/DESIGN.md): every member of the enum
has its view, and every step a view lists is one the application layer reports."""

from bonjoro_tui.account.methods import CLI_NAMES, SignInMethod
from bonjoro_tui.auth.login import LoginStep
from bonjoro_tui.cli.parser import build_parser
from bonjoro_tui.tui.screens.login import METHOD_VIEWS


def test_every_method_has_a_view_whose_steps_exist():
    assert list(METHOD_VIEWS) == list(SignInMethod)
    for view in METHOD_VIEWS.values():
        assert [LoginStep(key) for key, _label in view.steps]  # raises on an unknown step
        assert view.steps[-1][0] == LoginStep.PROFILE.value


def test_the_cli_offers_every_method():
    login = build_parser()._subparsers._group_actions[0].choices["login"]  # type: ignore[union-attr]
    method = next(a for a in login._actions if a.dest == "method")
    assert tuple(method.choices) == CLI_NAMES
