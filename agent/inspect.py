"""What the read commands show: commit selections, per-run summaries, dates."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from memory import history, note as notes
from memory.errors import NoteError, ScribeError
from memory.history import Commit
from memory.store import Store

RELATIVE_DATE = re.compile(r"^\d+ (second|minute|hour|day|week|month|year)s? ago$")
PAST_TENSE = {"add": "added", "update": "updated", "remove": "removed"}


def check_since(value: str | None) -> str | None:
    """Accept an ISO date or time, or 'N days ago' style; git would take anything silently."""
    if value is None:
        return None
    if RELATIVE_DATE.match(value.strip()) or value.strip() in ("yesterday", "today"):
        return value.strip()
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ScribeError(f"--since {value!r} is not a date; use 2026-11-26, 2026-11-26T09:00 or '3 days ago'") from None
    return value


def select_commits(store: Store, rev_range: str | None, run: str | None, since: str | None) -> list[Commit]:
    """Commits for diff/learned, oldest first.

    With nothing given: the commits of the latest run, or the last commit
    when no run has written anything yet.
    """
    revs = (rev_range,) if rev_range else ()
    if rev_range:
        _check_range(store, rev_range)
    commits = history.log(store.root, *revs, since=check_since(since))
    if run:
        commits = [c for c in commits if c.run == run]
    elif not (rev_range or since):
        latest = next((c.run for c in commits if c.run), None)
        commits = [c for c in commits if c.run == latest] if latest else commits[:1]
    return list(reversed(commits))


def learned_by_run(store: Store, commits: list[Commit]) -> list[dict[str, Any]]:
    """Group the commits of runs into what each run learned, with note titles."""
    runs: dict[str, dict[str, Any]] = {}
    for commit in commits:
        if not commit.run:
            continue
        entry = runs.setdefault(commit.run, {"run": commit.run, "task": commit.trailers.get("Scribe-Task"), "time": commit.time, "changes": []})
        for change in commit.changes:
            entry["changes"].append(_described(store, commit, change))
    return list(runs.values())


def describe_run(run: dict[str, Any]) -> list[str]:
    lines = [f"run {run['run']} (task {run['task']}, {run['time']})"]
    for c in run["changes"]:
        risk = f", risk {c['risk']}" if c["risk"] else ""
        lines.append(f"  {PAST_TENSE[c['change']]} {c['kind'] or 'note'} \"{c['title']}\" ({c['path']}), {c['verdict']}{risk}")
    return lines


def log_line(commit: Commit) -> str:
    s = commit.summary()
    changes = ", ".join(f"{c['change']} {c['path']}" for c in s["changes"]) or "(no file changes)"
    review = f"{s['verdict']} risk={s['risk'] or '-'} by={s['reviewer'] or '-'}"
    origin = f"task={s['task'] or '-'} run={s['run'] or '-'}"
    return f"{commit.sha[:10]}  {commit.time}  {changes}  {review}  {origin}"


def _described(store: Store, commit: Commit, change: history.FileChange) -> dict[str, Any]:
    rev = commit.parents[0] if change.change == "remove" and commit.parents else commit.sha
    title, kind = _title_and_kind(store.show_file(change.path, rev), change.path)
    return {
        "commit": commit.sha, "path": change.path, "change": change.change, "title": title, "kind": kind,
        "verdict": commit.verdict, "risk": commit.trailers.get("Review-Risk"),
    }


def _title_and_kind(text: str | None, path: str) -> tuple[str, str | None]:
    """A note's title and kind; a missing or malformed note is listed by its path."""
    try:
        parsed = notes.parse(text or "", path)
    except NoteError:
        return path, None
    return parsed.title, parsed.kind


def _check_range(store: Store, rev_range: str) -> None:
    if rev_range.startswith("-"):
        raise ScribeError(f"{rev_range!r} is not a revision range; give one like HEAD~3..HEAD")
    for rev in filter(None, re.split(r"\.\.\.?", rev_range)):
        if store.resolve(rev) is None:
            raise ScribeError(f"{rev!r} is not a commit in the memory repository; see 'scribe log'")
