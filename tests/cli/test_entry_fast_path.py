"""``bonjoro-tui`` alone starts the dashboard without building the argument parser
(``cli/main.py``): the namespace it uses instead must be the one the parser gives."""

from __future__ import annotations

import argparse

from bonjoro_tui.cli.parser import build_parser


def test_no_words_means_what_the_parser_says():
    assert build_parser().parse_args([]) == argparse.Namespace(command=None)
