"""Helpers that declare resources: a program's own modules, imported by __main__.py."""
