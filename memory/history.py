"""Reading the history of the memory repository: commits, trailers, changes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from memory.gitcli import git

CHANGE_WORDS = {"A": "add", "M": "update", "D": "remove", "T": "update"}
FORMAT = "%x1e%H%x1f%P%x1f%aI%x1f%an <%ae>%x1f%s%x1f%(trailers:unfold,only)%x1f"


@dataclass
class FileChange:
    path: str
    change: str  # add | update | remove


@dataclass
class Commit:
    sha: str
    parents: list[str]
    time: str
    author: str
    subject: str
    trailers: dict[str, str] = field(default_factory=dict)
    changes: list[FileChange] = field(default_factory=list)

    @property
    def run(self) -> str | None:
        return self.trailers.get("Scribe-Run")

    @property
    def by_human(self) -> bool:
        return self.trailers.get("Scribe-Actor") == "human"

    @property
    def verdict(self) -> str:
        """allow / human-approved from a review, human for a human's commit, unreviewed otherwise."""
        if "Review-Verdict" in self.trailers:
            return self.trailers["Review-Verdict"]
        return "human" if self.by_human else "unreviewed"

    def summary(self) -> dict[str, Any]:
        """The --json shape of one commit in ``scribe log``."""
        return {
            "commit": self.sha,
            "time": self.time,
            "author": self.author,
            "subject": self.subject,
            "changes": [asdict(c) for c in self.changes],
            "task": self.trailers.get("Scribe-Task"),
            "run": self.run,
            "verdict": self.verdict,
            "risk": self.trailers.get("Review-Risk"),
            "reviewer": self.trailers.get("Reviewed-By"),
            "review_id": self.trailers.get("Review-Id"),
            "actor": "human" if self.by_human else ("scribe" if self.run else "unknown"),
        }


def log(repo: Path, *revs: str, paths: tuple[str, ...] = (), since: str | None = None) -> list[Commit]:
    """Commits newest first, each with its trailers and changed paths."""
    if not has_commits(repo):
        return []
    args = ["-c", "core.quotePath=false", "log", f"--format={FORMAT}", "--name-status", "--no-renames"]
    if since:
        args.append(f"--since={since}")
    out = git(repo, *args, *revs, "--", *paths).stdout.decode("utf-8", errors="replace")
    return [_parse_record(rec) for rec in out.split("\x1e") if rec.strip()]


def commits_of_run(repo: Path, run: str) -> list[Commit]:
    return [c for c in log(repo) if c.run == run]


def has_commits(repo: Path) -> bool:
    return git(repo, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0


def _parse_record(record: str) -> Commit:
    sha, parents, time, author, subject, trailers, names = record.split("\x1f")
    return Commit(
        sha=sha,
        parents=parents.split(),
        time=time,
        author=author,
        subject=subject,
        trailers=_parse_trailers(trailers),
        changes=_parse_name_status(names),
    )


def _parse_trailers(block: str) -> dict[str, str]:
    pairs = (line.partition(":") for line in block.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, _, value in pairs}


def _parse_name_status(block: str) -> list[FileChange]:
    changes = []
    for line in block.splitlines():
        status, _, path = line.partition("\t")
        if path:
            changes.append(FileChange(path=path, change=CHANGE_WORDS.get(status[:1], "update")))
    return changes
