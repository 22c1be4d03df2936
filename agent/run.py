"""One run of a task: recall, act, reflect, and a transcript saved whatever happens."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from agent.gate import Asker, CircuitBreakerTripped, RunContext
from agent.loop import Agent, BudgetExceeded, Finished, FormatErrors, ModelUnavailable
from agent.model import ChatModel, ModelError
from agent.recall import recall_for_task
from agent.review import Reviewer
from agent.rules import redact
from agent.tasks import ACTION_TOOLS, Task
from agent.workspace import Workspace
from memory import history
from memory.errors import Refused, ScribeError
from memory.note import utc_now
from memory.store import Store, write_atomic


def new_run_id(task: str) -> str:
    """``<UTC time>-<task>-<4 hex>``: unique even for two runs in one second."""
    return f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{task}-{secrets.token_hex(2)}"


@contextmanager
def task_lock(workspace: Workspace, task: str) -> Iterator[None]:
    """One run at a time per task; a second one is refused, not queued."""
    path = workspace.state_dir / "locks" / f"task-{task}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(f"task {task} is already running; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_task(workspace: Workspace, task: Task, model: ChatModel, reviewer: Reviewer | None,
             asker: Asker | None = None, report: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run a task once; returns the summary of SPEC section 10 (and a little more)."""
    if workspace.config.memory.learning != "commit":
        raise ScribeError('[memory].learning = "propose" (learning branches) is not built yet; set learning = "commit"')
    with task_lock(workspace, task.name):
        _refuse_uncommitted(workspace)
        run_id = new_run_id(task.name)
        gate = workspace.build_gate(RunContext(run_id, task.name, task.instructions), reviewer, asker)
        recalled = recall_for_task(gate.store, gate.index, task.name, task.instructions)
        agent = Agent(task, gate, model, task.max_steps or workspace.config.agent.max_steps, recalled, report)
        record = {"run_id": run_id, "task": task.name, "started": utc_now(), "outcome": "crashed", "summary": "scribe stopped on an error"}
        report(f"run {run_id}: {len(recalled)} notes recalled" + "".join(f"\n  recalled {n.path}" for n in recalled))
        try:
            record["outcome"], record["summary"] = _act(agent)
            if record["outcome"] in ("success", "failure"):
                record["reflection"] = _reflect(agent, record["outcome"], record["summary"])
        except KeyboardInterrupt:
            record["outcome"], record["summary"] = "interrupted", "interrupted by the user (Ctrl-C)"
        except ModelUnavailable as exc:
            record["outcome"], record["summary"] = "failure", f"the model could not be asked: {exc}"
            if exc.first_request:
                raise explain(exc.error, workspace) from None
        finally:
            record["ended"] = utc_now()
            record["quarantined"] = _quarantine(workspace, gate.store, run_id, report)
            summary = _summary(record, agent, gate.store.root)
            _save(workspace.state_dir / "runs" / run_id, summary, agent)
            report(f"run {run_id}: {record['outcome']}: {record['summary']}")
        return summary


def _refuse_uncommitted(workspace: Workspace) -> None:
    dirty = workspace.open_store().dirty_paths()
    if dirty:
        raise Refused(f"memory/ has uncommitted changes ({', '.join(dirty[:3])}); "
                      "keep them with 'scribe commit' or drop them with 'scribe discard', then run again")


def _quarantine(workspace: Workspace, store: Store, run_id: str, report: Callable[[str], None]) -> list[str]:
    """Anything that changed memory/ during the run without the store is undone and kept aside."""
    keep = workspace.state_dir / "quarantine" / run_id
    moved = store.discard(keep) if store.dirty_paths() else []
    if moved:
        report(f"run {run_id}: memory/ was changed outside the store; reverted, copies in {keep}: {', '.join(moved)}")
    return moved


def _act(agent: Agent) -> tuple[str, str]:
    try:
        agent.act()
    except Finished as done:
        return ("success" if done.success else "failure"), done.summary
    except (BudgetExceeded, FormatErrors) as stop:
        return "failure", str(stop)
    except CircuitBreakerTripped as stop:
        return "stopped", str(stop)
    return "failure", "the loop ended without finish"


def _reflect(agent: Agent, outcome: str, summary: str) -> str:
    """Reflection never changes the task's outcome; its problems are recorded."""
    try:
        agent.reflect(outcome, summary)
    except (CircuitBreakerTripped, ModelUnavailable) as exc:
        return f"reflection stopped: {exc}"
    return "done"


def explain(error: ModelError, workspace: Workspace) -> ScribeError:
    """A one-line configuration error that says what to set."""
    agent = workspace.config.agent
    where = agent.base_url or "OpenAI"
    if error.kind == "connection":
        return ScribeError(f"cannot reach the model server at {where}: start it, or set [agent].base_url (or SCRIBE_BASE_URL)")
    if error.status in (401, 403):
        return ScribeError(f"the model server at {where} refused the API key: set {agent.api_key_env} (or SCRIBE_API_KEY)")
    if error.status == 404:
        return ScribeError(f"model {agent.model!r} was not found at {where}: set [agent].model (or SCRIBE_MODEL) to one it serves")
    if error.kind == "timeout":
        return ScribeError(f"the model at {where} did not answer in {agent.timeout_s:g}s: raise [agent].timeout_s or check the server")
    return ScribeError(f"the model at {where} failed: {error}")


def _summary(record: dict[str, Any], agent: Agent, memory_root: Path) -> dict[str, Any]:
    actions = [e for e in agent.events if e.tool in ACTION_TOOLS and e.verdict]
    learned = []
    for event in agent.events:
        if event.commit:
            change = history.log(memory_root, "-1", event.commit)[0].changes[0]
            learned.append({"commit": event.commit, "path": change.path, "change": change.change})
    return {
        "run_id": record["run_id"], "task": record["task"], "success": record["outcome"] == "success",
        "steps": agent.act_steps,
        "actions": {v: sum(1 for e in actions if e.verdict == k) for k, v in (("allow", "allowed"), ("ask", "asked"), ("deny", "denied"))},
        "learned": learned,
        "pending": [e.pending_id for e in agent.events if e.pending_id],
        "outcome": record["outcome"], "summary": record["summary"], "started": record["started"], "ended": record["ended"],
        "recalled": [n.path for n in agent.recalled], "usage": agent.usage, "reflection": record.get("reflection"),
        "quarantined": record["quarantined"],
    }


def _save(run_dir: Path, summary: dict[str, Any], agent: Agent) -> None:
    """The transcript with every secret redacted, then the summary that marks the run as recorded."""
    run_dir.mkdir(parents=True, exist_ok=True)
    transcript = {"summary": summary, "messages": agent.messages, "events": [e.__dict__ for e in agent.events]}
    _write_json(run_dir / "transcript.json", _redacted(transcript))
    _write_json(run_dir / "summary.json", _redacted(summary))


def _write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value
