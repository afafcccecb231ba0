"""The Textual dashboard: the only layer of bonjoro-tui that imports textual."""
