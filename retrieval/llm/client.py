"""OpenAI-compatible chat client: streaming, a timeout, and retries we control.

The SDK's own retries are off (`max_retries=0`) so the policy is in one place:
429 and 5xx (and refused connections) are retried up to `llm_max_retries` times with
backoff that honours `Retry-After`; a timeout or a stream cut mid-answer gets one retry.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import openai

from retrieval.errors import LLMError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_BACKOFF = 8.0


class StreamCutError(Exception):
    """The server ended a streamed answer before it was complete."""


@dataclass
class Completion:
    """A finished chat completion with timings."""

    text: str
    finish_reason: str | None
    ttft_ms: float | None = None
    total_ms: float = 0.0
    attempts: int = 1
    retries: list[tuple[str, float]] = field(default_factory=list)  # (reason, delay seconds)


@dataclass
class _Attempt:
    text: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    first_token_at: float | None = None


def parse_retry_after(headers: httpx.Headers | None) -> float | None:
    """Return the delay a server asked for (retry-after-ms, seconds, or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def describe(exc: BaseException, base_url: str, model: str, timeout: float) -> LLMError:
    """Turn any client failure into an LLMError with one clear line for the user."""
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
    else:
        msg = f"The LLM request to {base_url} failed ({type(exc).__name__})."
    return LLMError(f"{msg} [{type(exc).__name__}: {exc}]", user_message=msg)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.RateLimitError | openai.InternalServerError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    # A refused connection is not a timeout: retry like a 503.
    return isinstance(exc, openai.APIConnectionError) and not isinstance(
        exc, openai.APITimeoutError
    )


def _is_cut(exc: BaseException) -> bool:
    return isinstance(
        exc,
        StreamCutError
        | openai.APITimeoutError
        | httpx.TimeoutException
        | TimeoutError
        | httpx.RemoteProtocolError
        | httpx.ReadError,
    )


@dataclass
class _Budget:
    """The retries one request may still make, and what it has made."""

    client: ChatClient
    transient_left: int = -1
    cut_left: int = 1  # one retry after a timeout or a stream cut
    attempts: int = 0
    retries: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.transient_left < 0:
            self.transient_left = self.client.max_retries

    def after_failure(self, exc: Exception, *, adapted: bool | None = None) -> float:
        """Return the delay before the next attempt; raise LLMError when none is left."""
        if adapted is None:
            adapted = self.client._adapt(exc)
        if adapted:
            log.info("LLM server rejected a parameter; retrying without it: %s", exc)
            return 0.0
        delay = self.client._next_delay(exc, self.transient_left, self.cut_left)
        if delay is None:
            raise self.client._fail(exc) from exc
        if _is_transient(exc):
            self.transient_left -= 1
        else:
            self.cut_left -= 1
        self.retries.append((type(exc).__name__, delay))
        log.warning("LLM request failed (%s); retrying in %.2f s", exc, delay)
        return delay


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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.model = model
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._api_key = api_key or "not-needed"
        self._sleep = sleep
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
                max_retries=0,
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
                max_retries=0,
            )
            self._async[loop] = client
        return client

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

    # -- retry policy --------------------------------------------------------------------

    def _next_delay(self, exc: BaseException, transient_left: int, cut_left: int) -> float | None:
        """Return how long to wait before retrying, or None to give up."""
        if _is_transient(exc) and transient_left > 0:
            headers = exc.response.headers if isinstance(exc, openai.APIStatusError) else None
            asked = parse_retry_after(headers)
            attempt = self.max_retries - transient_left
            if asked is None:
                return min(MAX_BACKOFF, 0.5 * 2.0**attempt) * (0.5 + random.random() / 2)
            # A server asking for longer than a whole request is not worth waiting for.
            return float(asked) if asked <= self.timeout else None
        if _is_cut(exc) and cut_left > 0:
            return 0.0
        return None

    def _fail(self, exc: BaseException) -> LLMError:
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
        budget = _Budget(self)
        while True:
            budget.attempts += 1
            attempt = _Attempt()
            try:
                self._run_sync(messages, max_tokens, attempt, on_delta)
            except Exception as exc:
                delay = budget.after_failure(exc)
                if delay:
                    self._sleep(delay)
                continue
            return self._finish(attempt, started, budget.attempts, budget.retries)

    def _run_sync(
        self,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        attempt: _Attempt,
        on_delta: Callable[[str], None] | None,
    ) -> None:
        deadline = time.monotonic() + self.timeout
        stream = self.sync_client.chat.completions.create(**self._request(messages, max_tokens))
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
    ) -> AsyncIterator[str | Restart | Completion]:
        """Yield text deltas, then the Completion. After a retry the text starts again."""
        started = time.perf_counter()
        budget = _Budget(self)
        while True:
            budget.attempts += 1
            attempt = _Attempt()
            try:
                # A deadline per attempt, applied around each await and never across a
                # `yield` (cancellation stays inside this generator); time the consumer
                # spends between deltas is not charged to the server.
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.timeout
                async with asyncio.timeout_at(deadline):
                    stream = await self.async_client().chat.completions.create(
                        **self._request(messages, max_tokens)
                    )
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
            except Exception as exc:
                adapted = self._adapt(exc)
                delay = budget.after_failure(exc, adapted=adapted)
                if adapted:
                    continue
                if delay:
                    await asyncio.sleep(delay)
                yield RESTART
                continue
            yield self._finish(attempt, started, budget.attempts, budget.retries)
            return

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _take(attempt: _Attempt, delta: str) -> None:
        if attempt.first_token_at is None:
            attempt.first_token_at = time.perf_counter()
        attempt.text.append(delta)

    @staticmethod
    def _finish(
        attempt: _Attempt, started: float, attempts: int, retries: list[tuple[str, float]]
    ) -> Completion:
        now = time.perf_counter()
        ttft = (attempt.first_token_at - started) * 1000 if attempt.first_token_at else None
        return Completion(
            text="".join(attempt.text),
            finish_reason=attempt.finish_reason,
            ttft_ms=ttft,
            total_ms=(now - started) * 1000,
            attempts=attempts,
            retries=retries,
        )

    def list_models(self) -> list[str]:
        """Return the model ids the server lists."""
        try:
            return [m.id for m in self.sync_client.models.list()]
        except Exception as exc:
            raise self._fail(exc) from exc

    def ping(self) -> None:
        """Ask for one token with no retries; raise LLMError on any failure."""
        for _ in range(3):
            try:
                stream = self.sync_client.chat.completions.create(
                    **self._request([{"role": "user", "content": "Reply with OK."}], 1)
                )
                with stream:
                    for _ in _chunks(stream):
                        pass
                return
            except Exception as exc:
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
