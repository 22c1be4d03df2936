"""The chat client: the only module that imports openai.

It talks to any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama)
with an explicit timeout, and turns the SDK's exceptions into ModelError so
callers never depend on openai's types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Endpoint:
    model: str
    base_url: str | None
    api_key: str
    timeout_s: float = 60.0
    max_retries: int = 2


@dataclass
class Reply:
    content: str | None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


class ChatModel(Protocol):
    """What the loop and the reviewer need of a model: ModelClient, or the demo's recorded model."""

    def chat(self, messages: list[dict[str, Any]], **options: Any) -> Reply: ...


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    native: bool  # False: written as JSON in the message content


class ModelError(Exception):
    """The model could not be asked: timeout, connection or HTTP error."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.status = kind, status


class ClientSideRejected(ModelError):
    """The server answered 400/422: the request itself was refused (for example its response_format)."""


def _sdk() -> Any:
    import openai  # deferred: importing it takes half a second, and most commands never ask a model

    return openai


class ModelClient:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client = _sdk().OpenAI(
            api_key=endpoint.api_key or "unused",
            base_url=endpoint.base_url or None,
            timeout=endpoint.timeout_s,
            max_retries=endpoint.max_retries,
        )

    def chat(self, messages: list[dict[str, Any]], **options: Any) -> Reply:
        """One chat completion; ``options`` go to the API as given (tools, response_format, ...)."""
        openai = _sdk()
        try:
            response = self._client.chat.completions.create(model=self.endpoint.model, messages=messages, **options)
        except openai.APITimeoutError as exc:
            raise ModelError("timeout", f"no answer within {self.endpoint.timeout_s:g}s: {exc}") from None
        except openai.APIConnectionError as exc:
            raise ModelError("connection", f"cannot reach {self.endpoint.base_url or 'OpenAI'}: {exc}") from None
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            raise ClientSideRejected("http", f"HTTP {exc.status_code}: {_short(exc)}", exc.status_code) from None
        except openai.APIStatusError as exc:
            raise ModelError("http", f"HTTP {exc.status_code}: {_short(exc)}", exc.status_code) from None
        except (openai.APIError, ValueError) as exc:  # e.g. a body that is not JSON
            raise ModelError("response", f"unusable answer: {_short(exc)}") from None
        try:
            return _reply(response)
        except (AttributeError, TypeError, ValueError) as exc:  # JSON, but not shaped like a chat completion
            raise ModelError("response", f"answer is not a chat completion: {_short(exc)}") from None

    def model_ids(self) -> list[str]:
        """The models the server lists (GET /models); raises ModelError when it does not answer."""
        openai = _sdk()
        try:
            return [m.id for m in self._client.models.list()]
        except openai.APIStatusError as exc:
            raise ModelError("http", f"HTTP {exc.status_code}: {_short(exc)}", exc.status_code) from None
        except (openai.APIError, ValueError) as exc:
            raise ModelError("connection", f"cannot reach {self.endpoint.base_url or 'OpenAI'}: {_short(exc)}") from None

    def close(self) -> None:
        self._client.close()


def _reply(response: Any) -> Reply:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise ModelError("response", "the answer has no choices")
    message = choices[0].message
    calls = [
        {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
        for c in (message.tool_calls or []) if getattr(c, "function", None)
    ]
    usage = response.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}) if response.usage else {}
    return Reply(message.content, calls, choices[0].finish_reason, usage)


def _short(exc: Exception, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def tool_calls_of(reply: Reply, known: set[str]) -> tuple[list[ToolCall], str | None]:
    """The tool calls of a reply, native or written as JSON in the content.

    Returns the calls and a problem to tell the model, if any: unparseable
    native arguments, or more than one call written in the content (only the
    first is kept: one call per step).
    """
    if reply.tool_calls:
        return _native_calls(reply.tool_calls)
    found = calls_in_content(reply.content or "", known)
    if len(found) > 1:
        return found[:1], f"you wrote {len(found)} tool calls; only the first ({found[0].name}) was run. Call one tool per reply."
    return found, None


def _native_calls(raw: list[dict[str, Any]]) -> tuple[list[ToolCall], str | None]:
    calls, problem = [], None
    for call in raw:
        try:  # some servers send the arguments as an object instead of a JSON string
            args = call["arguments"] if isinstance(call["arguments"], dict) else json.loads(call["arguments"] or "{}")
        except (json.JSONDecodeError, TypeError):
            args, problem = None, f"the arguments of {call['name']} are not valid JSON"
        if isinstance(args, dict):
            calls.append(ToolCall(call["id"], call["name"], args, native=True))
        elif problem is None:
            problem = f"the arguments of {call['name']} must be a JSON object"
    return calls, problem


def calls_in_content(content: str, known: set[str]) -> list[ToolCall]:
    """JSON tool calls written in text: bare, in code fences, with doubled braces, several at once."""
    decoder, calls, i = json.JSONDecoder(), [], 0
    while (i := content.find("{", i)) != -1:
        try:
            obj, end = decoder.raw_decode(content, i)
        except ValueError:
            i += 1  # e.g. the first of doubled braces: try from the next one
            continue
        call = _as_call(obj, known, len(calls))
        if call:
            calls.append(call)
        i = end
    return calls


def _as_call(obj: Any, known: set[str], n: int) -> ToolCall | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):
        obj = obj["function"]
    name = obj.get("name") or obj.get("tool")
    args = next((obj[k] for k in ("arguments", "parameters", "args") if k in obj), {})
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if name not in known or not isinstance(args, dict):
        return None
    return ToolCall(f"content-{n}", name, args, native=False)
