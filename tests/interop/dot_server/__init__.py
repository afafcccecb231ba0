"""A minimal Django project around django-oauth-toolkit (DOT), for the interop tests only.

``python -m dot_server --db PATH`` (with ``tests/interop`` on ``PYTHONPATH``) migrates a fresh
sqlite database, creates the user and the applications of :mod:`dot_server.seed`, serves the
project with uvicorn on a free 127.0.0.1 port and prints one JSON line once it accepts
connections (see :mod:`dot_server.__main__`). Nothing here is imported by the product.
"""
