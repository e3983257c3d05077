"""Publish and drain: readers take the current view without waiting for writers.

A writer builds the next view beside the current one and publishes it with one assignment.
Before it deletes anything an older view may still be reading (the chunks of a replaced
article, say), it drains: waits until every search that started on an older view is done.
Searches take well under a second, so the wait is short; readers themselves never wait.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

DRAIN_TIMEOUT_S = 30.0


class Published(Generic[T]):
    """The current value plus a count of the readers still using each older one."""

    def __init__(self, first: T) -> None:
        self._cond = threading.Condition()
        self._current = first
        self._generation = 0
        self._readers: Counter[int] = Counter()

    @property
    def current(self) -> T:
        return self._current

    @property
    def generation(self) -> int:
        return self._generation

    @contextlib.contextmanager
    def reading(self) -> Iterator[T]:
        """Use the current value for the whole of one search."""
        with self._cond:  # held for a counter update, never across a write
            value, generation = self._current, self._generation
            self._readers[generation] += 1
        try:
            yield value
        finally:
            with self._cond:
                self._readers[generation] -= 1
                if self._readers[generation] <= 0:
                    del self._readers[generation]
                    self._cond.notify_all()

    def publish(self, value: T) -> int:
        """Make `value` current; searches already running keep the one they started with."""
        with self._cond:
            self._current = value
            self._generation += 1
            return self._generation

    def drain(self, timeout: float = DRAIN_TIMEOUT_S) -> bool:
        """Wait until no search holds a value older than the current one; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(g < self._generation for g in self._readers):
                left = deadline - time.monotonic()
                if left <= 0:
                    logger.warning("a search held an old index view for over %.0f s", timeout)
                    return False
                self._cond.wait(left)
        return True
