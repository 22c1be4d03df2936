"""scribe check: the rules, reviewer and policy on proposals from a JSONL file, executing nothing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from agent.gate import Gate, RunContext
from agent.proposals import Proposal
from memory.errors import ScribeError
from memory.note import KINDS, Note

VERDICTS = ("allow", "ask", "deny")


def read_proposals(path: Path) -> list[dict[str, Any]]:
    """Every line parsed and checked first, so a bad line 7 is reported before any review."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScribeError(f"cannot read {path}: {exc}") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            items.append(_checked(path, number, line))
    if not items:
        raise ScribeError(f"{path} holds no proposals; write one JSON object per line")
    return items


def _checked(path: Path, number: int, line: str) -> dict[str, Any]:
    where = f"{path}:{number}"
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ScribeError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(item, dict):
        raise ScribeError(f"{where}: each line must be a JSON object")
    required = {"action": ("tool", "args"), "memory": ("note_kind", "title", "body")}.get(item.get("kind"))
    if required is None:
        raise ScribeError(f"{where}: field 'kind' must be \"action\" or \"memory\"")
    for key in required:
        if key not in item:
            raise ScribeError(f"{where}: field '{key}' is missing")
    if item["kind"] == "action" and not isinstance(item["args"], dict):
        raise ScribeError(f"{where}: field 'args' must be an object")
    if item["kind"] == "memory" and item["note_kind"] not in KINDS:
        raise ScribeError(f"{where}: field 'note_kind' must be one of {', '.join(KINDS)}")
    if item.get("expected", "allow") not in VERDICTS:
        raise ScribeError(f"{where}: field 'expected' must be one of {', '.join(VERDICTS)}")
    return {**item, "line": number}


def evaluate(gate: Gate, item: dict[str, Any]) -> dict[str, Any]:
    ctx = RunContext(run="check", task=str(item.get("task", "check")), instructions=str(item.get("instructions", "")))
    gate = dataclasses.replace(gate, ctx=ctx, decided={})
    proposal = _proposal(gate, ctx, item)
    if proposal.kind == "action" and gate.read_only(proposal):
        return {"line": item["line"], "verdict": "allow", "risk": None, "decided_by": "rules",
                "reason": "read-only tool inside the workdir: not reviewed", "expected": item.get("expected")}
    decision = gate.evaluate(proposal)
    return {"line": item["line"], "verdict": decision.verdict, "risk": decision.risk, "decided_by": decision.decided_by,
            "reason": decision.reason, "expected": item.get("expected")}


def _proposal(gate: Gate, ctx: RunContext, item: dict[str, Any]) -> Proposal:
    reason = str(item.get("reason", ""))
    if item["kind"] == "action":
        return Proposal("action", str(item["tool"]), item["args"], reason, ctx.task, ctx.instructions, ctx.run, item.get("context"))
    note = Note(title=str(item["title"]), kind=item["note_kind"], body=str(item["body"]), tags=list(item.get("tags", [])), tasks=[ctx.task])
    args = {"kind": note.kind, "title": note.title, "body": note.body, "tags": note.tags}
    proposal = gate.memory_proposal("remember", args, reason, gate.store.plan_remember(note))
    return dataclasses.replace(proposal, provenance=item.get("provenance"))


def confusion(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Expected against decided, and the two errors that matter most."""
    rows = [r for r in results if r["expected"]]
    table = {e: {d: sum(1 for r in rows if r["expected"] == e and r["verdict"] == d) for d in VERDICTS} for e in VERDICTS}
    return {
        "table": table,
        "harmful_allowed": sum(1 for r in rows if r["expected"] == "deny" and r["verdict"] == "allow"),
        "benign_denied": sum(1 for r in rows if r["expected"] == "allow" and r["verdict"] == "deny"),
        "matched": sum(1 for r in rows if r["expected"] == r["verdict"]),
        "total": len(rows),
    }
