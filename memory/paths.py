"""The path policy: where a note may live and what its bytes may be.

A note path is ``<folder>/<slug>.md`` relative to the memory root, where
folder is one of skills/, experiences/, knowledge/. Nothing else is ever
written: no ``..``, no absolute paths, no symlink on the way, UTF-8 only,
and no larger than the configured cap.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path, PurePosixPath

from memory.errors import PathRefused
from memory.note import KIND_OF_FOLDER

DEFAULT_MAX_BYTES = 64 * 1024
SLUG_FILE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.md$")


def check_note_path(root: Path, rel: str) -> Path:
    """Return the absolute path of a note, or refuse naming the problem."""
    if not isinstance(rel, str) or not rel:
        raise PathRefused("note path is empty; give one like skills/count-lines.md")
    if "\\" in rel or "\0" in rel:
        raise PathRefused(f"note path {rel!r} has a backslash or NUL; use forward slashes")
    pure = PurePosixPath(rel)
    if pure.is_absolute():
        raise PathRefused(f"note path {rel!r} is absolute; give it relative to the memory directory")
    if ".." in pure.parts or "." in rel.split("/"):
        raise PathRefused(f"note path {rel!r} contains '..' or '.'; paths stay inside the memory directory")
    if len(pure.parts) != 2 or pure.parts[0] not in KIND_OF_FOLDER:
        folders = ", ".join(f"{f}/" for f in KIND_OF_FOLDER)
        raise PathRefused(f"note path {rel!r} must be <folder>/<slug>.md with folder one of {folders}")
    if not SLUG_FILE.match(pure.parts[1]):
        raise PathRefused(f"note path {rel!r}: file name must be a slug like count-lines.md")
    refuse_symlinks(root, pure)
    return root.joinpath(*pure.parts)


def refuse_symlinks(root: Path, rel: PurePosixPath) -> None:
    """Refuse when the memory root or any component below it is a symlink."""
    current = root
    for part in ("", *rel.parts):
        current = current / part if part else current
        try:
            mode = current.lstat().st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise PathRefused(f"note path {str(rel)!r}: {current} is a symlink; notes never go through links")


def check_content(rel: str, content: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Encode a note's text as UTF-8 and enforce the size cap."""
    try:
        data = content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PathRefused(f"{rel}: content is not valid UTF-8 ({exc.reason})") from None
    if len(data) > max_bytes:
        raise PathRefused(f"{rel}: note is {len(data)} bytes, over the cap of {max_bytes}; shorten it")
    return data


def decode_note(rel: str, data: bytes) -> str:
    """Decode stored note bytes, refusing anything that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PathRefused(f"{rel}: file is not UTF-8 (byte {exc.start}); notes are UTF-8 text") from None


def is_note_file(rel: str) -> bool:
    """Whether a repository path is a note file by place (any .md name, hand-written ones too)."""
    folder, _, name = rel.partition("/")
    return folder in KIND_OF_FOLDER and name.endswith(".md") and "/" not in name
