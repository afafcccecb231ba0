"""The package as a user installs it (`pipx install .`, `uv tool install .`): build the sdist, build
the wheel *from the sdist* (so a file missing from the sdist is caught too), install the wheel into
a fresh virtual environment and run the installed `bonjoro-tui` from there.

Offline and quick (well under 40 s): the build calls setuptools' PEP 517 hooks in this venv (no
isolated build environment to download), and the fresh venv reuses this venv's installed
dependencies through a ``.pth`` line instead of downloading them again; the wheel itself is
installed with ``--no-deps``. The installed copy, not the checkout, must be the one that runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
BUILD = r"""
import sys
from setuptools import build_meta
kind, out = sys.argv[1], sys.argv[2]
name = build_meta.build_sdist(out) if kind == "sdist" else build_meta.build_wheel(out)
print(name)
"""


def project_files() -> list[str]:
    """The checkout's files as a fresh clone has them (tracked ones, as they are in the work tree)."""
    done = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=30)
    if done.returncode != 0:  # pragma: no cover - not a git checkout
        pytest.skip("not a git checkout: cannot tell the project's files from build leftovers")
    return [p for p in done.stdout.decode().split("\0") if p and (ROOT / p).is_file()]


def build(kind: str, source: Path, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-c", BUILD, kind, str(out)], cwd=source, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


def packaged_data() -> list[str]:
    """The files pyproject's package-data names, as paths inside the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["bonjoro_tui"]
    package = ROOT / "bonjoro_tui"
    found = [f"bonjoro_tui/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
             if p.is_file() and any(fnmatch(p.relative_to(package).as_posix(), g) for g in globs)]
    assert any(f.endswith(".json") for f in found) and any(f.endswith(".tcss") for f in found)
    return sorted(found)


def test_the_wheel_built_from_the_sdist_installs_and_runs(tmp_path):
    source = tmp_path / "checkout"
    for rel in project_files():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, source / rel)
    dist = tmp_path / "dist"
    dist.mkdir()

    sdist = build("sdist", source, dist)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    wheel = build("wheel", unpacked, dist)

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    missing = [f for f in packaged_data() if f not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert "bonjoro-tui = bonjoro_tui.cli:main" in entry_points
    for line in ("Project-URL: Homepage, https://github.com/bonjoro-tui/bonjoro-tui", "Keywords: ",
                 "Classifier: Environment :: Console", "Author: the bonjoro-tui developers", "License-Expression: MIT"):
        assert line in metadata, line
    assert not any(n.startswith("tests/") for n in names)

    # A fresh venv: the wheel installed without its dependencies, which come from this venv.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    fresh_site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    (fresh_site / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO") and k != "PYTHONPATH"}
    env.update(BONJORO_TUI_DATA_DIR=str(home / "data"), BONJORO_TUI_CONFIG_DIR=str(home / "config"),
               BONJORO_TUI_LOG_DIR=str(home / "log"), NO_PROXY="127.0.0.1,localhost")
    tool = venv / "bin" / "bonjoro-tui"
    work = tmp_path / "work"  # not the checkout: `import bonjoro_tui` must find the installed copy
    work.mkdir(exist_ok=True)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(tool), *args], capture_output=True, text=True, env=env, cwd=work, timeout=60)

    where = subprocess.run([python, "-c", "import bonjoro_tui, bonjoro_tui.api.catalog as c; "
                            "print(bonjoro_tui.__file__); print(len(c.load_catalog()))"],
                           capture_output=True, text=True, env=env, cwd=work, timeout=60)
    assert where.returncode == 0, where.stderr
    installed, endpoints = where.stdout.split()
    assert Path(installed).is_relative_to(venv) and int(endpoints) > 10  # the packaged spec, read

    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("bonjoro-tui ")

    status = run("status", "--json")
    assert status.returncode == 4, status.stderr
    assert json.loads(status.stdout)["signed_in"] is False

    sandbox = subprocess.Popen([str(tool), "sandbox"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, cwd=work)
    try:
        first = sandbox.stdout.readline()
    finally:
        sandbox.terminate()
        out, err = sandbox.communicate(timeout=15)
    assert first.startswith("Bonjoro sandbox listening on http://127.0.0.1:"), first + err
    assert sandbox.returncode == 0, err
