"""No token or secret in any snapshot SVG or screenshot: the sandbox's fixed secrets, any whole
JWT (access tokens), and every code and refresh token the sandbox issues under the fixed
randomness the snapshots and screenshots are made with. (Each snapshot test also checks its own
screen against the tokens actually issued during that test.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from .scenes import sandbox_secrets
from .secrets_scan import assert_no_secrets, svg_text

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "tests" / "tui" / "__snapshots__").rglob("*.svg")) + sorted((ROOT / "screenshots").glob("*"))


def test_there_are_pictures_to_check():
    assert len([f for f in FILES if "__snapshots__" in str(f)]) >= 18
    assert len([f for f in FILES if f.parent.name == "screenshots"]) >= 8


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_picture_shows_no_secret(path):
    svg = path.read_text(encoding="utf-8")
    assert svg_text(svg).strip(), "the scan must see the picture's text"
    assert_no_secrets(svg, sandbox_secrets())


def test_the_scan_finds_a_planted_secret():
    planted = '<svg><text x="0">token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc</text></svg>'
    with pytest.raises(AssertionError):
        assert_no_secrets(planted)
    wrapped = '<svg><text>… sandbox-se</text><text>cret …</text></svg>'
    with pytest.raises(AssertionError):
        assert_no_secrets(wrapped)
    issued = sandbox_secrets(1)[0]
    with pytest.raises(AssertionError):
        assert_no_secrets(f"<svg><text>{issued[5:30]}</text></svg>", [issued])
