"""Every subcommand's --help has a description and examples; `completion` prints a script for
bash, zsh and fish generated from the real parser (shtab), which the shell itself accepts."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

import pytest

from bonjoro_tui.cli.parser import COMPLETION_SHELLS, build_parser


def subcommands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every subcommand, nested ones too ("profiles use")."""
    parser = parser or build_parser()
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[prefix + name] = sub
                found.update(subcommands(sub, prefix + name + " "))
    return found


def test_every_subcommand_help_has_a_description_and_examples():
    commands = subcommands()
    assert {"token", "exec", "api", "completion", "status", "login", "profiles", "profiles use"} <= set(commands)
    for name, sub in commands.items():
        text = sub.format_help()
        assert sub.description and sub.description.split()[0] in text, name
        assert "\nexamples:\n  " in text, f"bonjoro-tui {name} --help has no examples"
        assert isinstance(sub.formatter_class, type) and issubclass(
            sub.formatter_class, argparse.RawDescriptionHelpFormatter), name  # the examples keep their lines


def completion(shell: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bonjoro_tui", "completion", shell], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("shell", COMPLETION_SHELLS)
def test_completion_scripts_name_every_subcommand(shell, tmp_path):
    script = completion(shell)
    for name in subcommands():
        assert name.split()[-1] in script, (shell, name)
    for option in ("--paginate", "--jq", "--show", "--no-revoke"):
        spelled = f"-l {option[2:]}" if shell == "fish" else option  # fish: complete … -l paginate
        assert spelled in script, (shell, option)
    program = {"bash": "bash", "zsh": "zsh", "fish": "fish"}[shell]
    if shutil.which(program):
        path = tmp_path / f"completion.{shell}"
        path.write_text(script)
        check = [program, "--no-execute", str(path)] if shell == "fish" else [program, "-n", str(path)]
        done = subprocess.run(check, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr


def test_completion_of_an_unknown_shell_is_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "bonjoro_tui", "completion", "tcsh"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice" in done.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_completes_commands_options_and_choices(tmp_path):
    path = tmp_path / "bonjoro-tui.bash"
    path.write_text(completion("bash"))
    probe = (f'source "{path}"; complete -p bonjoro-tui >/dev/null || exit 3; '
             'try() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _shtab_bonjoro_tui; echo "${COMPREPLY[*]}"; }; '
             'try bonjoro-tui to; try bonjoro-tui api --pag; try bonjoro-tui completion ""')
    done = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["token", "--paginate", "bash zsh fish"]
