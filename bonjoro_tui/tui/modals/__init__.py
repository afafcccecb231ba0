"""Screens pushed over another: the sign-out confirmation, the URL alone, help."""
