"""Finding, opening and creating a workspace (SPEC section 2)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from agent import config as config_mod
from agent.config import Config
from agent.gate import Asker, Gate, Records, RunContext
from agent.model import ModelClient
from agent.review import Reviewer
from agent.rules import Protected
from agent.tools import SECRET_ENV, Toolbox
from memory.errors import ScribeError
from memory.gitcli import git, human_identity
from memory.index import Index
from memory.note import FOLDERS
from memory.store import Store

CONFIG_NAME = "scribe.toml"
STATE_NAME = ".scribe"


class WorkspaceError(ScribeError):
    """No workspace where one was expected, or one that is incomplete."""


@dataclass
class Workspace:
    root: Path
    config: Config

    @property
    def memory_dir(self) -> Path:
        return (self.root / self.config.memory.path).resolve()

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_NAME

    @property
    def tasks_dir(self) -> Path:
        return self.root / "tasks"

    def open_store(self) -> Store:
        """The memory store, with any write a crash cut short rolled back."""
        mem = self.config.memory
        store = Store(self.memory_dir, self.state_dir, author=mem.author, max_bytes=mem.max_note_bytes)
        store.recover()
        return store

    def open_index(self) -> Index:
        return Index(self.state_dir / "index.sqlite", self.memory_dir)

    @property
    def workdir(self) -> Path:
        return (self.root / self.config.agent.workdir).resolve()

    def protected(self) -> Protected:
        """The paths no action may write, following the configured memory path and workdir."""
        owned = (self.memory_dir, self.root / CONFIG_NAME, self.tasks_dir, self.state_dir)
        return Protected(self.workdir, tuple(p.resolve() for p in owned))

    def reviewer(self) -> Reviewer:
        endpoint = config_mod.reviewer_endpoint(self.config)
        return Reviewer(ModelClient(endpoint), endpoint.model)

    def records(self) -> Records:
        return Records.at(self.state_dir)

    def build_gate(self, ctx: RunContext, reviewer: Reviewer | None, asker: Asker | None = None) -> Gate:
        """Wire the gate: every component it needs, in one place."""
        hidden = (*SECRET_ENV, self.config.agent.api_key_env, self.config.reviewer.api_key_env)
        toolbox = Toolbox(self.workdir, hidden_env=tuple(filter(None, hidden)))
        return Gate(ctx, self.config.reviewer, reviewer, self.open_store(), self.open_index(), toolbox,
                    self.protected(), self.records(), asker)


def locate(explicit: str | None) -> Path:
    """--workspace, else SCRIBE_WORKSPACE, else the nearest directory up holding scribe.toml."""
    given = explicit or os.environ.get("SCRIBE_WORKSPACE")
    if given:
        root = Path(given).expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise WorkspaceError(f"{root} is not a scribe workspace (no {CONFIG_NAME}); run 'scribe init {given}'")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise WorkspaceError(f"no {CONFIG_NAME} in {here} or its parents; run 'scribe init' or pass --workspace DIR")


def open_workspace(explicit: str | None) -> Workspace:
    root = locate(explicit)
    workspace = Workspace(root, config_mod.load(root / CONFIG_NAME))
    if not (workspace.memory_dir / ".git").exists():
        raise WorkspaceError(f"{workspace.memory_dir} is not a git repository; check [memory].path in {root / CONFIG_NAME}")
    return workspace


def init_workspace(directory: Path) -> bool:
    """Create a workspace; returns False (and changes nothing) when one is already there."""
    root = directory.expanduser().resolve()
    if (root / CONFIG_NAME).exists():
        return False
    memory = root / "memory"
    has_repo = (memory / ".git").exists()
    if not has_repo and memory.exists() and any(memory.iterdir()):
        raise WorkspaceError(f"{memory} already exists and is not empty; move it away or init elsewhere")
    root.mkdir(parents=True, exist_ok=True)
    (root / STATE_NAME).mkdir(exist_ok=True)
    _write_new(root / ".gitignore", f"{STATE_NAME}/\n")
    _write_new(root / "tasks" / "hello.md", _skeleton("hello.md"))
    if not has_repo:  # an init cut short earlier left a repository: keep it
        _init_memory(memory)
    # scribe.toml last: its presence is what marks a finished workspace.
    _write_new(root / CONFIG_NAME, _skeleton("scribe.toml"))
    return True


def _init_memory(memory: Path) -> None:
    memory.mkdir(parents=True, exist_ok=True)
    git(memory, "init", "-q")
    (memory / "README.md").write_text(_skeleton("memory-README.md"), encoding="utf-8")
    for folder in FOLDERS.values():
        (memory / folder).mkdir(exist_ok=True)
        (memory / folder / ".gitkeep").touch()
    git(memory, "add", "-A")
    message = "Start scribe memory\n\nScribe-Actor: human\n"
    git(memory, "commit", "-q", "--no-gpg-sign", "-F", "-", identity=human_identity(memory), input=message.encode())


def _write_new(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(content, encoding="utf-8")


def _skeleton(name: str) -> str:
    return resources.files("agent").joinpath("skeleton", name).read_text(encoding="utf-8")
