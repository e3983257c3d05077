"""Deadlines that keep a reader from waiting on the LLM: a first token, then a whole answer.

Both count from when the question arrived (condensing a follow-up, the SDK's retries and a
retry after a cut stream all spend the same budget: nothing restarts it). The times are
`time.monotonic()` values, the clock of asyncio's event loops, so a deadline made in one
thread bounds awaits in another thread's loop too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

from retrieval.config import Settings

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The LLM had not produced its first token, or its whole answer, in time."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what} deadline of {seconds:g} s passed")
        self.what = what  # "first token" or "answer"
        self.seconds = seconds

    @property
    def note(self) -> str:
        """The one line a reader is shown above the quotes."""
        if self.what == "first token":
            return (
                f"The model had not started answering after {self.seconds:g} s, "
                "so here are quotes from the coverage instead."
            )
        return (
            f"The model had not finished within {self.seconds:g} s, "
            "so here are quotes from the coverage instead."
        )


@dataclass(frozen=True)
class Deadline:
    """When the first token and the whole answer are due (time.monotonic() values)."""

    first_token_at: float
    answer_at: float
    first_token_s: float
    answer_s: float

    @classmethod
    def start(cls, settings: Settings, now: float | None = None) -> Deadline:
        """The deadlines of a question arriving `now` (default: this moment)."""
        t = time.monotonic() if now is None else now
        total = max(0.0, settings.answer_deadline)
        first = min(max(0.0, settings.first_token_deadline), total)  # due by the answer's
        return cls(t + first, t + total, first, total)

    def first_token_left(self) -> float:
        """Seconds left until the first token is due (negative when past)."""
        return self.first_token_at - time.monotonic()

    def first_token_missed(self) -> DeadlineExceeded:
        return DeadlineExceeded("first token", self.first_token_s)

    async def bound(self, events: AsyncIterator[T], is_token: type) -> AsyncIterator[T]:
        """Yield `events` while they keep their deadlines; raise DeadlineExceeded when not.

        Until an event of type `is_token` arrives, the next one is due by the first-token
        deadline; after it, by the answer deadline. The awaits are bounded, never a `yield`,
        and the source is closed (its HTTP request cancelled) when a deadline passes.
        """
        token_seen = False
        try:
            while True:
                timeout = asyncio.timeout_at(self.answer_at if token_seen else self.first_token_at)
                try:
                    async with timeout:
                        event = await anext(events)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    if not timeout.expired():
                        raise  # not ours: the source's own error
                    if token_seen:
                        raise DeadlineExceeded("answer", self.answer_s) from None
                    raise self.first_token_missed() from None
                token_seen = token_seen or isinstance(event, is_token)
                yield event
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
