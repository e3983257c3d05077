"""Feed parsing, conditional GETs and the follower's state file, against a local site."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.errors import ConfigError
from retrieval.web import follow_feed, list_feeds, parse_every, unfollow_feed
from retrieval.web.feeds import FeedPoll, parse_feed, poll_feed
from retrieval.web.fetch import Fetcher, FetchError
from retrieval.web.state import WebState
from tests.web_fixtures.server import Site, serve_site

FIXTURES = Path(__file__).parent / "web_fixtures"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", fetch_timeout=2.0)


def poll(settings: Settings, state: WebState, url: str) -> FeedPoll:
    async def go() -> FeedPoll:
        async with Fetcher(settings) as fetcher:
            return await poll_feed(fetcher, state, url)

    return asyncio.run(go())


def fixture_bytes(name: str) -> bytes:
    return (
        (FIXTURES / name).read_text(encoding="utf-8").replace("{{BASE}}", "http://x.test").encode()
    )


def test_parse_rss() -> None:
    title, items = parse_feed("http://x.test/rss", fixture_bytes("city-rss-2.xml"))
    assert title == "Riverside Gazette: City"
    assert [i.item_id for i in items] == ["gazette-1003", "gazette-1002", "gazette-1001"]
    assert items[0].title == "Flood warning issued for Elm River valley"
    assert items[0].published == date(2024, 3, 14)
    assert items[0].link == "http://x.test/news/2024/03/14/flood-warning-elm-river?utm_source=rss"


def test_parse_atom() -> None:
    title, items = parse_feed("http://x.test/atom", fixture_bytes("wire-atom.xml"))
    assert title == "Valley Wire: Regional"
    assert [(i.item_id, i.link) for i in items] == [
        ("urn:valley-wire:story:77", "http://x.test/wire/riverside-footbridge-approved"),
        ("urn:valley-wire:story:78", "http://x.test/missing-story"),
    ]
    assert items[1].published == date(2024, 3, 6)  # no <published>: <updated> stands in


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>A</title><link>/news/a</link></item></channel></rss>"
    )
    _, items = parse_feed("https://site.test/feeds/rss.xml", body)
    assert [(i.link, i.item_id) for i in items] == [("https://site.test/news/a",) * 2]


@pytest.mark.parametrize(
    "body",
    [
        fixture_bytes("not-a-feed.html"),
        b"\x00\x01 not xml at all {]",
        b"",
        b'{"items": []}',
    ],
)
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(FetchError) as err:
        parse_feed("http://x.test/f", body)
    assert err.value.reason.startswith("not an RSS/Atom feed")


def test_conditional_get_and_new_items(site: Site, settings: Settings) -> None:
    state = WebState.open(settings)
    url = site.url("/feeds/city.xml")
    first = poll(settings, state, url)
    assert [i.item_id for i in first.new] == ["gazette-1002", "gazette-1001"]
    assert first.etag and first.last_modified
    # the follower saves the validators after storing the items
    state.mark_items(url, [(i.item_id, i.link, "ingested", "") for i in first.new])
    state.record_check(
        url, etag=first.etag, last_modified=first.last_modified, save_validators=True
    )

    unchanged = poll(settings, state, url)
    assert unchanged.not_modified and unchanged.new == []
    sent = site.hits("/feeds/city.xml")[-1]
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified

    site.feed_version = 2  # the feed gains an item
    grown = poll(settings, state, url)
    assert not grown.not_modified
    assert [i.item_id for i in grown.new] == ["gazette-1003"]


def test_state_survives_a_restart(site: Site, settings: Settings) -> None:
    url = site.url("/feeds/city.xml")
    state = WebState.open(settings)
    first = poll(settings, state, url)
    state.mark_items(url, [(i.item_id, i.link, "ingested", "") for i in first.new])
    state.record_check(
        url, etag=first.etag, last_modified=first.last_modified, save_validators=True
    )
    del state
    reopened = WebState.open(settings)  # a new process would do the same
    again = poll(settings, reopened, url)
    assert again.not_modified


def test_failed_items_are_retried_a_few_times_then_dropped(settings: Settings) -> None:
    state = WebState.open(settings)
    feed = "http://x.test/rss"
    state.mark_items(
        feed, [("a", "http://x.test/a", "retry", "HTTP 503"), ("b", "", "failed", "404")]
    )
    assert state.unseen(feed, ["a", "b", "c"]) == {"a", "c"}
    state.mark_items(feed, [("a", "http://x.test/a", "retry", "HTTP 503")] * 2)
    assert state.unseen(feed, ["a", "b", "c"]) == {"c"}  # three attempts: given up


def test_feed_errors(site: Site, settings: Settings) -> None:
    state = WebState.open(settings)
    cases = {
        "/feeds/moved.xml": "not an RSS/Atom feed (the url returns an HTML page)",
        "/feeds/garbage.xml": "not an RSS/Atom feed (not well-formed XML)",
        "/missing.xml": "HTTP 404 Not Found",
        "/loop-a": "too many redirects (a redirect loop?)",
    }
    for path, reason in cases.items():
        with pytest.raises(FetchError) as err:
            poll(settings, state, site.url(path))
        assert err.value.reason.startswith(reason), path


def test_a_feed_sent_as_html_is_still_read(site: Site, settings: Settings) -> None:
    found = poll(settings, WebState.open(settings), site.url("/feeds/mislabelled.xml"))
    assert [i.item_id for i in found.new] == ["gazette-1002", "gazette-1001"]


def test_slow_feed_times_out(site: Site, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, fetch_timeout=0.3)
    with pytest.raises(FetchError) as err:
        poll(settings, WebState.open(settings), site.url("/slow"))
    assert err.value.reason == "the server did not answer within 0.3 s"
    assert err.value.transient


def test_follow_unfollow_and_list(settings: Settings) -> None:
    assert follow_feed(settings, "https://a.test/rss") is True
    assert follow_feed(settings, "https://a.test/rss") is False  # already followed
    assert follow_feed(settings, "https://b.test/atom") is True
    assert [f.url for f in list_feeds(settings)] == ["https://a.test/rss", "https://b.test/atom"]
    assert "last check: never" in list_feeds(settings)[0].describe()
    assert unfollow_feed(settings, "2") == "https://b.test/atom"  # by number in the list
    assert unfollow_feed(settings, "https://a.test/rss") == "https://a.test/rss"
    assert unfollow_feed(settings, "https://a.test/rss") is None
    assert unfollow_feed(settings, "7") is None
    assert list_feeds(settings) == []
    with pytest.raises(FetchError):
        follow_feed(settings, "feed://nope")


def test_parse_every() -> None:
    assert parse_every("15m") == 900
    assert parse_every("1h30m") == 5400
    assert parse_every("90s") == 90
    assert parse_every("2h") == 7200
    for bad in ["", "15", "soon", "-5m", "5x"]:
        with pytest.raises(ConfigError):
            parse_every(bad)
