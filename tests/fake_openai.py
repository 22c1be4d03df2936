"""A fake OpenAI-compatible chat server over real HTTP, scripted per test.

Each scripted step answers one POST /v1/chat/completions: a chat reply, an
HTTP error, a delay, or raw text. A call beyond the script is answered 500
and recorded as unexpected, so a test sees an extra model call.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def reply(content: str | None = None, tool_calls: list[dict[str, Any]] | None = None, finish: str = "stop") -> dict[str, Any]:
    """A chat.completion body with one choice."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
            for i, c in enumerate(tool_calls)
        ]
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def review(risk: Any, categories: list[str] | None = None, rationale: str = "scripted", outcomes: list | None = None) -> dict[str, Any]:
    """A reviewer answer as JSON content."""
    body = {"risk": risk, "outcomes": outcomes or [], "categories": categories or [], "rationale": rationale}
    return reply(json.dumps(body))


@dataclass
class Step:
    body: Any = None
    status: int = 200
    delay_s: float = 0.0
    raw: str | None = None


@dataclass
class FakeOpenAI:
    steps: list[Step] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    unexpected: int = 0
    models: tuple[str, ...] = ("fake-model", "fake-reviewer")

    def script(self, *items: Any) -> None:
        """Queue answers: dicts are 200 bodies, Steps are anything else."""
        self.steps.extend(item if isinstance(item, Step) else Step(body=item) for item in items)

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - GET /v1/models, for scribe doctor
                self._send(200, json.dumps({"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models]}))

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                fake.headers.append(dict(self.headers))
                if not fake.steps:
                    fake.unexpected += 1
                    return self._send(500, json.dumps({"error": {"message": "unexpected extra call"}}))
                step = fake.steps.pop(0)
                time.sleep(step.delay_s)
                self._send(step.status, step.raw if step.raw is not None else json.dumps(step.body))

            def _send(self, status: int, text: str) -> None:
                data = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
