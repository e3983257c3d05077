"""Per-user rate limit (token bucket) and daily cap."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass(frozen=True)
class Verdict:
    """Whether a question may go ahead; if not, why and for how long."""

    ok: bool
    reason: str = ""  # "rate" or "daily"
    retry_after: float = 0.0


class TokenBucket:
    """`rate` questions a minute per user, with bursts up to `rate`."""

    def __init__(self, rate_per_minute: int, *, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(max(1, rate_per_minute))
        self.refill = self.capacity / 60.0
        self.clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def take(self, user_id: int) -> float:
        """Take one token; return 0 if taken, else the seconds until one is available."""
        now = self.clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._prune(now)
            bucket = self._buckets[user_id] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.refill)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.refill

    def _prune(self, now: float) -> None:
        full = [
            uid
            for uid, b in self._buckets.items()
            if b.tokens + (now - b.stamp) * self.refill >= self.capacity
        ]
        for uid in full:
            del self._buckets[uid]


def utc_day(now: float | None = None) -> str:
    """The UTC date (YYYY-MM-DD) that daily counters use."""
    stamp = time.time() if now is None else now
    return datetime.fromtimestamp(stamp, UTC).date().isoformat()


class Limits:
    """The rate limit in memory and the daily cap against the persistent usage counters."""

    def __init__(
        self,
        rate_per_minute: int,
        daily_cap: int,
        usage: Callable[[int, str], int],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.bucket = TokenBucket(rate_per_minute, clock=clock)
        self.daily_cap = daily_cap
        self.usage = usage  # (user_id, day) -> questions already counted that day
        self.wall = wall
        self._warned: dict[int, float] = {}

    def should_warn(self, user_id: int, every: float = 30.0) -> bool:
        """Whether to tell a limited user so: once per `every` seconds, not per message,
        so a flood of messages does not become a flood of replies."""
        now = self.bucket.clock()
        last = self._warned.get(user_id)
        if last is not None and now - last < every:
            return False
        if len(self._warned) > 10_000:
            self._warned.clear()
        self._warned[user_id] = now
        return True

    def check(self, user_id: int) -> Verdict:
        """Admit or refuse one question of `user_id` (admitting takes a token)."""
        if self.daily_cap > 0 and self.usage(user_id, utc_day(self.wall())) >= self.daily_cap:
            return Verdict(False, "daily")
        wait = self.bucket.take(user_id)
        if wait > 0:
            return Verdict(False, "rate", wait)
        return Verdict(True)
