"""What the handlers share: the service, settings, chat state, subscriptions, limits, access."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.subscriptions import Subscriptions
from bot.telegram.access import Access
from bot.telegram.limits import Limits
from bot.telegram.state import StateStore
from retrieval.api import NewsService
from retrieval.config import Settings


@dataclass
class Services:
    """Everything the handlers share; `build_application(settings, services)` wires it."""

    settings: Settings
    service: NewsService
    state: StateStore
    limits: Limits
    access: Access
    subscriptions: Subscriptions
    max_concurrent: int = 4
    stream: bool = False  # LLM mode: private chats see the answer grow
    _chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )
    _slots: asyncio.Semaphore | None = None
    _follow_lock: asyncio.Lock | None = None
    _arrivals: asyncio.Queue[list[str]] | None = None

    @classmethod
    def create(cls, settings: Settings, service: NewsService) -> Services:
        """Open the chat state under `settings.data_dir` and set limits from the settings."""
        state = StateStore.in_data_dir(settings.data_dir)
        limits = Limits(settings.rate_per_minute, settings.daily_cap, state.usage)
        return cls(
            settings=settings,
            service=service,
            state=state,
            limits=limits,
            access=Access.from_settings(settings),
            subscriptions=Subscriptions.in_data_dir(settings.data_dir),
            max_concurrent=max(1, settings.max_concurrent_llm),
            stream=service.uses_llm,
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

    @property
    def arrivals(self) -> asyncio.Queue[list[str]]:
        """Batches of newly stored articles, for the alerts (bot/telegram/alerts.py)."""
        if self._arrivals is None:
            self._arrivals = asyncio.Queue()
        return self._arrivals

    async def announce(self, doc_ids: Sequence[str]) -> None:
        """Articles the bot has just stored (ingest, feeds): note them, queue their alerts."""
        if doc_ids:
            await asyncio.to_thread(self.subscriptions.record_arrivals, doc_ids)
            self.arrivals.put_nowait(list(doc_ids))

    def close(self) -> None:
        self.state.close()
        self.subscriptions.close()
