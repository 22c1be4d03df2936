"""Proposals waiting for a human, and the human's remembered answers.

``.scribe/pending/<id>.json`` holds one proposal that was asked about (state
``awaiting``) or denied (state ``denied``, kept so a human may override it
where the configuration allows). ``.scribe/decisions.jsonl`` remembers what a
human decided about an action, by task and digest, for the next time.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from memory.errors import Refused
from memory.store import write_atomic

ID_PATTERN = re.compile(r"^r-[0-9a-f]{12}$")


@dataclass
class PendingItem:
    id: str
    state: str  # awaiting | denied | approved | rejected
    time: str
    run: str
    task: str
    kind: str  # action | memory
    tool: str
    target: str
    digest: str
    args: dict[str, Any]
    reason: str
    risk: float | None
    categories: list[str]
    rationale: str
    decided_by: str
    reviewer_model: str | None = None
    change: dict[str, Any] | None = None  # memory: op, path, content, base
    diff: str = ""
    commit: str | None = None
    final: bool = False  # denied by a rule: never approved
    overridden: bool = False


class PendingQueue:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def save(self, item: PendingItem) -> None:
        write_atomic(self.directory / f"{item.id}.json", json.dumps(asdict(item), indent=2, ensure_ascii=False).encode())

    def load(self, item_id: str) -> PendingItem:
        if not ID_PATTERN.match(item_id):
            raise Refused(f"{item_id!r} is not a review id (they look like r-0123456789ab); see 'scribe review'")
        path = self.directory / f"{item_id}.json"
        if not path.is_file():
            raise Refused(f"no pending item {item_id}; see 'scribe review'")
        return PendingItem(**json.loads(path.read_text(encoding="utf-8")))

    def items(self, states: tuple[str, ...] = ("awaiting",)) -> list[PendingItem]:
        if not self.directory.is_dir():
            return []
        files = sorted(self.directory.glob("r-*.json"), key=lambda p: p.stat().st_mtime_ns)  # oldest first
        found = [PendingItem(**json.loads(p.read_text(encoding="utf-8"))) for p in files]
        return [i for i in found if i.state in states]


class HumanDecisions:
    """Append-only memory of human answers about actions; the latest answer wins."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, task: str, digest: str, verdict: str, item_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"task": task, "digest": digest, "verdict": verdict, "id": item_id}) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def lookup(self, task: str, digest: str) -> tuple[str, str] | None:
        """(verdict, id) of the latest human answer for this action in this task."""
        if not self.path.exists():
            return None
        found = None
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(raw)
            if entry["task"] == task and entry["digest"] == digest:
                found = (entry["verdict"], entry["id"])
        return found
