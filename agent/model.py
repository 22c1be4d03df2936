"""The chat client: the only module that imports openai.

It talks to any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama)
with an explicit timeout, and turns the SDK's exceptions into ModelError so
callers never depend on openai's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
