"""The store over the memory git repository.

Reads go through the working tree (which equals HEAD outside a write).
Writes happen only in ``apply`` (a reviewed change) and ``revert`` (a
human's undo): one writer at a time under a file lock, an intent journal
so a crash is rolled back at the next start, an atomic file write, and one
path-scoped commit with the trailers of SPEC section 8.
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import json
import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from memory import history, note as notes
from memory.errors import NoteError, PathRefused, Refused, ScribeError
from memory.gitcli import git, human_identity, parse_identity, text
from memory.note import FOLDERS, KIND_OF_FOLDER, Note
from memory.paths import DEFAULT_MAX_BYTES, check_content, check_note_path, decode_note, is_note_file

DEFAULT_AUTHOR = "scribe <scribe@localhost>"
TMP_SUFFIX = ".scribe-tmp"


@dataclass(frozen=True)
class Change:
    """One proposed note change; its digest covers exactly what will be written."""

    op: str  # add | update | remove
    path: str
    content: str | None  # the whole new note; None for remove
    base: str | None  # blob sha of the note this change was computed against

    @property
    def kind(self) -> str:
        return KIND_OF_FOLDER[self.path.split("/")[0]]

    def digest(self) -> str:
        canonical = json.dumps(
            {"op": self.op, "path": self.path, "content": self.content, "base": self.base},
            sort_keys=True, ensure_ascii=False, separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Stamp:
    """The review facts for one change, minted by the gate after a decision."""

    digest: str
    run: str
    task: str
    review_id: str
    verdict: str  # allow | human-approved
    risk: float | None  # None when no model answered
    reviewed_by: str  # the reviewer model, or "none"
    by_human: bool = False


@dataclass
class Entry:
    """A note file as listed: parsed, or reported as malformed with its problem."""

    path: str
    note: Note | None
    error: str | None = None


class Store:
    def __init__(self, root: Path, state_dir: Path, author: str = DEFAULT_AUTHOR, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root.resolve()
        self.state_dir = state_dir
        self.author = parse_identity(author)
        self.max_bytes = max_bytes
        self.journal = state_dir / "locks" / "memory-write.json"
        if not (self.root / ".git").exists():
            raise ScribeError(f"{self.root} is not a git repository; run 'scribe init' to create the workspace")

    # ----- reading -----

    def entries(self) -> list[Entry]:
        return [self._entry(rel) for rel in self.paths()]

    def paths(self) -> list[str]:
        found = []
        for folder in FOLDERS.values():
            directory = self.root / folder
            if directory.is_dir() and not directory.is_symlink():
                found += [f"{folder}/{p.name}" for p in directory.glob("*.md") if p.is_file() and not p.is_symlink()]
        return sorted(found)

    def read(self, rel: str) -> Note:
        return notes.parse(self.read_text(rel), rel)

    def read_text(self, rel: str) -> str:
        path = self._existing(rel)
        return decode_note(rel, path.read_bytes())

    def find(self, ref: str) -> str:
        """A note's path from its path or its title (case-insensitive)."""
        if "/" in ref:
            self._existing(ref)
            return ref
        hits = [e.path for e in self.entries() if e.note and e.note.title.casefold() == ref.strip().casefold()]
        if len(hits) > 1:
            raise Refused(f"title {ref!r} names several notes: {', '.join(hits)}; give the path instead")
        if not hits:
            raise Refused(f"no note with path or title {ref!r}; see 'scribe search' or 'scribe log'")
        return hits[0]

    def dirty_paths(self) -> list[str]:
        out = text(self.root, "-c", "core.quotePath=false", "status", "--porcelain", "--untracked-files=all")
        return [line[3:] for line in out.splitlines() if TMP_SUFFIX not in line]

    def head(self) -> str | None:
        done = git(self.root, "rev-parse", "--verify", "-q", "HEAD", check=False)
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def resolve(self, rev: str) -> str | None:
        """The full sha of a commit, or None when ``rev`` names none."""
        done = git(self.root, "rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}", check=False)
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def blob(self, rel: str, rev: str = "HEAD") -> str | None:
        done = git(self.root, "rev-parse", "--verify", "-q", f"{rev}:{rel}", check=False)
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def show_file(self, rel: str, rev: str) -> str | None:
        done = git(self.root, "show", f"{rev}:{rel}", check=False)
        return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None

    # ----- proposing -----

    def plan_remember(self, note: Note) -> Change:
        """The change that writes ``note``: an update when a note of that kind has its title."""
        existing = self._path_of_title(note.kind, note.title)
        now = notes.utc_now()
        if existing:
            old = self.read(existing)
            note.created = old.created or now
            note.tasks = list(dict.fromkeys([*old.tasks, *note.tasks]))
        note.created = note.created or now
        note.updated = now
        path = existing or self._free_path(note)
        op = "update" if existing else "add"
        # The size cap is the gate's rule to report and apply's to enforce.
        return Change(op=op, path=path, content=notes.render(note), base=self.blob(path) if existing else None)

    def plan_forget(self, rel: str) -> Change:
        check_note_path(self.root, rel)
        base = self.blob(rel)
        if base is None:
            raise Refused(f"cannot forget {rel}: no such note in memory")
        return Change(op="remove", path=rel, content=None, base=base)

    def diff(self, change: Change) -> str:
        """The unified diff of a change against the current note."""
        old = self.show_file(change.path, "HEAD") if change.base else ""
        new = change.content or ""
        lines = difflib.unified_diff(
            (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
            fromfile=f"a/{change.path}" if change.base else "/dev/null",
            tofile=f"b/{change.path}" if change.content is not None else "/dev/null",
        )
        return "".join(lines)

    # ----- writing -----

    def apply(self, change: Change, stamp: Stamp) -> str:
        """Write one reviewed change and commit it; returns the commit sha."""
        if stamp.digest != change.digest():
            raise Refused(f"stamp does not match the change to {change.path}; the change was altered after review")
        check_note_path(self.root, change.path)
        data = None if change.content is None else check_content(change.path, change.content, self.max_bytes)
        with self.lock():
            self._recover()
            if self.blob(change.path) != change.base:
                raise Refused(f"{change.path} changed since this change was proposed; propose it again")
            if change.path in self.dirty_paths():
                raise Refused(f"{change.path} has uncommitted edits; run 'scribe commit' or 'scribe discard' first")
            identity = human_identity(self.root) if stamp.by_human else self.author
            return self._write_and_commit({change.path: data}, _learn_message(change, stamp), identity)

    def revert(self, sha: str) -> str:
        """Undo one note commit with a new commit under the human's identity."""
        with self.lock():
            self._recover()
            return self._revert(self._revertible(sha))

    def revert_run(self, run: str) -> list[str]:
        """Undo every commit of a run, newest first; refuse before writing anything."""
        with self.lock():
            self._recover()
            commits = history.commits_of_run(self.root, run)
            if not commits:
                raise Refused(f"no memory commits carry Scribe-Run: {run}; see 'scribe log'")
            run_shas = tuple(c.sha for c in commits)
            for commit in commits:
                self._revertible(commit.sha, later_ok=run_shas)
            return [self._revert(self._revertible(commit.sha)) for commit in commits]

    def commit_human(self, message: str) -> str:
        """Keep the uncommitted edits in memory/ as one commit of the human's."""
        with self.lock():
            self._recover()
            if not self.dirty_paths():
                raise Refused("memory/ has no uncommitted changes; nothing to commit")
            git(self.root, "add", "-A")
            body = f"{message.strip() or 'Edit notes by hand'}\n\nScribe-Actor: human\n"
            git(self.root, "commit", "-q", "--no-gpg-sign", "-F", "-", identity=human_identity(self.root), input=body.encode())
            return self.head() or ""

    def discard(self, keep_dir: Path) -> list[str]:
        """Drop the uncommitted edits in memory/, keeping a copy of each changed file in keep_dir."""
        with self.lock():
            self._recover()
            dirty = self.dirty_paths()
            for rel in dirty:
                source = self.root / rel
                if source.is_file() and not source.is_symlink():
                    (keep_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                    (keep_dir / rel).write_bytes(source.read_bytes())
            git(self.root, "reset", "-q", "--hard", "HEAD")
            git(self.root, "clean", "-q", "-fd")
            return dirty

    def recover(self) -> None:
        """Roll back a write that a crash cut short (it was never committed)."""
        with self.lock():
            self._recover()

    @contextmanager
    def lock(self) -> Iterator[None]:
        path = self.state_dir / "locks" / "memory.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ----- internals -----

    def _entry(self, rel: str) -> Entry:
        try:
            return Entry(rel, self.read(rel))
        except (NoteError, PathRefused) as exc:
            return Entry(rel, None, str(exc))

    def _existing(self, rel: str) -> Path:
        """Only listed notes are read: regular files, no links, inside the note folders."""
        if rel not in self.paths():
            raise Refused(f"no note at {rel}; notes live in skills/, experiences/ or knowledge/ (see 'scribe log')")
        return self.root / rel

    def _path_of_title(self, kind: str, title: str) -> str | None:
        for entry in self.entries():
            if entry.note and entry.note.kind == kind and entry.note.title == title:
                return entry.path
        return None

    def _free_path(self, note: Note) -> str:
        slug, n = notes.slugify(note.title), 1
        while True:
            rel = f"{note.folder}/{slug}{'' if n == 1 else f'-{n}'}.md"
            if not (self.root / rel).exists() and self.blob(rel) is None:
                return rel
            n += 1

    def _bytes_at(self, rel: str, rev: str) -> bytes | None:
        done = git(self.root, "cat-file", "blob", f"{rev}:{rel}", check=False)
        return done.stdout if done.returncode == 0 else None

    def _revertible(self, sha: str, later_ok: tuple[str, ...] = ()) -> history.Commit:
        resolved = self.resolve(sha)
        if resolved is None:
            raise Refused(f"{sha} is not a commit in the memory repository; see 'scribe log'")
        commit = history.log(self.root, "-1", resolved)[0]
        if len(commit.parents) > 1:
            raise Refused(f"{commit.sha[:12]} is a merge; revert the commits it merged instead")
        if not commit.parents or not commit.changes or not all(is_note_file(c.path) for c in commit.changes):
            raise Refused(f"{commit.sha[:12]} is not a memory commit (it changes more than notes); nothing reverted")
        for change in commit.changes:
            self._refuse_if_changed_since(commit, change.path, later_ok)
            if change.path in self.dirty_paths():
                raise Refused(f"{change.path} has uncommitted edits; run 'scribe commit' or 'scribe discard' first")
        return commit

    def _revert(self, commit: history.Commit) -> str:
        files = {c.path: self._bytes_at(c.path, commit.parents[0]) for c in commit.changes}
        message = f'Revert "{commit.subject}"\n\nThis reverts commit {commit.sha}.\n\nScribe-Actor: human\n'
        return self._write_and_commit(files, message, human_identity(self.root))

    def _refuse_if_changed_since(self, commit: history.Commit, rel: str, later_ok: tuple[str, ...]) -> None:
        """A note changed since when HEAD holds other content than the commit left,
        by commits other than ``later_ok`` (the rest of a run being reverted)."""
        if self.blob(rel) == self.blob(rel, commit.sha):
            return
        later = [c for c in history.log(self.root, f"{commit.sha}..HEAD", paths=(rel,)) if c.sha not in later_ok]
        if later:
            raise Refused(
                f"{rel} changed since {commit.sha[:12]}, in {later[0].sha[:12]} ({later[0].subject}); "
                f"revert {later[0].sha[:12]} first"
            )

    def _write_and_commit(self, files: dict[str, bytes | None], message: str, identity: tuple[str, str]) -> str:
        with _interrupts_deferred():
            return self._write_and_commit_now(files, message, identity)

    def _write_and_commit_now(self, files: dict[str, bytes | None], message: str, identity: tuple[str, str]) -> str:
        self._write_journal(list(files))
        for rel, data in files.items():
            write_atomic(self.root / rel, data)
        paths = list(files)
        git(self.root, "add", "-A", "--", *paths)
        git(self.root, "commit", "-q", "--no-gpg-sign", "-F", "-", "--only", "--", *paths, identity=identity, input=message.encode("utf-8"))
        self.journal.unlink()
        return self.head() or ""

    def _write_journal(self, paths: list[str]) -> None:
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.journal, json.dumps({"head": self.head(), "paths": paths}).encode())

    def _recover(self) -> None:
        for stray in self.root.glob(f"*/.*{TMP_SUFFIX}"):
            stray.unlink()
        if not self.journal.exists():
            return
        intent = json.loads(self.journal.read_text())
        if self.head() == intent["head"]:
            for rel in intent["paths"]:
                self._restore(rel, intent["head"])
        self.journal.unlink()

    def _restore(self, rel: str, head: str | None) -> None:
        data = self._bytes_at(rel, head) if head else None
        git(self.root, "reset", "-q", "--", rel, check=False)
        write_atomic(self.root / rel, data)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C until the write and its commit are done, so no note is left half-written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


def _learn_message(change: Change, stamp: Stamp) -> str:
    risk = "n/a" if stamp.risk is None else f"{stamp.risk:.2f}"
    trailers = [
        ("Scribe-Run", stamp.run), ("Scribe-Task", stamp.task), ("Review-Id", stamp.review_id),
        ("Review-Risk", risk), ("Review-Verdict", stamp.verdict), ("Reviewed-By", stamp.reviewed_by),
    ]
    if stamp.by_human:
        trailers.append(("Scribe-Actor", "human"))
    lines = "\n".join(f"{key}: {_one_line(value)}" for key, value in trailers)
    return f"learn({change.kind}): {change.op} {change.path}\n\n{lines}\n"


def _one_line(value: str) -> str:
    return " ".join(str(value).split()) or "none"


def write_atomic(path: Path, data: bytes | None) -> None:
    """Replace a file by a fully written, fsynced temp file, or remove it."""
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}{TMP_SUFFIX}")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

