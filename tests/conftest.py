"""Shared fixtures: every test gets its own HOME, git identity and workspace in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.cli import main
from agent.workspace import init_workspace
from memory.store import Change, Stamp, Store

HUMAN = ("Test Human", "human@example.com")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """All state under tmp_path: HOME, git config, no inherited scribe or OpenAI settings."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f"[user]\n\tname = {HUMAN[0]}\n\temail = {HUMAN[1]}\n[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in list(os.environ):
        if name.startswith(("SCRIBE_", "OPENAI_", "GIT_AUTHOR", "GIT_COMMITTER")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    init_workspace(root)
    return root


@pytest.fixture
def store(ws: Path) -> Store:
    return Store(ws / "memory", ws / ".scribe")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def scribe(capsys: pytest.CaptureFixture[str], ws: Path):
    """Run the CLI in this process, in the workspace, and capture what it prints."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(["--workspace", str(ws), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def stamp_for(change: Change, run: str = "20261126T090000Z-weekly-ab12", **overrides) -> Stamp:
    """The stamp the gate would mint after allowing ``change``."""
    facts = dict(digest=change.digest(), run=run, task="weekly", review_id="r-1",
                 verdict="allow", risk=0.12, reviewed_by="test-model")
    facts.update(overrides)
    return Stamp(**facts)


def git_out(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def commit_by_hand(repo: Path, rel: str, text: str | None, message: str = "hand edit") -> str:
    """What a human does with plain git: write or delete a file and commit it."""
    path = repo / rel
    if text is None:
        path.unlink()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    subprocess.run(["git", "add", "-A", "--", rel], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message, "--", rel], cwd=repo, check=True)
    return git_out(repo, "rev-parse", "HEAD").strip()


def note_text(title: str, kind: str = "skill", body: str = "Body.\n", **extra: str) -> str:
    lines = [f"title: {title}", f"kind: {kind}", *(f"{k}: {v}" for k, v in extra.items())]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


SCRIBE_BIN = [sys.executable, "-m", "agent"]


def _serve():
    from fake_openai import FakeOpenAI

    server = FakeOpenAI()
    server.url = server.start()
    yield server
    server.stop()
    assert server.unexpected == 0, "the model was called more often than scripted"
    assert server.steps == [], "scripted answers were left unused"


@pytest.fixture
def fake_openai():
    yield from _serve()


@pytest.fixture
def fake_reviewer():
    """A second fake server, for the reviewer when the agent has its own."""
    yield from _serve()


@pytest.fixture
def model_env(fake_openai, fake_reviewer, monkeypatch):
    """Point scribe's agent and reviewer at the two fake servers through the environment."""
    monkeypatch.setenv("SCRIBE_BASE_URL", fake_openai.url)
    monkeypatch.setenv("SCRIBE_MODEL", "fake-model")
    monkeypatch.setenv("SCRIBE_REVIEW_BASE_URL", fake_reviewer.url)
    monkeypatch.setenv("SCRIBE_REVIEW_MODEL", "fake-reviewer")
    return fake_openai, fake_reviewer


def make_gate(ws: Path, url: str, asker=None, timeout_s: float = 2.0, task: str = "weekly", **reviewer_config):
    """A gate wired as `scribe run` wires it, with its reviewer on the fake server."""
    from agent import config as config_mod
    from agent.gate import RunContext
    from agent.model import Endpoint, ModelClient
    from agent.review import Reviewer
    from agent.workspace import Workspace

    config = config_mod.load(ws / "scribe.toml", environ={})
    for key, value in reviewer_config.items():
        setattr(config.reviewer, key, value)
    workspace = Workspace(ws, config)
    reviewer = Reviewer(ModelClient(Endpoint("fake-reviewer", url, "reviewer-key", timeout_s=timeout_s, max_retries=0)), "fake-reviewer")
    ctx = RunContext(run="20261126T090000Z-weekly-ab12", task=task, instructions="Summarize inbox/ into reports/.")
    return workspace.build_gate(ctx, reviewer, asker)
