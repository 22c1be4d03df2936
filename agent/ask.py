"""Asking a human at the terminal: show what the reviewer saw and thought, default no."""

from __future__ import annotations

import json
import sys

import click

from agent.gate import Asker
from agent.policy import Decision
from agent.proposals import Proposal
from agent.rules import redact


def terminal_asker() -> Asker | None:
    """An asker when a person is at the terminal, else None (the gate queues instead)."""
    return ask_at_terminal if sys.stdin.isatty() else None


def ask_at_terminal(proposal: Proposal, decision: Decision) -> bool:
    echo = lambda text="": click.echo(text, err=True)  # noqa: E731 - prompts go to stderr, output stays clean
    echo(f"\nscribe needs your decision ({decision.id}) for task {proposal.task}, run {proposal.run}")
    echo(f"  {proposal.kind}: {proposal.tool} {redact(proposal.target)}")
    if proposal.kind == "action":
        shown = json.dumps(proposal.args, ensure_ascii=False, indent=2)
        echo("  arguments: " + redact(shown if len(shown) <= 1500 else shown[:1500] + " ...").replace("\n", "\n  "))
    if proposal.reason:
        echo(f"  reason given: {redact(proposal.reason)}")
    if proposal.diff:
        echo(redact(proposal.diff))
    risk = "n/a (no reviewer answer)" if decision.risk is None else f"{decision.risk:.2f}"
    echo(f"  risk: {risk}  categories: {', '.join(decision.categories) or '-'}")
    for outcome in decision.outcomes:
        echo(f"  - {outcome['outcome']} (likelihood {outcome['likelihood']:.2f}, severity {outcome['severity']:.2f})")
    echo(f"  {decision.reason}")
    return click.confirm("Allow it?", default=False, err=True)
