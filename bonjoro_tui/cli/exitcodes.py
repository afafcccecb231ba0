"""Exit codes of every ``bonjoro-tui`` subcommand (documented in README and docs/CLI.md)."""

EXIT_OK = 0
EXIT_FAILURE = 1  # one line on stderr says what happened and what to do
EXIT_USAGE = 2  # bad arguments or a bad setting (the message names the flag, variable or file)
EXIT_NOT_SIGNED_IN = 4
