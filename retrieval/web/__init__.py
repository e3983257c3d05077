"""Live coverage: fetch article urls, follow RSS/Atom feeds, remember what was seen.

Fetching is async only (httpx on the event loop; extraction, SQLite and the ingest in
threads). Sync callers (the CLI) run the coroutines with `asyncio.run` at their edge.
"""

from retrieval.web.articles import UrlIngest, fetch_articles, ingest_urls
from retrieval.web.extract import (
    doc_id_for_url,
    extract_article,
    fingerprint,
    normalize_url,
    require_extractor,
)
from retrieval.web.fetch import USER_AGENT, FetchError
from retrieval.web.follow import (
    MIN_EVERY_SECONDS,
    FeedResult,
    FollowReport,
    follow_feed,
    follow_loop,
    follow_once,
    list_feeds,
    parse_every,
    unfollow_feed,
)
from retrieval.web.state import FeedInfo, WebState

__all__ = [
    "MIN_EVERY_SECONDS",
    "USER_AGENT",
    "FeedInfo",
    "FeedResult",
    "FetchError",
    "FollowReport",
    "UrlIngest",
    "WebState",
    "doc_id_for_url",
    "extract_article",
    "fetch_articles",
    "fingerprint",
    "follow_feed",
    "follow_loop",
    "follow_once",
    "ingest_urls",
    "list_feeds",
    "normalize_url",
    "parse_every",
    "require_extractor",
    "unfollow_feed",
]
