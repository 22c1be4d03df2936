"""The memory subsystem: note format, git-backed store, search index.

This package is a library on its own; it never imports ``agent``.
"""
