"""The application layer: bonjoro-tui's use cases, written once for both front ends.

The command line (``bonjoro_tui.cli``) and the dashboard (``bonjoro_tui.tui``) are thin: they
collect input, call what is here, and render the results. This package is headless — it
imports neither Textual nor Rich — and owns the composition root (``open_session``), sign-in
for every method (``SignIn``), the account's status (``AccountStatus``), the signed-in user's
identity (``Identity``) and the shared formatting of durations, sizes and times.
"""
