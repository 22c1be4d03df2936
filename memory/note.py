"""The note format: YAML front matter, then a markdown body.

Parsing is strict about what scribe relies on (title, kind, list and time
fields) and keeps any other front matter key, so a hand-written note
round-trips without noisy diffs.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from memory.errors import NoteError

KINDS = ("skill", "experience", "knowledge")
FOLDERS = {"skill": "skills", "experience": "experiences", "knowledge": "knowledge"}
KIND_OF_FOLDER = {folder: kind for kind, folder in FOLDERS.items()}
KEY_ORDER = ("title", "kind", "tags", "tasks", "created", "updated", "source")
MAX_SLUG = 60


@dataclass
class Note:
    title: str
    kind: str
    body: str = ""
    tags: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    created: str | None = None
    updated: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return FOLDERS[self.kind]


def utc_now() -> str:
    """The current time as scribe writes it in notes: ISO 8601 UTC, seconds."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    """A file-name-safe slug: ASCII letters, digits and single dashes."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-") or "note"


def split_front_matter(text: str, path: str) -> tuple[str, str]:
    """Split ``---`` fenced YAML from the body."""
    if not text.startswith("---\n"):
        raise NoteError(path, None, "no front matter: the note must start with a '---' line")
    end = text.find("\n---\n", 3)
    if end == -1:
        if text.endswith("\n---"):
            return text[4 : len(text) - 4], ""
        raise NoteError(path, None, "front matter is not closed by a '---' line")
    return text[4 : end + 1], text[end + 5 :]


def parse(text: str, path: str = "<note>") -> Note:
    """Parse and validate a note; errors name the file, the field and the problem."""
    header, body = split_front_matter(text, path)
    try:
        data = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        raise NoteError(path, None, f"front matter is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise NoteError(path, None, "front matter must be a mapping of keys to values")
    return from_mapping(data, body, path)


def from_mapping(data: dict[Any, Any], body: str, path: str) -> Note:
    for key in data:
        if not isinstance(key, str):
            raise NoteError(path, str(key), "front matter keys must be strings")
    title = _required_text(data, "title", path)
    kind = _required_text(data, "kind", path)
    if kind not in KINDS:
        raise NoteError(path, "kind", f"is {kind!r}; use one of: {', '.join(KINDS)}")
    known = {k: data.get(k) for k in KEY_ORDER}
    return Note(
        title=title,
        kind=kind,
        body=body,
        tags=_text_list(known["tags"], "tags", path),
        tasks=_text_list(known["tasks"], "tasks", path),
        created=_time_text(known["created"], "created", path),
        updated=_time_text(known["updated"], "updated", path),
        source=_optional_text(known["source"], "source", path),
        extra={k: v for k, v in data.items() if k not in KEY_ORDER},
    )


def render(note: Note) -> str:
    """The note as text: front matter in a stable key order, then the body."""
    data: dict[str, Any] = {"title": note.title, "kind": note.kind}
    for key in ("tags", "tasks"):
        if getattr(note, key):
            data[key] = list(getattr(note, key))
    for key in ("created", "updated", "source"):
        if getattr(note, key) is not None:
            data[key] = getattr(note, key)
    data.update(note.extra)
    header = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1000)
    body = note.body if note.body.endswith("\n") or not note.body else note.body + "\n"
    return f"---\n{header}---\n{body}"


def _required_text(data: dict[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise NoteError(path, key, "is required and must not be empty")
    if not isinstance(value, str):
        raise NoteError(path, key, f"must be text, not {type(value).__name__}")
    if "\n" in value:
        raise NoteError(path, key, "must be a single line")
    return value.strip()


def _optional_text(value: Any, key: str, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise NoteError(path, key, f"must be text, not {type(value).__name__}")
    return str(value)


def _text_list(value: Any, key: str, path: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise NoteError(path, key, "must be a list of words, like [csv, reports]")
    return [str(v) for v in value]


def _time_text(value: Any, key: str, path: str) -> str | None:
    """Timestamps are ISO 8601; YAML may have turned an unquoted one into a datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.timezone.utc) if value.tzinfo else value
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise NoteError(path, key, f"{value!r} is not an ISO 8601 time like 2026-11-26T09:00:12Z") from None
        return value
    raise NoteError(path, key, "must be an ISO 8601 time like 2026-11-26T09:00:12Z")
