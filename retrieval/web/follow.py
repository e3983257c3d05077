"""Follow feeds: poll, fetch new items, ingest them, and record how each feed is doing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.errors import ConfigError, NewsdeskError
from retrieval.types import Article
from retrieval.web.articles import Failure, dedupe, gather_articles
from retrieval.web.feeds import FeedPoll, poll_feed
from retrieval.web.fetch import Fetcher, FetchError, check_url
from retrieval.web.state import FeedInfo, WebState

logger = logging.getLogger(__name__)

MIN_EVERY_SECONDS = 60.0  # polite floor for the CLI and the bot; tests call follow_once


@dataclass
class FeedResult:
    """What one feed gave in one round."""

    url: str
    title: str = ""
    not_modified: bool = False
    ingested: list[Article] = field(default_factory=list)
    duplicates: list[Failure] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # items that could not be fetched
    error: str | None = None  # the feed itself failed (or its articles could not be stored)

    def describe(self) -> str:
        name = self.title or self.url
        if self.error:
            return f"{name}: error: {self.error}"
        if self.not_modified:
            return f"{name}: unchanged"
        parts = [f"{len(self.ingested)} new"]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate")
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        return f"{name}: " + ", ".join(parts)


@dataclass
class FollowReport:
    """One round over the followed feeds."""

    feeds: list[FeedResult] = field(default_factory=list)
    seconds: float = 0.0
    ingest_summary: str = ""
    stored: list[str] = field(default_factory=list)  # ids the ingest wrote (new or updated)

    @property
    def ingested(self) -> list[Article]:
        return [a for f in self.feeds for a in f.ingested]

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(feed url, reason) for each feed that failed this round."""
        return [(f.url, f.error) for f in self.feeds if f.error]

    def summary(self) -> str:
        """Return a few lines for a terminal or a chat."""
        if not self.feeds:
            return "No feeds followed. Add one with `newsdesk follow FEED_URL`."
        lines = [f"Checked {len(self.feeds)} feed(s): {len(self.ingested)} new article(s)."]
        lines += [f"- {f.describe()}" for f in self.feeds]
        for f in self.feeds:
            lines += [f"  skipped {u}: {r}" for u, r in f.failures]
        return "\n".join(lines)


# The functions the front ends call ----------------------------------------------


def follow_feed(settings: Settings, url: str) -> bool:
    """Start following a feed (checked on the next round); False when already followed."""
    with WebState.open(settings) as state:
        return state.add_feed(check_url(url))


def unfollow_feed(settings: Settings, url_or_number: str) -> str | None:
    """Stop following a feed given by url or by its number in `list_feeds` (1-based).

    Return the url removed, or None when no such feed is followed.
    """
    with WebState.open(settings) as state:
        key = url_or_number.strip()
        if key.isdigit():
            feeds = state.feeds()
            n = int(key)
            if not 1 <= n <= len(feeds):
                return None
            key = feeds[n - 1].url
        return key if state.remove_feed(key) else None


def list_feeds(settings: Settings) -> list[FeedInfo]:
    """Return the followed feeds with last check, last new item and last error."""
    with WebState.open(settings) as state:
        return state.feeds()


def parse_every(text: str) -> float:
    """Parse an interval such as "15m", "90s", "1h30m" or "2h" into seconds."""
    spec = text.strip().lower().replace(" ", "")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", spec)
    if not spec or "".join(n + u for n, u in parts) != spec:
        raise ConfigError(
            f"bad interval {text!r}",
            user_message=f"Not an interval: {text!r}. Use e.g. 15m, 1h or 90s.",
        )
    return sum(float(n) * units[u] for n, u in parts)


# One round ------------------------------------------------------------------------


@dataclass
class _Work:
    result: FeedResult
    poll: FeedPoll | None = None
    fetched: list[tuple[str, str, Article | FetchError]] = field(default_factory=list)


async def _collect(settings: Settings, state: WebState, urls: Sequence[str]) -> list[_Work]:
    """Poll every feed and fetch its new items; a failing feed does not stop the others."""
    works = [_Work(FeedResult(url=u)) for u in urls]
    async with Fetcher(settings) as fetcher:

        async def one(work: _Work) -> None:
            try:
                work.poll = await poll_feed(fetcher, state, work.result.url)
            except FetchError as exc:
                work.result.error = exc.reason
                return
            except Exception as exc:  # a broken feed must not stop the others
                logger.exception("polling %s failed", work.result.url)
                work.result.error = f"unexpected error ({type(exc).__name__})"
                return
            known = state.feed(work.result.url)
            work.result.title = work.poll.title or (known.title if known else "")
            work.result.not_modified = work.poll.not_modified
            new = work.poll.new
            results = await gather_articles(fetcher, [(i.link, i.title, i.published) for i in new])
            work.fetched = [(i.item_id, i.link, r) for i, r in zip(new, results, strict=True)]

        await asyncio.gather(*(one(w) for w in works))
    return works


def _store(
    service: NewsService,
    state: WebState,
    works: list[_Work],
    guard: AbstractContextManager[object] | None,
) -> FollowReport:
    """Drop duplicates, ingest the new articles in one batch, and record every feed's state."""
    report = FollowReport(feeds=[w.result for w in works])
    fresh: list[Article] = []
    for work in works:
        for _item_id, _link, r in work.fetched:
            if isinstance(r, Article):
                fresh.append(r)
            else:
                work.result.failures.append((r.url, r.reason))
    kept, dups = dedupe(fresh, state)
    dup_sources = {src for src, _ in dups}
    ingest_error: str | None = None
    refused: dict[str, str] = {}  # source -> why the service skipped it
    if kept:
        try:
            with guard or contextlib.nullcontext():
                out = service.ingest_articles(kept)
            report.ingest_summary = out.summary()
            report.stored = list(out.stored)
            refused = dict(out.skipped)
        except NewsdeskError as exc:
            ingest_error = f"could not store the new articles: {exc.user_message}"
        except Exception as exc:
            logger.exception("ingest of %d followed articles failed", len(kept))
            ingest_error = f"could not store the new articles ({type(exc).__name__})"
        # not stored: a later copy of these stories must not be dropped as a duplicate
        if ingest_error:
            state.forget_stories(a.doc_id for a in kept)
        elif refused:
            state.forget_stories(a.doc_id for a in kept if a.source in refused)
    kept_ids = {id(a) for a in kept}
    for work in works:
        res = work.result
        if work.poll is None:
            state.record_check(res.url, error=res.error or "unknown error")
            continue
        marks: list[tuple[str, str, str, str]] = []
        retry = False
        for item_id, link, r in work.fetched:
            if isinstance(r, FetchError):
                retry = retry or r.transient
                marks.append((item_id, link, "retry" if r.transient else "failed", r.reason))
            elif ingest_error:
                continue  # not stored: fetch it again next round
            elif r.source in refused:
                res.failures.append((r.source, refused[r.source]))
                marks.append((item_id, link, "failed", refused[r.source]))
            elif id(r) in kept_ids:
                res.ingested.append(r)
                marks.append((item_id, link, "ingested", ""))
            elif r.source in dup_sources:
                reason = next(why for src, why in dups if src == r.source)
                res.duplicates.append((r.source, reason))
                marks.append((item_id, link, "duplicate", reason))
        state.mark_items(res.url, marks)
        has_new = any(isinstance(r, Article) for _, _, r in work.fetched)
        if ingest_error and has_new:
            res.error = ingest_error
        newest = res.ingested[0].title if res.ingested else None
        state.record_check(
            res.url,
            error=res.error,
            title=res.title or None,
            etag=work.poll.etag,
            last_modified=work.poll.last_modified,
            # a 304 next time would hide items still to fetch: keep the old validators then
            save_validators=not (res.error or retry or work.poll.truncated),
            new_items=len(res.ingested),
            last_new_title=newest,
        )
    return report


def _feed_urls(state: WebState, feed_urls: Sequence[str] | None) -> list[str]:
    if not feed_urls:
        return [f.url for f in state.feeds()]
    urls: list[str] = []
    for u in feed_urls:
        url = check_url(u)
        state.add_feed(url)
        if url not in urls:
            urls.append(url)
    return urls


async def follow_once(
    service: NewsService,
    settings: Settings,
    feed_urls: Sequence[str] | None = None,
    *,
    guard: AbstractContextManager[object] | None = None,
) -> FollowReport:
    """Check feeds once and ingest their new items.

    `feed_urls` are followed from now on and only they are checked; with none given, every
    followed feed is. Fetching runs on the event loop, extraction and the ingest in threads.
    The ingest runs inside `guard` when one is given (the bot's follower uses it to let a
    shutdown wait for an ingest in progress, and refuse new ones).
    """
    start = time.perf_counter()
    with WebState.open(settings) as state:
        urls = _feed_urls(state, feed_urls)
        works = await _collect(settings, state, urls)

    def store() -> FollowReport:
        # the thread opens the state file itself: cancelling this round (the bot stopping)
        # must not close a connection under it
        with WebState.open(settings) as state:
            return _store(service, state, works, guard)

    report = await asyncio.to_thread(store)
    report.seconds = time.perf_counter() - start
    return report


async def follow_loop(
    service: NewsService,
    settings: Settings,
    feed_urls: Sequence[str] | None = None,
    *,
    every: float | None = None,
    rounds: int | None = None,
    on_report: Callable[[FollowReport], None] | None = None,
) -> None:
    """Follow `feed_urls` too, then check every followed feed each `every` seconds.

    Runs until cancelled (Ctrl-C under `asyncio.run`) or `rounds` are done. A round that
    fails as a whole (state file unreadable, ...) is logged and retried.
    """
    interval = every if every is not None else parse_every(settings.follow_every)
    # every round checks all followed feeds, so feeds added meanwhile (/follow) are picked up
    with WebState.open(settings) as state:
        _feed_urls(state, feed_urls)
    done = 0
    while True:
        try:
            report = await follow_once(service, settings)
            logger.info("follow round: %s", report.summary().replace("\n", " | "))
            if on_report is not None:
                on_report(report)
        except NewsdeskError as exc:
            logger.error("follow round failed: %s", exc)
        except Exception:
            logger.exception("follow round failed")
        done += 1
        if rounds is not None and done >= rounds:
            return
        await asyncio.sleep(interval)
