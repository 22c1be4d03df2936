"""Which scheduled tasks are due, and the state that remembers when each last ran on schedule.

``.scribe/schedule.json`` maps a task to the scheduler's time of its last
scheduled run. A task that never ran is due once; missed periods collapse
into one run, because the next slot is counted from the last run.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from agent.tasks import Task, TaskError, load_tasks, parse_time
from memory.store import write_atomic


@dataclass
class Due:
    task: Task
    due: dt.datetime


class ScheduleState:
    def __init__(self, path: Path) -> None:
        self.path = path

    def last(self) -> dict[str, dt.datetime]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {name: parse_time(value) for name, value in data.items()}
        except (ValueError, AttributeError):
            return {}  # a damaged state file: every task counts as never run, so each runs once

    def mark(self, task: str, when: dt.datetime) -> None:
        data = {name: value.isoformat() for name, value in self.last().items()}
        data[task] = when.isoformat()
        write_atomic(self.path, json.dumps(data, indent=2).encode())


def scheduled(tasks_dir: Path, state: ScheduleState, now: dt.datetime) -> tuple[list[Due], list[TaskError]]:
    """Every task with a schedule and when it is next due, plus the task files that are broken."""
    last = state.last()
    found, broken = [], []
    for item in load_tasks(tasks_dir):
        if isinstance(item, TaskError):
            broken.append(item)
        elif item.schedule:
            found.append(Due(item, item.next_due(last.get(item.name), now) or now))
    return found, broken


def due_now(tasks_dir: Path, state: ScheduleState, now: dt.datetime) -> tuple[list[Task], list[TaskError]]:
    found, broken = scheduled(tasks_dir, state, now)
    return [d.task for d in found if d.due <= now], broken


def seconds_until_next(tasks_dir: Path, state: ScheduleState, now: dt.datetime, idle_s: float = 60.0) -> float:
    """How long to sleep: until the earliest due time, re-reading the tasks at least every idle_s."""
    found, _ = scheduled(tasks_dir, state, now)
    if not found:
        return idle_s
    return max(1.0, min(idle_s, min((d.due - now).total_seconds() for d in found)))
