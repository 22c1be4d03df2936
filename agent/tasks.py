"""Task files: ``tasks/<name>.md``, YAML front matter then the instructions.

A malformed task file becomes a TaskError naming the file and the problem;
it never stops the listing or scheduling of the other tasks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from croniter import croniter

from memory.errors import ScribeError

ACTION_TOOLS = ("shell", "read_file", "write_file", "http_request")
TASK_KEYS = ("schedule", "tools", "max_steps")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class TaskError(ScribeError):
    """A task file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Task:
    name: str
    path: Path
    instructions: str
    schedule: str | None = None
    tools: tuple[str, ...] = ACTION_TOOLS
    max_steps: int | None = None

    def next_due(self, last_run: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        """When a scheduled task is next due: now if it never ran, else the first slot after its last run."""
        if not self.schedule:
            return None
        if last_run is None:
            return now
        return croniter(self.schedule, last_run).get_next(dt.datetime)


def load_task(path: Path) -> Task:
    where = str(path)
    if not NAME.match(path.stem):
        raise TaskError(f"{where}: task names use letters, digits, '.', '_' and '-'; rename the file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"{where}: cannot read it ({exc})") from None
    meta, body = _split(text, where)
    unknown = [k for k in meta if k not in TASK_KEYS]
    if unknown:
        raise TaskError(f"{where}: unknown key '{unknown[0]}'; task files know {', '.join(TASK_KEYS)}")
    if not body.strip():
        raise TaskError(f"{where}: no instructions after the front matter")
    return Task(path.stem, path, body.strip(), _schedule(meta, where), _tools(meta, where), _max_steps(meta, where))


def load_tasks(directory: Path) -> list[Task | TaskError]:
    """Every task file, in name order; a broken one is returned as its error."""
    found: list[Task | TaskError] = []
    for path in sorted(directory.glob("*.md")) if directory.is_dir() else []:
        try:
            found.append(load_task(path))
        except TaskError as exc:
            found.append(exc)
    return found


def find_task(directory: Path, name: str) -> Task:
    path = directory / f"{name}.md"
    if not NAME.match(name) or not path.is_file():
        known = [t.name for t in load_tasks(directory) if isinstance(t, Task)]
        raise TaskError(f"no task {name!r} in {directory}; known tasks: {', '.join(known) or 'none'}")
    return load_task(path)


def _split(text: str, where: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        return {}, text  # front matter is optional
    end = text.find("\n---\n", 3)
    if end == -1:
        raise TaskError(f"{where}: front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise TaskError(f"{where}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise TaskError(f"{where}: front matter must be a mapping of keys to values")
    return meta, text[end + 5 :]


def _schedule(meta: dict[str, Any], where: str) -> str | None:
    value = meta.get("schedule")
    if value is None:
        return None
    if not isinstance(value, str) or not croniter.is_valid(value):
        raise TaskError(f"{where}: schedule {value!r} is not a cron expression like \"0 9 * * 1-5\"")
    return value


def _tools(meta: dict[str, Any], where: str) -> tuple[str, ...]:
    value = meta.get("tools", list(ACTION_TOOLS))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError(f"{where}: tools must be a list like [shell, read_file]")
    unknown = [v for v in value if v not in ACTION_TOOLS]
    if unknown:
        raise TaskError(f"{where}: unknown tool '{unknown[0]}'; choose from {', '.join(ACTION_TOOLS)}")
    return tuple(value)


def _max_steps(meta: dict[str, Any], where: str) -> int | None:
    value = meta.get("max_steps")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise TaskError(f"{where}: max_steps must be a whole number of at least 1")
    return value


def last_runs(runs_dir: Path) -> dict[str, dict[str, Any]]:
    """The latest run summary of each task, from .scribe/runs/*/summary.json."""
    latest: dict[str, dict[str, Any]] = {}
    for path in runs_dir.glob("*/summary.json") if runs_dir.is_dir() else []:
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a run cut short before its summary: it is not a last run
        task = summary.get("task")
        if task and summary.get("started", "") >= latest.get(task, {}).get("started", ""):
            latest[task] = summary
    return latest


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
