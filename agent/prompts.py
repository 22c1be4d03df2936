"""Rendering the prompt templates of prompts/, the only place prompt prose lives.

Templates come only from the installed ``prompts`` package; notes, tool
output and task text are passed in as variables, never as template source.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined

from memory.errors import ScribeError

_ENV = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


def render(name: str, **variables: Any) -> str:
    """Render ``prompts/<name>.j2`` with the given variables."""
    template = resources.files("prompts").joinpath(f"{name}.j2")
    if not template.is_file():
        raise ScribeError(f"prompt template {name}.j2 is missing from the installed prompts package; reinstall scribe-agent")
    return _ENV.from_string(template.read_text(encoding="utf-8")).render(**variables)
