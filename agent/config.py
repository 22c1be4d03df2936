"""Configuration: one typed dataclass per component, merged defaults -> file -> env.

Unknown sections or keys, wrong types and out-of-range values are errors
that name the file, the key and what to write instead.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from agent.model import Endpoint
from memory.errors import ScribeError
from memory.gitcli import parse_identity
from memory.paths import DEFAULT_MAX_BYTES


class ConfigError(ScribeError):
    """A problem in scribe.toml or the environment that configures scribe."""


@dataclass
class AgentConfig:
    model: str = "gpt-4.1-mini"
    base_url: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    max_steps: int = 30
    workdir: str = "."
    timeout_s: float = 120.0


@dataclass
class ReviewerConfig:
    model: str = ""
    base_url: str = ""
    api_key_env: str = ""
    allow_below: float = 0.3
    deny_at: float = 0.7
    human_can_override_deny: bool = False
    on_error: str = "ask"
    timeout_s: float = 60.0


@dataclass
class MemoryConfig:
    path: str = "memory"
    learning: str = "commit"
    author: str = "scribe <scribe@localhost>"
    max_note_bytes: int = DEFAULT_MAX_BYTES


@dataclass
class Config:
    agent: AgentConfig = field(default_factory=AgentConfig)
    reviewer: ReviewerConfig = field(default_factory=ReviewerConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)


# Environment variables that override a key of the file.
ENV_OVERRIDES = {
    "SCRIBE_MODEL": ("agent", "model"),
    "SCRIBE_BASE_URL": ("agent", "base_url"),
    "SCRIBE_REVIEW_MODEL": ("reviewer", "model"),
    "SCRIBE_REVIEW_BASE_URL": ("reviewer", "base_url"),
}


def load(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read scribe.toml, then apply environment overrides, then validate."""
    environ = os.environ if environ is None else environ
    data = _read_toml(path)
    config = Config()
    for section, values in data.items():
        _merge_section(config, section, values, path)
    _apply_env(config, environ)
    _validate(config, path)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} not found; run 'scribe init' to create a workspace") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}; fix the file") from None


def _merge_section(config: Config, section: str, values: Any, path: Path) -> None:
    sections = [f.name for f in dataclasses.fields(config)]
    if section not in sections:
        raise ConfigError(f"{path}: unknown section [{section}]; known sections: {', '.join(sections)}")
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: {section} must be a [{section}] table")
    target = getattr(config, section)
    known = {f.name: f for f in dataclasses.fields(target)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown key '{key}' in [{section}]; known keys: {', '.join(known)}")
        setattr(target, key, _typed(value, known[key].type, f"{path}: [{section}].{key}"))


def _typed(value: Any, type_name: Any, where: str) -> Any:
    expected = {"str": str, "int": int, "float": (int, float), "bool": bool}[str(type_name)]
    if isinstance(value, bool) and expected is not bool:
        raise ConfigError(f"{where} must be a {type_name}, not true/false")
    if not isinstance(value, expected):
        raise ConfigError(f"{where} must be a {type_name}, not {type(value).__name__} {value!r}")
    return float(value) if type_name == "float" else value


def _apply_env(config: Config, environ: Mapping[str, str]) -> None:
    for name, (section, key) in ENV_OVERRIDES.items():
        if environ.get(name):
            setattr(getattr(config, section), key, environ[name])
    # OPENAI_BASE_URL only fills in when neither SCRIBE_BASE_URL nor the file set a base URL.
    if not config.agent.base_url and environ.get("OPENAI_BASE_URL"):
        config.agent.base_url = environ["OPENAI_BASE_URL"]


def _validate(config: Config, path: Path) -> None:
    rev, agent, mem = config.reviewer, config.agent, config.memory
    checks = [
        (0.0 <= rev.allow_below <= 1.0, "[reviewer].allow_below must be between 0 and 1"),
        (0.0 <= rev.deny_at <= 1.0, "[reviewer].deny_at must be between 0 and 1"),
        (rev.allow_below <= rev.deny_at, "[reviewer].allow_below must not be above deny_at"),
        (rev.on_error in ("ask", "deny"), f"[reviewer].on_error is {rev.on_error!r}; use \"ask\" or \"deny\""),
        (rev.timeout_s > 0, "[reviewer].timeout_s must be above 0"),
        (agent.max_steps > 0, "[agent].max_steps must be at least 1"),
        (agent.timeout_s > 0, "[agent].timeout_s must be above 0"),
        (mem.learning in ("commit", "propose"), f"[memory].learning is {mem.learning!r}; use \"commit\" or \"propose\""),
        (mem.max_note_bytes > 0, "[memory].max_note_bytes must be above 0"),
        (bool(mem.path.strip()), "[memory].path must not be empty"),
    ]
    for ok, problem in checks:
        if not ok:
            raise ConfigError(f"{path}: {problem}")
    try:
        parse_identity(mem.author)
    except ScribeError:
        raise ConfigError(f"{path}: [memory].author is {mem.author!r}; write it as 'Name <email>'") from None


def agent_key(config: Config, environ: Mapping[str, str]) -> str:
    return environ.get("SCRIBE_API_KEY") or environ.get(config.agent.api_key_env, "")


def reviewer_endpoint(config: Config, environ: Mapping[str, str] | None = None) -> Endpoint:
    """The reviewer's model, URL and key. The agent's key goes only to the agent's own endpoint."""
    environ = os.environ if environ is None else environ
    rev = config.reviewer
    own_key = environ.get("SCRIBE_REVIEW_API_KEY") or (environ.get(rev.api_key_env, "") if rev.api_key_env else "")
    separate = bool(rev.base_url) and rev.base_url != config.agent.base_url
    key = own_key if separate else own_key or agent_key(config, environ)
    base_url = rev.base_url or config.agent.base_url
    model = rev.model or config.agent.model
    if not model:
        raise ConfigError("no reviewer model: set [reviewer].model or [agent].model in scribe.toml (or SCRIBE_REVIEW_MODEL)")
    if not key and not base_url:
        hint = "SCRIBE_REVIEW_API_KEY or [reviewer].api_key_env" if separate else f"{config.agent.api_key_env} or SCRIBE_API_KEY"
        raise ConfigError(f"no API key for the reviewer at OpenAI: set {hint}, or point base_url at a local server")
    return Endpoint(model=model, base_url=base_url or None, api_key=key, timeout_s=rev.timeout_s, max_retries=1)


def agent_endpoint(config: Config, environ: Mapping[str, str] | None = None) -> Endpoint:
    """The agent's model, URL and key, or a one-line error saying what to set."""
    environ = os.environ if environ is None else environ
    agent = config.agent
    if not agent.model:
        raise ConfigError("no model configured: set [agent].model in scribe.toml or SCRIBE_MODEL")
    key = agent_key(config, environ)
    if not key and not agent.base_url:
        raise ConfigError(f"no API key: set {agent.api_key_env} (or SCRIBE_API_KEY), or point [agent].base_url at a local server")
    return Endpoint(model=agent.model, base_url=agent.base_url or None, api_key=key, timeout_s=agent.timeout_s)
