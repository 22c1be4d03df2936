"""Choosing the notes a run starts with, within a token budget.

First the skills and knowledge that list the task, newest first; then the
latest experiences of the task; then the best search hits for the task's
instructions. Each note is cut to a share of the budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from memory.index import Index
from memory.store import Entry, Store

CHARS_PER_TOKEN = 4
LATEST_EXPERIENCES = 3
SEARCH_HITS = 5


@dataclass(frozen=True)
class Recalled:
    path: str
    kind: str
    title: str
    body: str


def recall_for_task(store: Store, index: Index, task: str, instructions: str, budget_tokens: int = 3000) -> list[Recalled]:
    entries = {e.path: e for e in store.entries() if e.note}
    ordered = _for_task(entries, task) + _latest_experiences(entries, task) + _search_hits(index, entries, instructions)
    chosen, room = [], budget_tokens * CHARS_PER_TOKEN
    for entry in dict.fromkeys(ordered):  # keep the first place of each note
        note = entries[entry].note
        if note is None or room <= 0:
            continue
        body = note.body.strip()
        share = max(room // 2, 400)
        if len(body) > share:
            body = body[:share] + f"\n[note cut at {share} characters]"
        chosen.append(Recalled(entry, note.kind, note.title, body))
        room -= len(body) + len(note.title) + len(entry)
    return chosen


def _updated(entry: Entry) -> str:
    return (entry.note.updated or entry.note.created or "") if entry.note else ""


def _for_task(entries: dict[str, Entry], task: str) -> list[str]:
    fits = [e for e in entries.values() if e.note and e.note.kind != "experience" and task in e.note.tasks]
    return [e.path for e in sorted(fits, key=_updated, reverse=True)]


def _latest_experiences(entries: dict[str, Entry], task: str) -> list[str]:
    fits = [e for e in entries.values() if e.note and e.note.kind == "experience" and task in e.note.tasks]
    return [e.path for e in sorted(fits, key=_updated, reverse=True)[:LATEST_EXPERIENCES]]


def _search_hits(index: Index, entries: dict[str, Entry], instructions: str) -> list[str]:
    return [h.path for h in index.search(instructions, limit=SEARCH_HITS) if h.path in entries]
