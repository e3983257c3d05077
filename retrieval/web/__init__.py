"""Live coverage: fetch article urls, follow RSS/Atom feeds, remember what was seen."""

from retrieval.web.articles import (
    UrlIngest,
    afetch_articles,
    aingest_urls,
    fetch_articles,
    ingest_urls,
)
from retrieval.web.extract import doc_id_for_url, extract_article, fingerprint, normalize_url
from retrieval.web.fetch import USER_AGENT, FetchError
from retrieval.web.follow import (
    FeedResult,
    FollowReport,
    afollow_once,
    follow_feed,
    follow_loop,
    follow_once,
    list_feeds,
    parse_every,
    unfollow_feed,
)
from retrieval.web.state import FeedInfo, WebState

__all__ = [
    "USER_AGENT",
    "FeedInfo",
    "FeedResult",
    "FetchError",
    "FollowReport",
    "UrlIngest",
    "WebState",
    "afetch_articles",
    "afollow_once",
    "aingest_urls",
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
    "unfollow_feed",
]
