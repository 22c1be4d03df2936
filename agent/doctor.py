"""scribe doctor: check the configuration, git, the workspace and both model endpoints."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable

from agent import config as config_mod
from agent.model import Endpoint, ModelClient, ModelError
from agent.tasks import TaskError, load_tasks
from agent.workspace import Workspace
from memory.errors import ScribeError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(workspace: Workspace) -> list[Check]:
    checks: list[Callable[[Workspace], Check]] = [_git, _memory, _tasks, _audit, _agent_endpoint, _reviewer_endpoint]
    return [check(workspace) for check in checks]


def _git(_: Workspace) -> Check:
    if not shutil.which("git"):
        return Check("git", False, "git is not on PATH; install git")
    version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return Check("git", True, version)


def _memory(workspace: Workspace) -> Check:
    try:
        store = workspace.open_store()
        dirty = store.dirty_paths()
    except ScribeError as exc:
        return Check("memory", False, str(exc))
    if dirty:
        return Check("memory", False, f"uncommitted changes in {', '.join(dirty[:3])}: run 'scribe commit' or 'scribe discard'")
    malformed = [e for e in store.entries() if e.error]
    detail = f"{len(store.paths())} notes in {store.root}" + (f"; {len(malformed)} malformed: {malformed[0].error}" if malformed else "")
    return Check("memory", not malformed, detail)


def _tasks(workspace: Workspace) -> Check:
    items = load_tasks(workspace.tasks_dir)
    broken = [str(i) for i in items if isinstance(i, TaskError)]
    if broken:
        return Check("tasks", False, "; ".join(broken))
    return Check("tasks", True, f"{len(items)} tasks in {workspace.tasks_dir}")


def _audit(workspace: Workspace) -> Check:
    problem = workspace.records().audit.verify()
    if problem:
        return Check("audit", False, f"audit.jsonl line {problem[0]}: {problem[1]}")
    return Check("audit", True, "hash chain intact")


def _agent_endpoint(workspace: Workspace) -> Check:
    return _endpoint("agent model", lambda: config_mod.agent_endpoint(workspace.config))


def _reviewer_endpoint(workspace: Workspace) -> Check:
    return _endpoint("reviewer model", lambda: config_mod.reviewer_endpoint(workspace.config))


def _endpoint(name: str, endpoint_of: Callable[[], Endpoint]) -> Check:
    try:
        endpoint = endpoint_of()
    except ScribeError as exc:
        return Check(name, False, str(exc))
    where = endpoint.base_url or "OpenAI"
    client = ModelClient(Endpoint(endpoint.model, endpoint.base_url, endpoint.api_key, timeout_s=10, max_retries=0))
    try:
        served = client.model_ids()
    except ModelError as exc:
        return Check(name, False, f"{where}: {exc}")
    finally:
        client.close()
    if served and endpoint.model not in served:
        return Check(name, False, f"{where} does not serve {endpoint.model!r}; it serves {', '.join(served[:8])}")
    return Check(name, True, f"{endpoint.model} at {where} answers")
