"""OpenAI-compatible chat client: always streaming, a timeout, the SDK's retries.

Retries: the openai SDK's own (`max_retries`, NEWSDESK_LLM_MAX_RETRIES) for 408/409/429/5xx,
refused connections and timeouts before the answer starts, honouring Retry-After; once an
answer is streaming, a cut connection, a stall or an answer past the timeout gets one retry
here. Only the errors of the server and its connection (openai, httpx, a cut) become
LLMError; anything else is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

# The SDK imports its resources on the first request (seconds on a small machine), which in
# async code would block the event loop and spend the reader's first-token deadline: import
# them with this module instead (it is imported only when an LLM is configured).
import openai.resources.chat

from retrieval.errors import LLMError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class StreamCutError(Exception):
    """The server ended a streamed answer before it was complete."""


# An answer interrupted mid-stream: dropped, stalled, or over the timeout. One retry.
STREAM_CUT = (
    StreamCutError,
    TimeoutError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
    httpx.ReadError,
)
# The failures of the model's server that we know and describe; anything else is ours.
LLM_FAILURES = (openai.OpenAIError, httpx.HTTPError, *STREAM_CUT)


@dataclass
class Completion:
    """A finished chat completion with timings."""

    text: str
    finish_reason: str | None
    ttft_ms: float | None = None
    total_ms: float = 0.0
    attempts: int = 1  # streams started (the SDK's own retries not counted)


@dataclass
class _Attempt:
    text: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    first_token_at: float | None = None


def describe(exc: Exception, base_url: str, model: str, timeout: float) -> LLMError:
    """Turn a known LLM failure (LLM_FAILURES) into an LLMError with one line for the user."""
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        msg = f"The LLM server at {base_url} rejected the API key (check OPENAI_API_KEY)."
    elif isinstance(exc, openai.NotFoundError):
        msg = (
            f"The LLM server at {base_url} does not know the model {model!r} "
            "(check NEWSDESK_LLM_MODEL), or the URL is not an OpenAI-compatible API "
            "(check OPENAI_BASE_URL; it often ends in /v1)."
        )
    elif isinstance(exc, openai.RateLimitError):
        msg = f"The LLM server at {base_url} is rate limiting requests; try again shortly."
    elif isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        msg = f"The LLM server at {base_url} did not answer within {timeout:g} s."
    elif isinstance(exc, StreamCutError | httpx.RemoteProtocolError | httpx.ReadError):
        msg = f"The LLM server at {base_url} cut the answer off mid-stream."
    elif isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        msg = f"Cannot reach the LLM server at {base_url} (check OPENAI_BASE_URL)."
    elif isinstance(exc, openai.BadRequestError) and "model" in str(exc).lower():
        msg = f"The LLM server at {base_url} does not accept the model {model!r}."
    elif isinstance(exc, openai.APIStatusError):
        msg = f"The LLM server at {base_url} returned HTTP {exc.status_code}."
    else:  # another openai or httpx error (a malformed response, an error event)
        msg = f"The LLM request to {base_url} failed ({type(exc).__name__})."
    return LLMError(f"{msg} [{type(exc).__name__}: {exc}]", user_message=msg)


class ChatClient:
    """A small OpenAI-compatible chat client (sync and async, always streaming)."""

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_tokens: int = 400,
        temperature: float = 0.1,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.model = model
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._api_key = api_key or "not-needed"
        self._token_param = "max_tokens"
        self._send_temperature = True
        self._sync: openai.OpenAI | None = None
        # One async client per event loop: an httpx pool must not outlive its loop, and a
        # dead loop's id may be reused, so key by the loop object itself (weakly).
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
            weakref.WeakKeyDictionary()
        )

    # -- clients ---------------------------------------------------------------------

    def _http_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(5.0, self.timeout))

    @property
    def sync_client(self) -> openai.OpenAI:
        if self._sync is None:
            self._sync = openai.OpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=self._http_timeout(),
                max_retries=self.max_retries,
            )
        return self._sync

    def async_client(self) -> openai.AsyncOpenAI:
        """Return an async client bound to the running event loop."""
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=self._http_timeout(),
                max_retries=self.max_retries,
            )
            self._async[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the async client of the running loop (a private loop that is about to end)."""
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    def close(self) -> None:
        """Close the sync client; async clients close with their loops."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        self._async.clear()

    def _request(self, messages: list[dict[str, str]], max_tokens: int | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            self._token_param: min(max_tokens or self.max_tokens, self.max_tokens),
            "stream": True,
        }
        if self._send_temperature:
            request["temperature"] = self.temperature
        return request

    def _adapt(self, exc: BaseException) -> bool:
        """Adjust the request to a 400 about a parameter (newer OpenAI models); True if so."""
        if not isinstance(exc, openai.BadRequestError):
            return False
        text = str(exc)
        if "max_completion_tokens" in text and self._token_param == "max_tokens":
            self._token_param = "max_completion_tokens"
            return True
        if "temperature" in text and self._send_temperature:
            self._send_temperature = False
            return True
        return False

    def _again(self, exc: Exception, cuts: int) -> str:
        """After failure `exc` (the `cuts`-th cut so far): "adapted" or "cut" to ask again.

        Raises the LLMError for `exc` when there is nothing left to try.
        """
        if self._adapt(exc):
            log.info("LLM server rejected a parameter; retrying without it: %s", exc)
            return "adapted"
        if isinstance(exc, STREAM_CUT) and cuts <= 1:
            log.warning("LLM answer was cut off (%s); retrying once", exc)
            return "cut"
        raise self._fail(exc) from exc

    def _fail(self, exc: Exception) -> LLMError:
        return describe(exc, self.base_url, self.model, self.timeout)

    # -- sync ------------------------------------------------------------------------------

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        """Stream one chat completion to the end; raise LLMError when it cannot be had."""
        started = time.perf_counter()
        attempts = cuts = 0
        while True:
            attempts += 1
            attempt = _Attempt()
            try:
                self._run_sync(messages, max_tokens, attempt, on_delta)
            except LLM_FAILURES as exc:
                cuts += isinstance(exc, STREAM_CUT)
                self._again(exc, cuts)
                continue
            return self._finish(attempt, started, attempts)

    def _run_sync(
        self,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        attempt: _Attempt,
        on_delta: Callable[[str], None] | None,
    ) -> None:
        stream = self.sync_client.chat.completions.create(**self._request(messages, max_tokens))
        deadline = time.monotonic() + self.timeout  # for the answer, once it streams
        with stream:
            for delta, finish in _chunks(stream):
                if time.monotonic() > deadline:
                    raise TimeoutError("the answer took longer than the timeout")
                if delta:
                    self._take(attempt, delta)
                    if on_delta is not None:
                        on_delta(delta)
                if finish:
                    attempt.finish_reason = finish
        if attempt.finish_reason is None:
            raise StreamCutError("the stream ended without a finish reason")

    # -- async -----------------------------------------------------------------------------

    async def astream(
        self, messages: list[dict[str, str]], *, max_tokens: int | None = None
    ) -> AsyncGenerator[str | Restart | Completion, None]:
        """Yield text deltas, then the Completion. After a cut the text starts again."""
        started = time.perf_counter()
        attempts = cuts = 0
        loop = asyncio.get_running_loop()
        while True:
            attempts += 1
            attempt = _Attempt()
            try:
                # The SDK bounds (and retries) the request; the answer then gets `timeout`,
                # applied around each await and never across a `yield` (cancellation stays
                # inside this generator): time the consumer spends is not charged to it.
                stream = await self.async_client().chat.completions.create(
                    **self._request(messages, max_tokens)
                )
                deadline = loop.time() + self.timeout
                async with stream:
                    chunks = _achunks(stream)
                    while True:
                        try:
                            async with asyncio.timeout_at(deadline):
                                delta, finish = await anext(chunks)
                        except StopAsyncIteration:
                            break
                        if delta:
                            self._take(attempt, delta)
                            paused = loop.time()
                            yield delta
                            deadline += loop.time() - paused
                        if finish:
                            attempt.finish_reason = finish
                if attempt.finish_reason is None:
                    raise StreamCutError("the stream ended without a finish reason")
            except LLM_FAILURES as exc:
                cuts += isinstance(exc, STREAM_CUT)
                if self._again(exc, cuts) == "cut":
                    yield RESTART
                continue
            yield self._finish(attempt, started, attempts)
            return

    async def acomplete(
        self, messages: list[dict[str, str]], *, max_tokens: int | None = None
    ) -> Completion:
        """`complete`, async: stream one chat completion to the end (cancellable)."""
        async with contextlib.aclosing(self.astream(messages, max_tokens=max_tokens)) as items:
            async for item in items:
                if isinstance(item, Completion):
                    return item
        raise StreamCutError("the stream ended without a completion")  # pragma: no cover

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _take(attempt: _Attempt, delta: str) -> None:
        if attempt.first_token_at is None:
            attempt.first_token_at = time.perf_counter()
        attempt.text.append(delta)

    @staticmethod
    def _finish(attempt: _Attempt, started: float, attempts: int) -> Completion:
        now = time.perf_counter()
        ttft = (attempt.first_token_at - started) * 1000 if attempt.first_token_at else None
        return Completion(
            text="".join(attempt.text),
            finish_reason=attempt.finish_reason,
            ttft_ms=ttft,
            total_ms=(now - started) * 1000,
            attempts=attempts,
        )

    def list_models(self) -> list[str]:
        """Return the model ids the server lists."""
        try:
            return [m.id for m in self.sync_client.models.list()]
        except LLM_FAILURES as exc:
            raise self._fail(exc) from exc

    def ping(self) -> None:
        """Ask for one token (the SDK's retries apply); raise LLMError when it fails.

        A rejected parameter is adapted and asked again, at most once per parameter.
        """
        for _ in range(3):
            try:
                stream = self.sync_client.chat.completions.create(
                    **self._request([{"role": "user", "content": "Reply with OK."}], 1)
                )
                with stream:
                    for _ in _chunks(stream):
                        pass
                return
            except LLM_FAILURES as exc:
                if not self._adapt(exc):
                    raise self._fail(exc) from exc


class Restart:
    """Yielded by `ChatClient.astream` when an attempt failed and the text starts over."""

    def __repr__(self) -> str:
        return "RESTART"


RESTART = Restart()


def _chunks(stream: Any) -> Iterator[tuple[str, str | None]]:
    for chunk in stream:
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice.delta, "content", None) if choice.delta else None
            yield delta or "", choice.finish_reason


async def _achunks(stream: Any) -> AsyncIterator[tuple[str, str | None]]:
    async for chunk in stream:
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice.delta, "content", None) if choice.delta else None
            yield delta or "", choice.finish_reason
