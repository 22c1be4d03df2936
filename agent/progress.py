"""Live progress on stderr: colour with rich on a terminal, plain lines when piped."""

from __future__ import annotations

import sys
from typing import Callable

import click

STYLES = (("-> deny", "red"), ("-> ask", "yellow"), ("-> allow", "green"), (": success", "bold green"),
          (": failure", "bold red"), (": interrupted", "bold red"), (": stopped", "bold red"))


def reporter() -> Callable[[str], None]:
    if not sys.stderr.isatty():
        return lambda line: click.echo(line, err=True)
    from rich.console import Console

    console = Console(stderr=True, highlight=False)

    def show(line: str) -> None:
        style = next((s for marker, s in STYLES if marker in line), None)
        console.print(line, style=style, markup=False)

    return show
