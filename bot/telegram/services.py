"""What the handlers share: the service, the settings, chat state, limits, access, concurrency."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

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
    max_concurrent: int = 4
    stream: bool = False  # LLM mode: private chats see the answer grow
    _chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )
    _slots: asyncio.Semaphore | None = None
    _follow_lock: asyncio.Lock | None = None

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

    def close(self) -> None:
        self.state.close()
