"""Fetch article urls into Articles, each failure with a clear reason; drop duplicate stories."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.types import Article
from retrieval.web.extract import extract_article, fingerprint
from retrieval.web.fetch import Fetcher, FetchError
from retrieval.web.state import WebState

if TYPE_CHECKING:
    from retrieval.ingest import IngestReport

logger = logging.getLogger(__name__)

Failure = tuple[str, str]  # (url, reason)


async def fetch_one(
    fetcher: Fetcher,
    url: str,
    *,
    fallback_title: str = "",
    fallback_date: date | None = None,
) -> Article:
    """Fetch and extract one article page; raise FetchError with a clear reason."""
    page = await fetcher.get(url)
    # extraction parses the whole page: keep it off the event loop
    return await asyncio.to_thread(
        extract_article, page, fallback_title=fallback_title, fallback_date=fallback_date
    )


async def gather_articles(
    fetcher: Fetcher,
    items: Sequence[tuple[str, str, date | None]],
) -> list[Article | FetchError]:
    """Fetch (url, fallback title, fallback date) items concurrently, results in input order."""

    async def one(url: str, title: str, day: date | None) -> Article | FetchError:
        try:
            return await fetch_one(fetcher, url, fallback_title=title, fallback_date=day)
        except FetchError as exc:
            logger.info("skipped %s: %s", url, exc.reason)
            return exc

    return list(await asyncio.gather(*(one(u, t, d) for u, t, d in items)))


def dedupe(
    articles: Sequence[Article], state: WebState | None
) -> tuple[list[Article], list[Failure]]:
    """Keep one article per story: same canonical url (doc_id) or same text (fingerprint).

    Kept stories are remembered in `state` so a copy under another url is dropped later too.
    """
    kept: list[Article] = []
    dropped: list[Failure] = []
    by_id: dict[str, Article] = {}
    by_fp: dict[str, Article] = {}
    for art in articles:
        fp = fingerprint(art.text)
        first = by_id.get(art.doc_id) or by_fp.get(fp)
        if first is not None:
            dropped.append((art.source, f"same story as {first.url} (stored once)"))
            continue
        stored = state.story_for_fingerprint(fp) if state else None
        if stored is not None and stored[0] != art.doc_id:
            dropped.append((art.source, f"same story as {stored[1]} (already stored)"))
            continue
        by_id[art.doc_id] = by_fp[fp] = art
        kept.append(art)
        if state is not None:
            state.remember_story(art.doc_id, art.url, fp, art.title)
    return kept, dropped


async def fetch_articles(
    urls: Sequence[str], settings: Settings
) -> tuple[list[Article], list[Failure]]:
    """Fetch article pages; return the articles and (url, reason) for each url skipped.

    Reasons: HTTP errors (404 ...), not HTML, no article text, too large, redirect loop,
    timeout, could not connect, or the same story already stored under another url.
    Fetching runs on the event loop; extraction and the duplicate check run in threads.
    """
    async with Fetcher(settings) as fetcher:
        results = await gather_articles(fetcher, [(u, "", None) for u in urls])
    failures: list[Failure] = [(r.url, r.reason) for r in results if isinstance(r, FetchError)]
    fetched = [r for r in results if isinstance(r, Article)]
    articles, dups = await asyncio.to_thread(_dedupe_in_state, fetched, settings)
    return articles, failures + dups


def _dedupe_in_state(
    articles: Sequence[Article], settings: Settings
) -> tuple[list[Article], list[Failure]]:
    with WebState.open(settings) as state:
        return dedupe(articles, state)


@dataclass
class UrlIngest:
    """What `ingest_urls` did: the service's report plus the urls skipped before it."""

    articles: list[Article]
    failures: list[Failure]
    report: IngestReport | None = None  # None when nothing was fetched

    def summary(self) -> str:
        """Return a few lines for a terminal or a chat."""
        lines = []
        if self.report is not None:
            lines.append(self.report.summary())
        elif not self.failures:
            lines.append("Nothing to ingest.")
        lines += [f"  skipped {url}: {why}" for url, why in self.failures]
        return "\n".join(lines)


def _store_fetched(service: NewsService, settings: Settings, result: UrlIngest) -> UrlIngest:
    if not result.articles:
        return result
    try:
        result.report = service.ingest_articles(result.articles)
    except BaseException:
        # not stored: a copy of the same story under another url must not be dropped later
        with WebState.open(settings) as state:
            state.forget_stories(a.doc_id for a in result.articles)
        raise
    return result


async def ingest_urls(service: NewsService, settings: Settings, urls: Sequence[str]) -> UrlIngest:
    """Fetch article urls and ingest them (`newsdesk ingest URL`, Telegram `/ingest URL`).

    Fetches on the event loop and ingests in a worker thread; the CLI runs it with
    `asyncio.run`.
    """
    articles, failures = await fetch_articles(urls, settings)
    return await asyncio.to_thread(_store_fetched, service, settings, UrlIngest(articles, failures))
