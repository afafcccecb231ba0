"""bonjoro-tui: sign in to Bonjoro with OAuth 2.0, watch the token, explore API v2.

Everything in this package except ``bonjoro_tui.tui`` is headless and never imports Textual.
"""

__version__ = "0.1.0"
