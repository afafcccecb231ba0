"""account/format.py: durations in a sentence (duration) against a ticking countdown (countdown),
times and sizes — one spelling for both front ends."""

from __future__ import annotations

import pytest

from bonjoro_tui.account.format import clock_time, countdown, duration, iso, size


@pytest.mark.parametrize(
    "seconds, sentence, ticking",
    [
        (0, "0s", "0s"),
        (9, "9s", "9s"),
        (45, "45s", "45s"),
        (60, "1m", "1m 00s"),
        (65, "1m 5s", "1m 05s"),
        (3572, "59m 32s", "59m 32s"),
        (3600, "1h", "1h 00m 00s"),
        (3723, "1h 2m 3s", "1h 02m 03s"),
        (86400, "1d", "1d 00h 00m"),
        (90061, "1d 1h 1m 1s", "1d 01h 01m"),  # the countdown drops the seconds past a day
        (59.9, "59s", "59s"),  # both truncate
    ],
)
def test_duration_against_countdown(seconds, sentence, ticking):
    assert duration(seconds) == sentence
    assert countdown(seconds) == ticking


def test_past_times():
    """duration never goes below zero; countdown shows how long ago, without a sign (callers
    say 'ago'); None is a token that never expires."""
    assert duration(-5) == "0s"
    assert countdown(-5) == "5s"
    assert countdown(-3723) == "1h 02m 03s"
    assert countdown(None) == "never"


@pytest.mark.parametrize("start, stop, width", [(60, 600, 6), (3600, 36000, 10), (86400, 864000, 10)])
def test_a_countdown_does_not_change_width_as_it_ticks(start, stop, width):
    assert {len(countdown(s)) for s in range(start, stop, 7)} == {width}


def test_iso_and_clock_time():
    assert iso(1_800_000_000.0) == "2027-01-15T08:00:00Z"
    assert iso(1_800_000_000.75) == "2027-01-15T08:00:00Z"
    assert iso(None) is None
    assert clock_time(1_800_000_000.0) == "2027-01-15 08:00:00 UTC"
    assert clock_time(None) == "—"


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1536, "1.5 KB"),
                                      (1024 * 1024, "1.0 MB"), (64 * 1024 * 1024, "64.0 MB")])
def test_size(n, text):
    assert size(n) == text
