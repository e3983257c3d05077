"""Follow feeds inside the bot process: a background task polling every followed feed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from telegram.ext import Application

from bot.telegram.services import Services
from retrieval.errors import IngestError

if TYPE_CHECKING:
    from retrieval.web.follow import FollowReport

log = logging.getLogger(__name__)

FIRST_DELAY = 10.0  # seconds after start before the first round (catch up after a restart)
STOP_GRACE = 30.0  # seconds a round in progress may take to finish when the bot stops


class IngestGate:
    """Lets the follower's ingests run until the bot stops; stopping waits for the one running.

    The ingest runs in a thread that cancelling the round cannot stop, and the service must
    not be closed under it. `with gate:` around an ingest raises IngestError once the gate is
    closed: the follower forgets those items and fetches them again on the next start.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> None:
        self._lock.acquire()
        if self._closed:
            self._lock.release()
            raise IngestError("bot stopping", user_message="the bot is stopping")

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def close(self) -> None:
        """Block until an ingest in progress is done; refuse the ones after."""
        with self._lock:
            self._closed = True

    def reopen(self) -> None:
        with self._lock:
            self._closed = False


class Follower:
    """Poll every followed feed each `every` seconds and ingest new items.

    One round at a time (`services.follow_lock`, shared with `/follow`); a failing feed or
    round is logged and the next round goes on. Fetching runs on the event loop (async httpx);
    extraction and the ingest run in threads, so answers are not held up.
    """

    def __init__(self, services: Services, every: float) -> None:
        self.settings = services.settings
        self.services = services
        self.gate = IngestGate()
        self.every = every
        self.rounds = 0  # rounds that checked at least one feed
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def create(cls, services: Services) -> Follower | None:
        """A follower for the bot, or None when following is unavailable here.

        Raises ConfigError for a malformed `NEWSDESK_FOLLOW_EVERY`.
        """
        try:
            from retrieval.web.follow import MIN_EVERY_SECONDS, parse_every
        except ImportError as exc:  # the [live] extra is not installed
            log.info("Feed following is off (%s); install the [live] extra to enable it", exc)
            return None
        settings = services.settings
        every = parse_every(settings.follow_every)
        if every < MIN_EVERY_SECONDS:
            log.warning(
                "NEWSDESK_FOLLOW_EVERY=%s polls feeds more than once a minute; "
                "that is only polite for your own servers",
                settings.follow_every,
            )
        return cls(services, every)

    def start(self) -> None:
        """Start polling (in the running event loop)."""
        if self._task is None:
            self._stop.clear()
            self.gate.reopen()
            self._task = asyncio.create_task(self._run(), name="newsdesk-follower")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop polling; a round in progress gets `grace` seconds to finish.

        After that its fetches are abandoned, but an ingest already storing articles is
        waited for (the index must not be closed under it).
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            log.warning("A feed round was still running at shutdown: abandoning its fetches")
        await asyncio.to_thread(self.gate.close)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = min(self.every, FIRST_DELAY)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            if self._stop.is_set():
                return
            delay = self.every
            await self.round()

    async def round(self) -> FollowReport | None:
        """Check every followed feed once; never raises (the bot must keep running)."""
        try:
            from retrieval.web.follow import follow_once, list_feeds

            if not await asyncio.to_thread(list_feeds, self.settings):
                return None
            async with self.services.follow_lock:
                report = await follow_once(self.services.service, self.settings, guard=self.gate)
            await self.services.announce(report.stored)  # alerts and digests
        except Exception:
            log.exception("A feed round failed; retrying in %.0f s", self.every)
            return None
        self.rounds += 1
        if report.ingested:
            log.info("Feeds: %d new article(s) ingested", len(report.ingested))
        for url, error in report.errors:
            log.warning("Feed %s failed: %s", url, error)
        log.debug("Feed round: %s", report.summary().replace("\n", " | "))
        return report


def bot_data_follower(app: Application) -> Follower | None:  # type: ignore[type-arg]
    """The follower `build_application` stored in the Application, if any."""
    follower = app.bot_data.get("follower")
    return follower if isinstance(follower, Follower) else None
