"""Tool schemas derived from typed, documented functions, never written by hand.

The first docstring line describes the tool; lines ``name: text`` describe
its parameters. Parameters with a default are optional.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable

TYPES = {"str": {"type": "string"}, "bool": {"type": "boolean"}, "int": {"type": "integer"},
         "float": {"type": "number"}, "list[str]": {"type": "array", "items": {"type": "string"}}}
PARAM_LINE = re.compile(r"^\s*(\w+): (.+)$")


def function_schema(fn: Callable[..., Any], name: str | None = None, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    doc = inspect.getdoc(fn) or ""
    described = {m.group(1): m.group(2) for m in map(PARAM_LINE.match, doc.splitlines()[1:]) if m}
    properties, required = {}, []
    for param in inspect.signature(fn).parameters.values():
        if param.name in ("self", *skip) or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        annotation = str(param.annotation).replace(" | None", "")
        if annotation not in TYPES:
            raise TypeError(f"{fn.__qualname__}: parameter {param.name} has no schema type ({param.annotation})")
        properties[param.name] = {**TYPES[annotation], **({"description": described[param.name]} if param.name in described else {})}
        if param.default is param.empty:
            required.append(param.name)
    return {
        "type": "function",
        "function": {
            "name": name or fn.__name__,
            "description": doc.splitlines()[0] if doc else "",
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }
