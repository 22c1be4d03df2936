"""The action tools. Only the gate calls these: every effect is reviewed first.

Each tool runs confined to the working directory, with a timeout and an
output cap; a long result is cut with a note saying so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from memory.errors import ScribeError

SECRET_ENV = ("OPENAI_API_KEY", "SCRIBE_API_KEY", "SCRIBE_REVIEW_API_KEY")


class ToolError(ScribeError):
    """A tool could not do its work; the model sees the message as the tool result."""


@dataclass(frozen=True)
class Limits:
    shell_timeout_s: float = 120.0
    http_timeout_s: float = 30.0
    output_cap: int = 20_000
    http_cap: int = 200_000


@dataclass(frozen=True)
class Toolbox:
    workdir: Path
    limits: Limits = Limits()
    hidden_env: tuple[str, ...] = SECRET_ENV  # variables holding keys never reach commands

    def run(self, tool: str, args: dict) -> str:
        runners = {"shell": self.shell, "read_file": self.read_file, "write_file": self.write_file, "http_request": self.http_request}
        if tool not in runners:
            raise ToolError(f"unknown tool {tool!r}; tools are {', '.join(runners)}")
        try:
            return runners[tool](**args)
        except TypeError as exc:
            raise ToolError(f"bad arguments for {tool}: {exc}") from None

    def shell(self, command: str) -> str:
        """Run a shell command with /bin/sh in the working directory; returns the exit code and output.

        command: the command line
        """
        env = {k: v for k, v in os.environ.items() if k not in self.hidden_env}
        proc = subprocess.Popen(["/bin/sh", "-c", command], cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=self.limits.shell_timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return cut(f"timed out after {self.limits.shell_timeout_s:g}s and was killed\n" + out.decode("utf-8", "replace"), self.limits.output_cap)
        return cut(f"exit code {proc.returncode}\n" + out.decode("utf-8", "replace"), self.limits.output_cap)

    def read_file(self, path: str) -> str:
        """Read a text file inside the working directory.

        path: the file, relative to the working directory
        """
        target = self._inside(path)
        try:
            return cut(target.read_text(encoding="utf-8", errors="replace"), self.limits.output_cap)
        except OSError as exc:
            raise ToolError(f"cannot read {path}: {exc.strerror}") from None

    def write_file(self, path: str, content: str) -> str:
        """Write a text file inside the working directory, creating folders; replaces an existing file.

        path: the file, relative to the working directory
        content: the whole new text of the file
        """
        target = self._inside(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise ToolError(f"cannot write {path}: {exc.strerror}") from None
        return f"wrote {len(content.encode('utf-8'))} bytes to {path}"

    def http_request(self, method: str, url: str, body: str | None = None) -> str:
        """Make an HTTP or HTTPS request; returns the status and the body.

        method: GET, POST, PUT, PATCH or DELETE
        url: the full URL
        body: the request body, if any
        """
        if not url.lower().startswith(("http://", "https://")):
            raise ToolError(f"only http and https URLs are allowed, not {url!r}")
        data = body.encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=method.upper())
        try:
            with urllib.request.urlopen(request, timeout=self.limits.http_timeout_s) as response:
                status, raw = response.status, response.read(self.limits.http_cap + 1)
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read(self.limits.http_cap + 1)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ToolError(f"{method.upper()} {url} failed: {getattr(exc, 'reason', exc)}") from None
        text = raw[: self.limits.http_cap].decode("utf-8", "replace")
        if len(raw) > self.limits.http_cap:
            text += f"\n[response cut at {self.limits.http_cap} bytes]"
        return cut(f"HTTP {status}\n{text}", self.limits.output_cap)

    def _inside(self, path: str) -> Path:
        workdir = self.workdir.resolve()
        target = (workdir / Path(path).expanduser()).resolve()
        if target != workdir and workdir not in target.parents:
            raise ToolError(f"{path} is outside the working directory")
        return target


def cut(text: str, cap: int) -> str:
    """Keep the head of a long result and say how much was left out."""
    if len(text) <= cap:
        return text
    return text[:cap] + f"\n[output cut: {len(text) - cap} more characters not shown]"
