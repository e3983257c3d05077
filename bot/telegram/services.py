"""What the handlers use: the Newsdesk service, the chat state, limits, access, concurrency."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from bot.telegram.access import Access
from bot.telegram.limits import Limits
from bot.telegram.state import StateStore
from retrieval.config import Settings
from retrieval.types import Answer, CoverageStats, Turn


class Report(Protocol):
    """An ingest report (retrieval.ingest.IngestReport)."""

    def summary(self) -> str: ...


class AnswerService(Protocol):
    """The part of `retrieval.service.Newsdesk` the bot calls."""

    def answer(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> Answer: ...

    def astream(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> AsyncIterator[str | Answer]: ...

    def ingest(
        self, paths: Sequence[Path], *, prune: bool = False, progress: bool = False
    ) -> Any: ...

    def stats(self) -> CoverageStats: ...


UrlIngest = Callable[[str], Awaitable[Report]]
"""Hook for `/ingest URL`: fetch one page and ingest it."""


def web_url_ingest(settings: Settings, service: AnswerService) -> UrlIngest | None:
    """`/ingest URL` through retrieval.web (needs the service's `ingest_articles`)."""
    if not callable(getattr(service, "ingest_articles", None)):
        return None

    async def ingest(url: str) -> Report:
        from retrieval.web.articles import aingest_urls  # the [live] extra: imported on use

        result: Report = await aingest_urls(cast(Any, service), settings, [url])
        return result

    return ingest


@dataclass
class Services:
    """Everything the handlers share; `build_application(settings, services)` wires it."""

    service: AnswerService
    state: StateStore
    limits: Limits
    access: Access
    max_concurrent: int = 4
    stream: bool = False  # LLM mode: private chats see the answer grow
    ingest_url: UrlIngest | None = None  # set once URL ingest exists (retrieval/web)
    _chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )
    _slots: asyncio.Semaphore | None = None
    _follow_lock: asyncio.Lock | None = None

    @classmethod
    def create(
        cls,
        settings: Settings,
        service: AnswerService,
        *,
        ingest_url: UrlIngest | Literal["web"] | None = "web",
    ) -> Services:
        """Open the chat state under `settings.data_dir` and set limits from the settings."""
        state = StateStore.in_data_dir(settings.data_dir)
        limits = Limits(settings.rate_per_minute, settings.daily_cap, state.usage)
        return cls(
            service=service,
            state=state,
            limits=limits,
            access=Access.from_settings(settings),
            max_concurrent=max(1, settings.max_concurrent_llm),
            stream=settings.llm_enabled and getattr(service, "llm", True) is not None,
            ingest_url=web_url_ingest(settings, service) if ingest_url == "web" else ingest_url,
        )

    def chat_lock(self, chat_id: int) -> asyncio.Lock:
        """The lock that keeps one chat's questions in order (dropped when nobody holds it)."""
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._chat_locks[chat_id] = lock
        return lock

    @property
    def slots(self) -> asyncio.Semaphore:
        """Bounds simultaneous answers (retrieval and LLM calls) across chats."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        return self._slots

    @property
    def follow_lock(self) -> asyncio.Lock:
        """One feed round at a time (the follower and `/follow` share it)."""
        if self._follow_lock is None:
            self._follow_lock = asyncio.Lock()
        return self._follow_lock

    def close(self) -> None:
        self.state.close()
