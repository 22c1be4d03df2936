"""Policy in code: turn a reviewer verdict, or its failure, into allow / ask / deny."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from agent.config import ReviewerConfig
from agent.review import Verdict


@dataclass
class Decision:
    id: str
    verdict: str  # allow | ask | deny
    decided_by: str  # rules | reviewer | human | error
    reason: str
    risk: float | None = None
    categories: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    rationale: str = ""
    reviewer_model: str | None = None
    latency_ms: int = 0
    final: bool = False  # a rule's deny: no human override either


def new_review_id() -> str:
    return f"r-{secrets.token_hex(6)}"


def from_verdict(verdict: Verdict, config: ReviewerConfig, model: str, latency_ms: int) -> Decision:
    if verdict.risk < config.allow_below:
        outcome, reason = "allow", f"risk {verdict.risk:.2f} is below {config.allow_below}"
    elif verdict.risk >= config.deny_at:
        outcome, reason = "deny", f"risk {verdict.risk:.2f} is at or above {config.deny_at}"
    else:
        outcome, reason = "ask", f"risk {verdict.risk:.2f} is between {config.allow_below} and {config.deny_at}"
    return Decision(new_review_id(), outcome, "reviewer", f"{reason}: {verdict.rationale}".rstrip(": "),
                    verdict.risk, verdict.categories, verdict.outcomes, verdict.rationale, model, latency_ms)


def from_failure(problem: str, config: ReviewerConfig, model: str | None, latency_ms: int) -> Decision:
    """A reviewer failure never allows: on_error picks ask or deny."""
    return Decision(new_review_id(), config.on_error, "error", f"reviewer failure: {problem}",
                    reviewer_model=model, latency_ms=latency_ms)
