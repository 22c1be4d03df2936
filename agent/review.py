"""The model review: one independent chat request per proposal, fail-closed.

The request carries only the reviewer's own system prompt, the task's name
and instructions, and the proposal quoted as data. It never sees the
agent's system prompt, history or tools. Anything but a well-formed,
consistent JSON verdict is a ReviewerFailure, which the policy never allows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agent.model import ChatModel, ClientSideRejected, ModelError
from agent.prompts import quote, render
from agent.proposals import Proposal

VERDICT_SCHEMA = {
    "type": "object",
    "properties": {
        "risk": {"type": "number", "minimum": 0, "maximum": 1},
        "outcomes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "outcome": {"type": "string"},
                    "likelihood": {"type": "number", "minimum": 0, "maximum": 1},
                    "severity": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "required": ["outcome", "likelihood", "severity"],
            },
        },
        "categories": {"type": "array", "items": {"type": "string"}},
        "rationale": {"type": "string"},
    },
    "required": ["risk", "outcomes", "categories", "rationale"],
}
JSON_SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "review", "schema": VERDICT_SCHEMA}}
JSON_OBJECT_FORMAT = {"type": "json_object"}
HARMLESS_WORDS = re.compile(r"(?i)^\s*(?:none|harmless|benign|safe|no\s+risk|low\s+risk|minor\s+risk|routine|n/?a)\s*$")
FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


@dataclass
class Verdict:
    risk: float
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    rationale: str = ""


class ReviewerFailure(Exception):
    """The reviewer gave no usable verdict; the policy treats it per on_error, never as allow."""


class Reviewer:
    def __init__(self, client: ChatModel, model: str) -> None:
        self.client, self.model = client, model

    def review(self, proposal: Proposal) -> Verdict:
        messages = reviewer_messages(proposal)
        try:
            try:
                reply = self.client.chat(messages, response_format=JSON_SCHEMA_FORMAT, temperature=0)
            except ClientSideRejected:  # a server without json_schema (or temperature) support: once more, plainer
                reply = self.client.chat(messages, response_format=JSON_OBJECT_FORMAT)
        except ModelError as exc:
            raise ReviewerFailure(f"reviewer {exc.kind} error: {exc}") from None
        return parse_verdict(reply.content)


def reviewer_messages(proposal: Proposal) -> list[dict[str, str]]:
    """The whole reviewer request: its own system prompt and the quoted proposal, nothing else."""
    change = proposal.change
    user = render(
        "reviewer_proposal",
        task=quote(proposal.task), instructions=quote(proposal.instructions), kind=proposal.kind,
        tool=quote(proposal.tool), op=change.op if change else "", path=quote(change.path) if change else "",
        proposal=quote(proposal.as_text()), provenance=quote(proposal.provenance or ""),
        neighbours=[(quote(p), quote(t)) for p, t in proposal.neighbours],
    )
    return [{"role": "system", "content": render("reviewer_system")}, {"role": "user", "content": user}]


def parse_verdict(content: str | None) -> Verdict:
    """Accept a JSON object, bare or in a code fence; refuse anything else or inconsistent."""
    data = _json_object(content or "")
    risk = data.get("risk")
    if isinstance(risk, bool) or not isinstance(risk, (int, float)):
        raise ReviewerFailure("reviewer answer has no numeric risk")
    if not 0.0 <= float(risk) <= 1.0:
        raise ReviewerFailure(f"reviewer risk {risk} is outside [0, 1]")
    verdict = Verdict(float(risk), _outcomes(data.get("outcomes", [])), _strings(data.get("categories", [])), str(data.get("rationale", "")))
    _check_consistent(verdict)
    return verdict


def _json_object(content: str) -> dict[str, Any]:
    text = content.strip()
    fenced = FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ReviewerFailure(f"reviewer answered prose, not JSON: {content[:120]!r}") from None
    if not isinstance(data, dict):
        raise ReviewerFailure("reviewer answer is JSON but not an object")
    return data


def _outcomes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ReviewerFailure("reviewer outcomes is not a list")
    outcomes = []
    for item in value:
        if not isinstance(item, dict):
            raise ReviewerFailure("reviewer outcome is not an object")
        numbers = [item.get("likelihood", 0), item.get("severity", 0)]
        if any(isinstance(n, bool) or not isinstance(n, (int, float)) or not 0 <= n <= 1 for n in numbers):
            raise ReviewerFailure("reviewer outcome likelihood and severity must be numbers in [0, 1]")
        outcomes.append({"outcome": str(item.get("outcome", "")), "likelihood": float(numbers[0]), "severity": float(numbers[1])})
    return outcomes


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ReviewerFailure("reviewer categories is not a list")
    return [str(v) for v in value]


def _check_consistent(verdict: Verdict) -> None:
    """A small model may name harms and still score 0; such an answer is not trusted."""
    harms = [c for c in verdict.categories if not HARMLESS_WORDS.match(c)]
    if harms and verdict.risk == 0.0:
        raise ReviewerFailure(f"inconsistent review: names harms ({', '.join(harms)}) with risk 0")
    worst = max((o["likelihood"] * o["severity"] for o in verdict.outcomes), default=0.0)
    if worst - verdict.risk >= 0.5:
        raise ReviewerFailure(f"inconsistent review: an outcome scores {worst:.2f} but risk is {verdict.risk:.2f}")
