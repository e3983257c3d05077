"""Fetching article urls from a local site: good pages, duplicates, and every bad case."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.web import USER_AGENT, fetch_articles
from retrieval.web.fetch import Fetcher, FetchError
from tests.web_fixtures.server import BRIDGE, BRIDGE_AMP, FLOOD, LIBRARY, WIRE, Site, serve_site


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, fetch_timeout=2.0, fetch_max_bytes=100_000)


async def test_fetches_dated_articles_with_their_metadata(site: Site, settings: Settings) -> None:
    articles, failures = await fetch_articles(
        [site.url(BRIDGE), site.url(LIBRARY + "?utm_source=rss"), site.url(FLOOD)], settings
    )
    assert failures == []
    assert [a.published for a in articles] == [
        date(2024, 3, 5),
        date(2024, 3, 12),
        date(2024, 3, 14),
    ]
    bridge = articles[0]
    assert bridge.title == "Council approves Elm River footbridge"
    assert bridge.outlet == "The Riverside Gazette"
    assert bridge.author == "Jane Doe"
    assert bridge.url == site.url(BRIDGE)
    assert "Mayor Alma Torres" in bridge.text
    assert articles[1].url == site.url(LIBRARY)  # tracking parameters stripped
    assert articles[1].source == site.url(LIBRARY + "?utm_source=rss")  # what was asked for
    # polite: a clear User-Agent on every request
    assert {h["user-agent"] for h in site.hits(BRIDGE)} == {USER_AGENT}


async def test_same_story_under_several_urls_is_kept_once(site: Site, settings: Settings) -> None:
    urls = [
        site.url(BRIDGE),
        site.url(BRIDGE + "?utm_source=twitter&fbclid=IwAR0abc"),  # tracking parameters
        site.url(BRIDGE_AMP),  # the AMP page (canonical link to the original)
        site.url(WIRE),  # a syndicated copy under its own canonical url, same text
    ]
    articles, failures = await fetch_articles(urls, settings)
    assert [a.url for a in articles] == [site.url(BRIDGE)]
    assert [u for u, _ in failures] == urls[1:]
    assert all(why.startswith("same story as " + site.url(BRIDGE)) for _, why in failures)


async def test_a_copy_fetched_later_is_still_recognised(site: Site, settings: Settings) -> None:
    first, _ = await fetch_articles([site.url(BRIDGE)], settings)
    assert len(first) == 1
    # a second run (the state file in the data dir remembers the story's fingerprint)
    again, failures = await fetch_articles([site.url(WIRE), site.url(BRIDGE)], settings)
    assert [a.url for a in again] == [site.url(BRIDGE)]  # the same url again: not a duplicate
    assert failures == [(site.url(WIRE), f"same story as {site.url(BRIDGE)} (already stored)")]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing", "HTTP 404 Not Found"),
        ("/server-error", "HTTP 503 Service Unavailable"),
        ("/report.pdf", "not an HTML page (content type application/pdf)"),
        ("/sections", "no article text found on the page"),
        ("/huge-declared", "page too large (50.0 MB, limit 100 kB)"),
        ("/huge-stream", "page too large (over the 100 kB limit)"),
        ("/loop-a", "too many redirects (a redirect loop?)"),
        ("/slow", "the server did not answer within 2 s"),
        ("/trickle", "the server did not answer within 2 s"),  # bytes keep coming, too slowly
    ],
)
async def test_bad_urls_get_a_clear_reason(
    site: Site, settings: Settings, path: str, reason: str
) -> None:
    articles, failures = await fetch_articles([site.url(path), site.url(FLOOD)], settings)
    assert failures == [(site.url(path), reason)]
    assert [a.url for a in articles] == [site.url(FLOOD)]  # the others still come through


async def test_refused_before_any_request(settings: Settings) -> None:
    articles, failures = await fetch_articles(
        ["ftp://example.org/a", "not a url", "file:///etc/passwd"], settings
    )
    assert articles == []
    assert [why for _, why in failures] == ["not an http(s) URL"] * 3


async def test_connection_refused_is_reported(settings: Settings) -> None:
    with serve_site() as gone:
        url = gone.url("/news")
    _, failures = await fetch_articles([url], settings)
    assert failures[0][0] == url and failures[0][1].startswith("could not connect")


def test_fetch_error_carries_a_user_message(site: Site, settings: Settings) -> None:
    async def go() -> FetchError:
        async with Fetcher(settings) as fetcher:
            with pytest.raises(FetchError) as err:
                await fetcher.get(site.url("/missing"))
            return err.value

    err = asyncio.run(go())
    assert err.user_message == f"Could not fetch {site.url('/missing')}: HTTP 404 Not Found"
    assert not err.transient


async def test_at_most_a_few_requests_at_once(site: Site, settings: Settings) -> None:
    urls = [site.url(f"/busy?n={i}") for i in range(12)]
    articles, failures = await fetch_articles(urls, settings)
    assert len(articles) == 1  # one story: the eleven copies are reported as duplicates
    assert len(failures) == 11 and all("same story as" in why for _, why in failures)
    assert 1 <= site.peak_in_flight <= 4
