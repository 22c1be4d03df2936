"""Full-text search over the notes at HEAD: SQLite FTS5 with BM25 ranking.

Rows are keyed by git blob sha, so a refresh re-reads only notes whose
content changed. User queries are never FTS syntax: every word is quoted.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from memory import note as notes
from memory.errors import NoteError, PathRefused
from memory.gitcli import git
from memory.note import FOLDERS
from memory.paths import decode_note, is_note_file

SCHEMA_VERSION = 1
TITLE_WEIGHT, BODY_WEIGHT, TAGS_WEIGHT = 10.0, 1.0, 3.0
SCHEMA = """
CREATE TABLE notes (id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, blob TEXT NOT NULL,
                    kind TEXT, title TEXT NOT NULL, error TEXT);
CREATE VIRTUAL TABLE fts USING fts5(title, body, tags, tokenize = 'porter unicode61');
"""


@dataclass
class Hit:
    path: str
    title: str
    kind: str | None
    score: float
    snippet: str
    error: str | None = None


@dataclass
class Indexed:
    path: str
    title: str
    kind: str | None
    body: str
    tags: str
    error: str | None


class Index:
    def __init__(self, db_path: Path, repo: Path) -> None:
        self.db_path = db_path
        self.repo = repo

    def refresh(self) -> int:
        """Bring the index up to HEAD; returns how many notes were (re)indexed."""
        current = self._tree_blobs()
        with self._connect() as db:
            known = dict(db.execute("SELECT path, blob FROM notes"))
            for path in known.keys() - current.keys():
                self._delete(db, path)
            changed = {p: b for p, b in current.items() if known.get(p) != b}
            for path, data in zip(changed, self._read_blobs(list(changed.values())), strict=True):
                self._delete(db, path)
                self._insert(db, changed[path], _to_indexed(path, data))
        return len(changed)

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        match = fts_query(query)
        if not match:
            return []
        self.refresh()
        with self._connect() as db:
            rows = db.execute(
                "SELECT n.path, n.title, n.kind, bm25(fts, ?, ?, ?) AS score,"
                " snippet(fts, 1, '[', ']', '...', 12), n.error"
                " FROM fts JOIN notes n ON n.id = fts.rowid WHERE fts MATCH ? ORDER BY score LIMIT ?",
                (TITLE_WEIGHT, BODY_WEIGHT, TAGS_WEIGHT, match, limit),
            ).fetchall()
        return [Hit(path, title, kind, -score, snippet, error) for path, title, kind, score, snippet, error in rows]

    def _connect(self) -> sqlite3.Connection:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.db_path, timeout=30)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError:  # a damaged cache: it is rebuilt from git
            db.close()
            self.db_path.unlink()
            return self._connect()
        if version != SCHEMA_VERSION:
            db.executescript("DROP TABLE IF EXISTS notes; DROP TABLE IF EXISTS fts;" + SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return db

    def _tree_blobs(self) -> dict[str, str]:
        done = git(self.repo, "ls-tree", "-r", "-z", "HEAD", "--", *FOLDERS.values(), check=False)
        blobs = {}
        for entry in done.stdout.decode("utf-8", errors="replace").split("\0"):
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob" and parts[0] != "120000" and is_note_file(path):
                blobs[path] = parts[2]
        return blobs

    def _read_blobs(self, shas: list[str]) -> list[bytes]:
        """All blobs in one ``git cat-file --batch`` call."""
        if not shas:
            return []
        out = git(self.repo, "cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode()).stdout
        blobs, pos = [], 0
        for _ in shas:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            blobs.append(out[header_end + 1 : header_end + 1 + size])
            pos = header_end + 1 + size + 1
        return blobs

    @staticmethod
    def _delete(db: sqlite3.Connection, path: str) -> None:
        row = db.execute("SELECT id FROM notes WHERE path = ?", (path,)).fetchone()
        if row:
            db.execute("DELETE FROM fts WHERE rowid = ?", row)
            db.execute("DELETE FROM notes WHERE id = ?", row)

    @staticmethod
    def _insert(db: sqlite3.Connection, blob: str, item: Indexed) -> None:
        cursor = db.execute(
            "INSERT INTO notes (path, blob, kind, title, error) VALUES (?, ?, ?, ?, ?)",
            (item.path, blob, item.kind, item.title, item.error),
        )
        db.execute("INSERT INTO fts (rowid, title, body, tags) VALUES (?, ?, ?, ?)", (cursor.lastrowid, item.title, item.body, item.tags))


def fts_query(query: str) -> str:
    """Turn any user text into an FTS5 query: each word quoted, any word may match."""
    words = re.findall(r"\w+", query)
    return " OR ".join(f'"{w}"' for w in words)


def _to_indexed(path: str, data: bytes) -> Indexed:
    """A malformed note is still indexed, under its file name, with its problem."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".md")
    text = data.decode("utf-8", errors="replace")
    try:
        parsed = notes.parse(decode_note(path, data), path)
    except (NoteError, PathRefused) as exc:
        return Indexed(path, stem, None, text, "", str(exc))
    return Indexed(path, parsed.title, parsed.kind, parsed.body, " ".join(parsed.tags), None)
