"""Ferric's Python runtime helpers, loaded by ../bootstrap.py.

The package name starts with an underscore and its directory is removed from sys.path once loaded, so it
cannot shadow or be shadowed by a user module. Only the standard library is used; Python 3.8+.
"""
