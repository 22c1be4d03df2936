"""Proposals: what the agent wants to do, as the reviewer and the audit log see it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from memory.store import Change


@dataclass(frozen=True)
class Proposal:
    """One action (a tool call) or one memory change, with what is needed to judge it."""

    kind: str  # "action" | "memory"
    tool: str
    args: dict[str, Any]
    reason: str = ""
    task: str = ""
    instructions: str = ""
    run: str = ""
    provenance: str | None = None  # where the arguments came from, when a tool result supplied them
    change: Change | None = None  # memory: the exact note change
    diff: str = ""  # memory: unified diff against the current note
    neighbours: tuple[tuple[str, str], ...] = field(default=())  # memory: (path, title) of the closest notes

    @property
    def target(self) -> str:
        """The note path, command, file path or URL, for the audit log."""
        if self.change is not None:
            return self.change.path
        for key in ("command", "path", "url", "query"):
            if key in self.args:
                return str(self.args[key])
        return json.dumps(self.args, sort_keys=True, ensure_ascii=False)[:200]

    def digest(self) -> str:
        """sha256 of what would take effect: the tool, its arguments and, for notes, the exact change.

        The agent's stated reason and the provenance are left out, so the same
        action asked again with other words is still the same action.
        """
        effect: dict[str, Any] = {"kind": self.kind, "tool": self.tool, "args": self.args}
        if self.change is not None:
            effect["change"] = self.change.digest()
        canonical = json.dumps(effect, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def as_text(self) -> str:
        """The proposal as the reviewer reads it (inside <proposal> tags)."""
        if self.kind == "memory":
            return f"tool: {self.tool}\nreason: {self.reason}\n\nunified diff of the note:\n{self.diff}"
        return json.dumps({"tool": self.tool, "arguments": self.args, "reason": self.reason}, indent=2, ensure_ascii=False)
