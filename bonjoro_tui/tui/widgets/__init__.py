"""Widgets shared by the screens: countdown, login step list, lazy JSON tree."""
