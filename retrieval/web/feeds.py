"""Poll RSS/Atom feeds with conditional GETs; list the items not seen before."""

from __future__ import annotations

import calendar
import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import feedparser

from retrieval.web.fetch import FEED_ACCEPT, Fetcher, FetchError
from retrieval.web.state import WebState

logger = logging.getLogger(__name__)

MAX_ITEMS_PER_POLL = 50  # a feed that suddenly lists hundreds of items is fetched in steps


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed: a link to an article page."""

    item_id: str
    link: str
    title: str = ""
    published: date | None = None


@dataclass
class FeedPoll:
    """What one poll of a feed found."""

    url: str
    title: str = ""
    not_modified: bool = False  # the server answered 304
    items: list[FeedItem] = field(default_factory=list)  # all items in the feed
    new: list[FeedItem] = field(default_factory=list)  # items to fetch now
    etag: str | None = None
    last_modified: str | None = None
    truncated: bool = False  # more unseen items than one poll fetches: poll again in full


def _entry_date(entry: Any) -> date | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC).date()
            except (OverflowError, ValueError):
                continue
    return None


def parse_feed(
    url: str, body: bytes, headers: dict[str, str] | None = None, *, base: str | None = None
) -> tuple[str, list[FeedItem]]:
    """Parse feed bytes into (feed title, items); raise FetchError when it is not a feed.

    Only bytes are handed to feedparser: given a url it would fetch it itself.
    """
    # content-location lets feedparser resolve relative item links against the feed's url
    parsed = feedparser.parse(
        body, response_headers={**(headers or {}), "content-location": base or url}
    )
    version = parsed.get("version") or ""
    if not version:
        exc = parsed.get("bozo_exception")
        name = type(exc).__name__ if exc is not None else ""
        detail = {
            "SAXParseException": " (not well-formed XML)",
        }.get(name, " (empty)" if not body.strip() else "")
        raise FetchError(url, f"not an RSS/Atom feed{detail}")
    title = str(parsed.feed.get("title", "") or "").strip()
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = str(entry.get("link", "") or "").strip()
        if not link:
            links = entry.get("links") or []
            link = next((str(li.get("href", "")) for li in links if li.get("href")), "")
        if not link.startswith(("http://", "https://")):
            continue  # nothing we can fetch
        ident = str(entry.get("id", "") or "").strip()
        if not ident:
            ident = link or hashlib.sha256(str(entry.get("title", "")).encode()).hexdigest()
        if ident in seen:
            continue
        seen.add(ident)
        items.append(
            FeedItem(
                item_id=ident,
                link=link,
                title=str(entry.get("title", "") or "").strip(),
                published=_entry_date(entry),
            )
        )
    return title, items


async def poll_feed(fetcher: Fetcher, state: WebState, url: str) -> FeedPoll:
    """Fetch a feed (conditional on its ETag / Last-Modified) and pick the unseen items."""
    info = state.feed(url)
    headers: dict[str, str] = {}
    if info is not None and info.etag:
        headers["If-None-Match"] = info.etag
    if info is not None and info.last_modified:
        headers["If-Modified-Since"] = info.last_modified
    page = await fetcher.get(url, accept=FEED_ACCEPT, html_only=False, extra_headers=headers)
    poll = FeedPoll(
        url=url,
        etag=page.headers.get("etag"),
        last_modified=page.headers.get("last-modified"),
    )
    if page.status == 304:
        poll.not_modified = True
        # keep the validators we sent when a 304 omits them
        poll.etag = poll.etag or (info.etag if info else None)
        poll.last_modified = poll.last_modified or (info.last_modified if info else None)
        return poll
    try:
        poll.title, poll.items = parse_feed(url, page.body, dict(page.headers), base=page.final_url)
    except FetchError:
        if page.content_type in ("text/html", "application/xhtml+xml"):
            # a site's page, not its feed (some servers label real feeds text/html: parse first)
            raise FetchError(url, "not an RSS/Atom feed (the url returns an HTML page)") from None
        raise
    unseen = state.unseen(url, (i.item_id for i in poll.items))
    new = [i for i in poll.items if i.item_id in unseen]
    poll.truncated = len(new) > MAX_ITEMS_PER_POLL
    poll.new = new[:MAX_ITEMS_PER_POLL]
    return poll
