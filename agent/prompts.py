"""Rendering the prompt templates of prompts/, the only place prompt prose lives.

Templates come only from the installed ``prompts`` package; notes, tool
output and task text are passed in as variables, never as template source.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined

from memory.errors import ScribeError

_ENV = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
# The tags our templates quote data between; data must not open or close them.
_QUOTING_TAGS = re.compile(r"(?i)<(\s*/?\s*(?:proposal|instructions|note|trace)\b)")


def render(name: str, **variables: Any) -> str:
    """Render ``prompts/<name>.j2`` with the given variables."""
    template = resources.files("prompts").joinpath(f"{name}.j2")
    if not template.is_file():
        raise ScribeError(f"prompt template {name}.j2 is missing from the installed prompts package; reinstall scribe-agent")
    return _ENV.from_string(template.read_text(encoding="utf-8")).render(**variables)


def quote(text: str) -> str:
    """Neutralise tags in data that could close or open a quoted block early."""
    return _QUOTING_TAGS.sub(r"&lt;\1", text)
