"""Benchmarks of bonjoro-tui against the floor set by Textual and httpx (``make bench``).

Every figure runs its baseline in the same run, interleaved with ours (A B A B …) so that the
machine's noise hits both alike; the table quotes medians, their spread and the ratio.
``BENCH_QUICK=1`` (``make bench-smoke``) runs a few repetitions only. See docs/PERFORMANCE.md.
"""
