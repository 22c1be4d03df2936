"""The agent loop: act (model -> tool calls -> results) until finish or the budget, then reflect.

Stopping states are exceptions that carry their message; the caller saves
the transcript in ``finally``. Every tool call goes through the gate.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from agent.gate import Gate, Outcome
from agent.model import ChatModel, ModelError, Reply, ToolCall, tool_calls_of
from agent.prompts import quote, render
from agent.recall import Recalled
from agent.rules import redact
from agent.schema import function_schema
from agent.tasks import Task

MAX_FORMAT_ERRORS = 3
REFLECT_STEPS = 8
TRACE_RESULT_CHARS = 300
PROVENANCE_MIN_CHARS = 8


class Finished(Exception):
    def __init__(self, summary: str, success: bool) -> None:
        super().__init__(summary)
        self.summary, self.success = summary, success


class BudgetExceeded(Exception):
    """The step budget ran out before finish."""


class FormatErrors(Exception):
    """The model answered without a tool call too many times in a row."""


class ModelUnavailable(Exception):
    """The model could not be asked; carries the error and whether it was the first request."""

    def __init__(self, error: ModelError, first_request: bool) -> None:
        super().__init__(str(error))
        self.error, self.first_request = error, first_request


def finish(summary: str, success: bool) -> None:
    """End the run: say what was done and whether the task succeeded.

    summary: what was done, in a sentence or two
    success: true when the task is done
    """
    raise Finished(summary, success)


@dataclass
class Event:
    phase: str
    step: int
    tool: str
    args: dict[str, Any]
    verdict: str | None
    decided_by: str | None
    review_id: str | None
    result: str
    commit: str | None = None
    pending_id: str | None = None


@dataclass
class Agent:
    task: Task
    gate: Gate
    model: ChatModel
    max_steps: int
    recalled: list[Recalled]
    report: Callable[[str], None] = lambda line: None
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    act_steps: int = 0
    requests: int = 0
    phase: str = "act"

    # ----- act -----

    def act(self) -> None:
        """Loop until a stopping exception: Finished, BudgetExceeded, FormatErrors, ..."""
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        notes = [{"path": quote(n.path), "kind": n.kind, "title": quote(n.title), "body": quote(n.body)} for n in self.recalled]
        self.messages = [
            {"role": "system", "content": render("agent_system", max_steps=self.max_steps)},
            {"role": "user", "content": render("agent_task", task=self.task.name, today=today, instructions=quote(self.task.instructions), notes=notes)},
        ]
        tools = [*self.gate.tool_schemas(self.task.tools), function_schema(finish)]
        format_errors = 0
        while True:
            if self.steps >= self.max_steps:
                raise BudgetExceeded(f"the step budget of {self.max_steps} ran out before finish")
            self.steps = self.act_steps = self.steps + 1
            handled = self.step(self.messages, tools)
            format_errors = 0 if handled else format_errors + 1
            if format_errors >= MAX_FORMAT_ERRORS:
                raise FormatErrors(f"the model answered {format_errors} times in a row without a tool call")

    def step(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> bool:
        """One model request and its tool calls; False when the reply was a format error."""
        reply = self.query(messages, tools)
        names = {t["function"]["name"] for t in tools}
        calls, problem = tool_calls_of(reply, names)
        if not calls:
            messages.append({"role": "assistant", "content": reply.content or ""})
            messages.append({"role": "user", "content": render("format_error", problem=problem or "")})
            self.report(f"step {self.steps}: no tool call (format error fed back)")
            return False
        self._append_assistant(messages, reply, calls)
        reason = (reply.content or "") if calls[0].native else ""  # text beside a native call is the stated reason
        for call in calls:
            if call.name in names:
                result = self.execute(call, reason=reason)
            else:
                result = f"error: there is no tool {call.name!r} here; use one of {', '.join(sorted(names))}"
            self._append_result(messages, call, result + (f"\n[note: {problem}]" if problem else ""))
        return True

    def query(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
        try:
            reply = self.model.chat(messages, tools=tools)
        except ModelError as exc:
            raise ModelUnavailable(exc, first_request=self.requests == 0) from None
        self.requests += 1
        for key, value in reply.usage.items():
            self.usage[key] = self.usage.get(key, 0) + value
        return reply

    # ----- tools, all through the gate -----

    def execute(self, call: ToolCall, reason: str) -> str:
        args = call.arguments
        if call.name == "finish":
            self._record(call, None, "finish")
            finish(str(args.get("summary", "")), bool(args.get("success", False)))
        try:
            outcome = self._dispatch(call.name, args, reason)
        except TypeError as exc:
            outcome = Outcome(None, f"error: bad arguments for {call.name}: {exc}")
        self._record(call, outcome, outcome.result)
        return outcome.result

    def _dispatch(self, name: str, args: dict[str, Any], reason: str) -> Outcome:
        if name == "recall":
            return self.gate.recall(**args)
        if name == "remember":
            return self.gate.remember(**args)
        if name == "forget":
            return self.gate.forget(**args)
        return self.gate.action(name, args, reason=reason, provenance=self._provenance(args))

    def _provenance(self, args: dict[str, Any]) -> str | None:
        """Which earlier tool result an argument was copied from, so the reviewer can weigh it."""
        values = [v for v in _strings(args) if len(v) >= PROVENANCE_MIN_CHARS]
        for event in reversed(self.events):
            for value in values:
                if value in event.result:
                    return f"{value[:120]!r} appears in the result of {event.tool} {json.dumps(event.args)[:200]}"
        return None

    def _record(self, call: ToolCall, outcome: Outcome | None, result: str) -> None:
        decision = outcome.decision if outcome else None
        event = Event(self.phase, self.steps, call.name, call.arguments, decision.verdict if decision else None,
                      decision.decided_by if decision else None, decision.id if decision else None, result,
                      outcome.commit if outcome else None, outcome.pending_id if outcome else None)
        self.events.append(event)
        verdict = f" -> {event.verdict} by {event.decided_by}" if event.verdict else ""
        risk = f" (risk {decision.risk:.2f})" if decision and decision.risk is not None else ""
        self.report(f"{self.phase} step {self.steps}: {call.name} {redact(_short(call.arguments))}{verdict}{risk}")

    # ----- reflect -----

    def reflect(self, outcome: str, summary: str) -> None:
        """A separate request with only recall, remember, forget and finish."""
        self.phase, self.steps = "reflect", 0
        trace = [f"{e.step}. {e.tool} {_short(e.args)} -> {e.verdict or 'ran'}: {quote(_short(e.result, TRACE_RESULT_CHARS))}"
                 for e in self.events]
        messages = [
            {"role": "system", "content": render("reflect_system")},
            {"role": "user", "content": render("reflect_user", task=self.task.name, instructions=quote(self.task.instructions),
                                               outcome=outcome, summary=quote(summary), steps=len(trace),
                                               recalled=[n.path for n in self.recalled], trace=trace)},
        ]
        tools = [*self.gate.tool_schemas(()), function_schema(finish)]
        try:
            while self.steps < REFLECT_STEPS:
                self.steps += 1
                if not self.step(messages, tools):
                    return  # text without a tool call ends the reflection
        except Finished:
            return
        finally:
            self.messages += messages  # the transcript keeps both conversations

    def _append_assistant(self, messages: list[dict[str, Any]], reply: Reply, calls: list[ToolCall]) -> None:
        if calls[0].native:
            native = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}} for c in calls]
            messages.append({"role": "assistant", "content": reply.content, "tool_calls": native})
        else:
            messages.append({"role": "assistant", "content": reply.content or ""})

    @staticmethod
    def _append_result(messages: list[dict[str, Any]], call: ToolCall, result: str) -> None:
        if call.native:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        else:
            messages.append({"role": "user", "content": f"Result of {call.name}:\n{result}"})


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
