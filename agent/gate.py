"""The gate: the one door from a proposal to an effect.

Every action and memory write comes here: rules first, then a remembered
human answer, then the independent reviewer, then the policy. Only the
gate runs tools and only the gate mints the stamp that the store's apply
requires. A refusal is a tool result the model reads, not a crash. Every
reviewed proposal is appended to the audit log.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from agent import policy
from agent.audit import AuditLog
from agent.config import ReviewerConfig
from agent.pending import HumanDecisions, PendingItem, PendingQueue
from agent.policy import Decision
from agent.proposals import Proposal
from agent.review import Reviewer, ReviewerFailure
from agent.schema import function_schema
from agent.rules import Protected, RuleDeny, action_rules, memory_rules, redact
from agent.tools import ToolError, Toolbox
from memory.errors import NoteError, Refused, ScribeError
from memory.index import Index
from memory.note import KINDS, Note, utc_now
from memory.store import Change, Stamp, Store

MAX_DENIALS_IN_ROW, MAX_DENIALS = 3, 10

# Asked on a terminal: returns True to allow. None means no terminal: queue it.
Asker = Callable[[Proposal, Decision], bool]


class CircuitBreakerTripped(Exception):
    """Too many denials: the run stops with this reason."""


@dataclass(frozen=True)
class RunContext:
    run: str
    task: str
    instructions: str = ""


@dataclass
class Records:
    audit: AuditLog
    queue: PendingQueue
    human: HumanDecisions

    @classmethod
    def at(cls, state_dir: Path) -> Records:
        return cls(AuditLog(state_dir / "audit.jsonl"), PendingQueue(state_dir / "pending"), HumanDecisions(state_dir / "decisions.jsonl"))


@dataclass
class Outcome:
    """What the model is told, and what happened."""

    decision: Decision | None  # None for read-only tools, which are not reviewed
    result: str
    commit: str | None = None
    pending_id: str | None = None


@dataclass
class Gate:
    ctx: RunContext
    config: ReviewerConfig
    reviewer: Reviewer | None  # None: no reviewer configured, which is a reviewer failure
    store: Store
    index: Index
    toolbox: Toolbox
    protected: Protected
    records: Records
    asker: Asker | None = None
    decided: dict[str, Decision] = field(default_factory=dict)  # identical proposals in this run
    denials_in_row: int = 0
    denials: int = 0

    # ----- what the agent can call -----

    def action(self, tool: str, args: dict, reason: str = "", provenance: str | None = None) -> Outcome:
        proposal = Proposal("action", tool, args, reason, self.ctx.task, self.ctx.instructions, self.ctx.run, provenance)
        if self.read_only(proposal):
            return Outcome(None, self._run_tool(tool, args))  # read-only inside the workdir: no review, no log
        return self._submit(proposal, lambda stamp: (self._run_tool(tool, args), None))

    def recall(self, query: str, limit: int = 5) -> Outcome:
        """Search the memory notes; returns the best matches with their paths.

        query: words to look for
        """
        hits = self.index.search(query, limit=limit)
        lines = [f"{h.path}: {h.title} -- {h.snippet}" for h in hits]
        return Outcome(None, "\n".join(lines) or "no notes match")

    def remember(self, kind: str, title: str, body: str, reason: str, tags: list[str] | None = None) -> Outcome:
        """Save a note to memory (reviewed first); the same kind and title updates that note.

        kind: skill (how to do something), experience (what happened on this run) or knowledge (a fact)
        title: a short title; it names the note
        body: the note in markdown
        reason: why a future run needs this
        tags: a few keywords
        """
        if kind not in KINDS:
            return Outcome(None, f"not remembered: kind must be one of {', '.join(KINDS)}")
        if not isinstance(title, str) or not title.strip() or "\n" in title.strip():
            return Outcome(None, "not remembered: title must be one line of text")
        tags = [str(t) for t in tags] if isinstance(tags, list) else []
        note = Note(title=title.strip(), kind=kind, body=str(body), tags=tags, tasks=[self.ctx.task], source=self.ctx.run)
        try:
            change = self.store.plan_remember(note)
        except (NoteError, Refused) as exc:
            return Outcome(None, f"not remembered: {exc}")
        args = {"kind": kind, "title": note.title, "body": note.body, "tags": tags}
        return self._submit(self.memory_proposal("remember", args, reason, change))

    def forget(self, path: str, reason: str) -> Outcome:
        """Remove a wrong or harmful note from memory (reviewed first).

        path: the note's path, like skills/count-lines.md
        reason: why it must go
        """
        try:
            change = self.store.plan_forget(path)
        except ScribeError as exc:
            return Outcome(None, f"not forgotten: {exc}")
        return self._submit(self.memory_proposal("forget", {"path": path}, reason, change))

    def tool_schemas(self, action_tools: tuple[str, ...]) -> list[dict]:
        """The function tools offered to the model, derived from the functions that serve them."""
        actions = [function_schema(getattr(self.toolbox, t)) for t in action_tools]
        return [*actions, function_schema(self.recall, skip=("limit",)), function_schema(self.remember), function_schema(self.forget)]

    # ----- deciding -----

    def read_only(self, proposal: Proposal) -> bool:
        """read_file inside the workdir and recall skip the model review (and are not logged)."""
        return proposal.tool in ("read_file", "recall") and action_rules(proposal, self.protected) is None

    def evaluate(self, proposal: Proposal) -> Decision:
        """Rules, a remembered human answer, then the reviewer and the policy; no effects."""
        denied = self._rules(proposal)
        if denied:
            return Decision(policy.new_review_id(), "deny", "rules", f"{denied.rule}: {denied.reason}", final=True)
        remembered = self.records.human.lookup(proposal.task, proposal.digest()) if proposal.kind == "action" else None
        if remembered:
            verdict, item_id = remembered
            return Decision(policy.new_review_id(), verdict, "human", f"a human decided this action before ({item_id})")
        return self._review(proposal)

    def _rules(self, proposal: Proposal) -> RuleDeny | None:
        if proposal.kind == "memory":
            content = proposal.change.content if proposal.change else None
            return memory_rules(content, self.store.max_bytes) if content is not None else None
        return action_rules(proposal, self.protected)

    def _review(self, proposal: Proposal) -> Decision:
        model = self.reviewer.model if self.reviewer else None
        started = time.monotonic()
        try:
            if self.reviewer is None:
                raise ReviewerFailure("no reviewer model is configured")
            verdict = self.reviewer.review(proposal)
        except ReviewerFailure as exc:
            return policy.from_failure(str(exc), self.config, model, _ms_since(started))
        return policy.from_verdict(verdict, self.config, model or "", _ms_since(started))

    # ----- the one path to an effect -----

    def _submit(self, proposal: Proposal, effect: Callable[[Stamp | None], tuple[str, str | None]] | None = None) -> Outcome:
        digest = proposal.digest()
        decision = self.decided.get(digest) or self.evaluate(proposal)
        if decision.verdict == "ask":
            decision = self._ask(proposal, decision)
        self.decided[digest] = decision  # an identical proposal later in this run gets the same answer
        outcome = self._carry_out(proposal, decision, effect or self._commit(proposal))
        self._count(decision)
        return outcome

    def _ask(self, proposal: Proposal, decision: Decision) -> Decision:
        if self.asker is None:
            return decision
        allowed = self.asker(proposal, decision)
        if proposal.kind == "action":
            self.records.human.record(self.ctx.task, proposal.digest(), "allow" if allowed else "deny", decision.id)
        word = "approved" if allowed else "denied"
        return Decision(decision.id, "allow" if allowed else "deny", "human", f"{word} at the terminal; {decision.reason}",
                        decision.risk, decision.categories, decision.outcomes, decision.rationale, decision.reviewer_model, decision.latency_ms)

    def _carry_out(self, proposal: Proposal, decision: Decision, effect: Callable[[Stamp | None], tuple[str, str | None]]) -> Outcome:
        commit, pending_id = None, None
        try:
            if decision.verdict == "allow":
                result, commit = effect(self._stamp(proposal, decision))
            elif decision.verdict == "ask":
                pending_id = self._queue(proposal, decision, "awaiting")
                result = f"awaiting human approval as {pending_id}: {decision.reason}. It will not happen in this run; go on with other work."
            else:
                self._queue(proposal, decision, "denied")
                by = "a rule" if decision.decided_by == "rules" else f"the {decision.decided_by}"
                result = f"denied by {by} ({decision.id}): {decision.reason}"
        finally:
            self._audit(proposal, decision, commit)
        return Outcome(decision, result, commit, pending_id)

    def _commit(self, proposal: Proposal) -> Callable[[Stamp | None], tuple[str, str | None]]:
        def apply(stamp: Stamp | None) -> tuple[str, str | None]:
            change = proposal.change
            if change is None or stamp is None:
                raise RuntimeError("a memory effect without a change or stamp")  # a bug, never user input
            try:
                sha = self.store.apply(change, stamp)
            except Refused as exc:
                return f"not written: {exc}", None
            return f"{change.op} {change.path}: committed {sha[:10]}", sha
        return apply

    def _stamp(self, proposal: Proposal, decision: Decision) -> Stamp | None:
        """The only place a stamp is minted: after an allow, for a memory change."""
        if proposal.change is None:
            return None
        by_human = decision.decided_by == "human"
        return Stamp(
            digest=proposal.change.digest(), run=self.ctx.run, task=self.ctx.task, review_id=decision.id,
            verdict="human-approved" if by_human else "allow", risk=decision.risk,
            reviewed_by=decision.reviewer_model if decision.risk is not None and decision.reviewer_model else "none",
            by_human=by_human,
        )

    def _run_tool(self, tool: str, args: dict) -> str:
        try:
            return self.toolbox.run(tool, args)
        except ToolError as exc:
            return f"error: {exc}"

    def _count(self, decision: Decision) -> None:
        if decision.verdict != "deny":
            self.denials_in_row = 0
            return
        self.denials_in_row += 1
        self.denials += 1
        if self.denials_in_row >= MAX_DENIALS_IN_ROW or self.denials >= MAX_DENIALS:
            raise CircuitBreakerTripped(
                f"stopped by the circuit breaker: {self.denials_in_row} denials in a row, {self.denials} in this run"
            )

    # ----- records -----

    def memory_proposal(self, tool: str, args: dict, reason: str, change: Change) -> Proposal:
        query = f"{args.get('title', '')} {args.get('body', '')[:300]}" if tool == "remember" else change.path
        neighbours = tuple((h.path, h.title) for h in self.index.search(query, limit=5))
        return Proposal("memory", tool, args, reason, self.ctx.task, self.ctx.instructions, self.ctx.run,
                        change=change, diff=self.store.diff(change), neighbours=neighbours)

    def _queue(self, proposal: Proposal, decision: Decision, state: str) -> str:
        keep = not decision.final  # a rule's deny is final: keep only a redacted record
        change = proposal.change
        item = PendingItem(
            id=decision.id, state=state, time=utc_now(), run=self.ctx.run, task=self.ctx.task, kind=proposal.kind,
            tool=proposal.tool, target=redact(proposal.target), digest=proposal.digest(),
            args=proposal.args if keep else {"redacted": True}, reason=redact(proposal.reason), risk=decision.risk,
            categories=decision.categories, rationale=decision.rationale or decision.reason, decided_by=decision.decided_by,
            reviewer_model=decision.reviewer_model, change=asdict(change) if change and keep else None,
            diff=proposal.diff if keep else "", final=decision.final,
        )
        self.records.queue.save(item)
        return item.id

    def _audit(self, proposal: Proposal, decision: Decision, commit: str | None) -> None:
        self.records.audit.append({
            "id": decision.id, "time": utc_now(), "run": self.ctx.run, "task": self.ctx.task, "kind": proposal.kind,
            "tool": proposal.tool, "target": redact(proposal.target), "digest": proposal.digest(), "risk": decision.risk,
            "categories": decision.categories, "verdict": decision.verdict, "decided_by": decision.decided_by,
            "reason": redact(decision.reason), "reviewer_model": decision.reviewer_model,
            "latency_ms": decision.latency_ms, "commit": commit,
        })


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# ----- a human's later answer (scribe approve / scribe deny) -----


def approve(item_id: str, store: Store, records: Records, config: ReviewerConfig, override: bool = False) -> PendingItem:
    """Approve a pending item: a memory write is committed now, an action is remembered for its task."""
    item = records.queue.load(item_id)
    _check_approvable(item, config, override)
    overriding = item.state == "denied"
    if item.kind == "memory" and item.change:
        change = Change(**item.change)
        stamp = Stamp(digest=change.digest(), run=item.run, task=item.task, review_id=item.id, verdict="human-approved",
                      risk=item.risk, reviewed_by=item.reviewer_model if item.risk is not None and item.reviewer_model else "none",
                      by_human=True)
        item.commit = store.apply(change, stamp)
    else:
        records.human.record(item.task, item.digest, "allow", item.id)
    item.state, item.overridden = "approved", overriding
    records.queue.save(item)
    _audit_human(records, item, "allow", f"{'overrode the deny of' if overriding else 'approved'} pending {item.id}")
    return item


def reject(item_id: str, records: Records) -> PendingItem:
    """Deny a pending item; an action denied here is denied next time without asking."""
    item = records.queue.load(item_id)
    if item.state != "awaiting":
        raise Refused(f"{item.id} is not awaiting a decision (it is {item.state})")
    if item.kind == "action":
        records.human.record(item.task, item.digest, "deny", item.id)
    item.state = "rejected"
    records.queue.save(item)
    _audit_human(records, item, "deny", f"denied pending {item.id}")
    return item


def _check_approvable(item: PendingItem, config: ReviewerConfig, override: bool) -> None:
    if item.state in ("approved", "rejected"):
        raise Refused(f"{item.id} was already {item.state}")
    if item.state != "denied":
        return
    if item.final:
        raise Refused(f"{item.id} was denied by a rule ({item.rationale}); a rule's deny is final")
    if not config.human_can_override_deny:
        raise Refused(f"{item.id} was denied and denials are final here (human_can_override_deny = false in scribe.toml)")
    if not override:
        raise Refused(f"{item.id} was denied; to override the deny, run 'scribe approve {item.id} --override'")


def _audit_human(records: Records, item: PendingItem, verdict: str, reason: str) -> None:
    records.audit.append({
        "id": item.id, "time": utc_now(), "run": item.run, "task": item.task, "kind": item.kind, "tool": item.tool,
        "target": item.target, "digest": item.digest, "risk": item.risk, "categories": item.categories,
        "verdict": verdict, "decided_by": "human", "reason": reason, "reviewer_model": item.reviewer_model,
        "latency_ms": 0, "commit": item.commit,
    })
