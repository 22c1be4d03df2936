"""The one user-facing error type, shared by the library and the CLI."""

from __future__ import annotations

USAGE = 2  # usage, configuration or workspace error
REFUSED = 1  # the operation was understood and refused


class ScribeError(Exception):
    """An error the user can fix; the CLI prints it as ``error: ...``."""

    exit_code = USAGE


class Refused(ScribeError):
    """A well-formed request that scribe will not carry out."""

    exit_code = REFUSED


class NoteError(ScribeError):
    """A note that breaks the note format, naming file, field and problem."""

    def __init__(self, path: str, field: str | None, problem: str) -> None:
        self.path, self.field, self.problem = path, field, problem
        where = f"{path}: {field}" if field else path
        super().__init__(f"{where}: {problem}")


class PathRefused(Refused):
    """A note path outside the path policy."""
