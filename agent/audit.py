"""The audit log: one JSON line per reviewed proposal, chained by sha256.

Each line's ``prev`` is the sha256 of the previous line's exact bytes (64
zeros on the first), so an edited, removed or inserted line breaks the
chain at a line ``verify`` can name. The hash of the last line is also kept
in ``audit.jsonl.head``, so an edit or removal at the very end shows too.
Appends are locked, flushed and fsynced.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

GENESIS = "0" * 64
FIELDS = ("id", "time", "run", "task", "kind", "tool", "target", "digest", "risk", "categories",
          "verdict", "decided_by", "reason", "reviewer_model", "latency_ms", "commit")


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.head = path.with_name(path.name + ".head")

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append one decision; returns the line as written, with its ``prev``."""
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            raise ValueError(f"audit entry lacks {missing}")  # a bug in the caller, not a user error
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                line = {**{f: entry[f] for f in FIELDS}, "prev": _last_hash(handle)}
                raw = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                handle.write(raw + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
                self.head.write_text(hashlib.sha256(raw).hexdigest() + "\n")
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return line

    def entries(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            for raw in handle:
                if raw.strip():
                    yield json.loads(raw)

    def verify(self) -> tuple[int, str] | None:
        """None when the chain holds, else (line number, problem) of the first bad line."""
        if not self.path.exists():
            return (1, "the log is missing but audit.jsonl.head says it had lines") if self.head.exists() else None
        expected, number = GENESIS, 0
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                body = raw.rstrip(b"\n")
                try:
                    prev = json.loads(body)["prev"]
                except (ValueError, KeyError, TypeError):
                    return number, "not a JSON object with a prev field"
                if prev != expected:
                    return number, "its prev does not match the line before it (a line was edited, removed or inserted)"
                expected = hashlib.sha256(body).hexdigest()
        recorded = self.head.read_text().strip() if self.head.exists() else GENESIS
        if expected != recorded:
            return max(number, 1), "the last line does not match audit.jsonl.head (it was edited, or lines after it were removed)"
        return None


def _last_hash(handle: Any) -> str:
    """The sha256 of the last line, reading backwards from the end."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return GENESIS
    block, data = 4096, b""
    while size > 0 and data.count(b"\n") < 2:
        step = min(block, size)
        size -= step
        handle.seek(size)
        data = handle.read(step) + data
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return hashlib.sha256(last).hexdigest()
