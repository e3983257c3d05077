"""Following local feeds into a real service: new items only, no duplicates, bad feeds."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.live_cli import register
from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.errors import IndexInUseError
from retrieval.service import Newsdesk
from retrieval.store import Store
from retrieval.timephrases import parse_window
from retrieval.web import follow_loop, follow_once, ingest_urls, list_feeds
from retrieval.web.follow import FollowReport
from tests.web_fixtures.server import BRIDGE, FERRY, FLOOD, LIBRARY, WIRE, Site, serve_site

AS_OF = date(2024, 3, 14)  # a Thursday


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", llm="off", fetch_timeout=2.0)


@pytest.fixture
def service(settings: Settings, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    # the session's embedding model (conftest), loaded once for all tests
    svc = Newsdesk(settings, Store(settings, embedder.model_id, embedder.dim), embedder)
    yield svc
    svc.close()


def titles(svc: Newsdesk) -> list[str]:
    return [r.title for r in svc.latest(20)]


async def test_follow_ingests_new_items_once(site: Site, settings: Settings) -> None:
    svc = Newsdesk.open(settings)
    try:
        city, wire, moved = (
            site.url(p) for p in ("/feeds/city.xml", "/feeds/wire.atom", "/feeds/moved.xml")
        )
        first = await follow_once(svc, settings, [city, wire, moved])
        by_url = {f.url: f for f in first.feeds}
        assert [a.title for a in by_url[city].ingested] == [
            "Old town library reopens after flood repairs",
            "Council approves Elm River footbridge",
        ]
        # the wire's copy of the footbridge story is the same story: stored once
        assert [why for _, why in by_url[wire].duplicates] == [
            f"same story as {site.url(BRIDGE)} (stored once)"
        ]
        assert by_url[wire].failures == [(site.url("/missing-story"), "HTTP 404 Not Found")]
        # a feed that is not a feed fails on its own; the others went on
        assert by_url[moved].error == "not an RSS/Atom feed (the url returns an HTML page)"
        assert svc.stats().articles == 2

        site.feed_version = 2  # the city feed gains one item
        second = await follow_once(svc, settings)
        assert [a.title for a in second.ingested] == ["Flood warning issued for Elm River valley"]
        assert len(site.hits(LIBRARY)) == 1 and len(site.hits(BRIDGE)) == 1  # not fetched again
        assert titles(svc) == [
            "Flood warning issued for Elm River valley",
            "Old town library reopens after flood repairs",
            "Council approves Elm River footbridge",
        ]

        third = await follow_once(svc, settings, [city])
        assert third.feeds[0].not_modified  # answered 304 to the conditional GET
        assert site.hits("/feeds/city.xml")[-1]["if-none-match"]
        assert svc.stats().articles == 3  # no duplicates after three rounds

        # the new article is retrievable and answers carry its date
        ans = svc.answer(
            "What did the fire chief ask residents to do about the flood warning?", as_of=AS_OF
        )
        assert not ans.refused
        assert ans.citations[0].url == site.url(FLOOD)
        assert ans.citations[0].published == date(2024, 3, 14)
    finally:
        svc.close()

    feeds = {f.url: f for f in list_feeds(settings)}
    assert feeds[city].title == "Riverside Gazette: City"
    assert feeds[city].items_ingested == 3
    assert feeds[city].last_new_title == "Flood warning issued for Elm River valley"
    assert feeds[city].last_error is None and feeds[city].last_check
    assert feeds[moved].last_error == "not an RSS/Atom feed (the url returns an HTML page)"


async def test_a_restart_does_not_refetch(
    site: Site, settings: Settings, embedder: OnnxMiniLM
) -> None:
    city = site.url("/feeds/city.xml")
    for _ in range(2):  # two "processes", one after the other, on the same data dir
        svc = Newsdesk(settings, Store(settings, embedder.model_id, embedder.dim), embedder)
        try:
            await follow_once(svc, settings, [city])
        finally:
            svc.close()
    assert len(site.hits(BRIDGE)) == 1
    assert site.hits("/feeds/city.xml")[-1].get("if-none-match")


async def test_passing_failures_are_retried(
    site: Site, settings: Settings, service: Newsdesk
) -> None:
    harbour = site.url("/feeds/harbour.xml")
    first = await follow_once(service, settings, [harbour])
    assert first.feeds[0].failures == [(site.url(FERRY), "HTTP 503 Service Unavailable")]
    assert service.stats().articles == 0
    site.ferry_up = True
    second = await follow_once(service, settings)
    assert [a.title for a in second.ingested] == ["Ferry crews strike over night-shift rota"]
    assert second.ingested[0].published == date(2024, 3, 13)


async def test_nothing_half_written_when_the_index_is_busy(
    site: Site, settings: Settings, service: Newsdesk, embedder: OnnxMiniLM
) -> None:
    city = site.url("/feeds/city.xml")
    # another reader of the same index (say the bot in another process) blocks writing
    other = Store(settings, embedder.model_id, embedder.dim)
    try:
        busy = await follow_once(service, settings, [city])
    finally:
        other.close()
    assert busy.feeds[0].error is not None
    assert busy.feeds[0].error.startswith("could not store the new articles")
    assert IndexInUseError.user_message in busy.feeds[0].error
    assert service.stats().articles == 0
    assert list_feeds(settings)[0].last_error == busy.feeds[0].error
    # next round: the items were not marked seen and the validators not saved
    again = await follow_once(service, settings)
    assert len(again.ingested) == 2 and again.feeds[0].error is None
    assert service.stats().articles == 2


async def test_this_week_retrieves_only_this_weeks_reporting(
    site: Site, settings: Settings, service: Newsdesk
) -> None:
    site.feed_version = 2
    await follow_once(service, settings, [site.url("/feeds/city.xml")])
    question = "What is happening on the Elm River this week?"
    window = parse_window(question, AS_OF)
    assert window == (date(2024, 3, 11), AS_OF)
    everything = service.retrieve("Elm River", as_of=AS_OF)
    assert {p.published for p in everything.passages} >= {date(2024, 3, 5), date(2024, 3, 14)}
    this_week = service.retrieve("Elm River", as_of=AS_OF, window=window)
    assert this_week.passages
    assert all(window[0] <= p.published <= window[1] for p in this_week.passages if p.published)
    urls = {p.url for p in this_week.passages}
    assert site.url(FLOOD) in urls and site.url(BRIDGE) not in urls  # March 5: last week


async def test_ingest_urls_for_the_bot(site: Site, settings: Settings, service: Newsdesk) -> None:
    done = await ingest_urls(
        service, settings, [site.url(BRIDGE), site.url(WIRE), site.url("/report.pdf")]
    )
    assert [a.url for a in done.articles] == [site.url(BRIDGE)]
    text = done.summary()
    assert "1 new" in text
    assert f"skipped {site.url('/report.pdf')}: not an HTML page" in text
    assert f"skipped {site.url(WIRE)}: same story as" in text
    assert service.stats().articles == 1


async def test_ingest_urls_then_follow_in_one_event_loop(
    site: Site, settings: Settings, service: Newsdesk
) -> None:
    done = await ingest_urls(service, settings, [site.url(FLOOD)])
    assert done.report is not None and done.report.new == 1
    report = await follow_once(service, settings, [site.url("/feeds/city.xml")])
    assert len(report.ingested) == 2
    assert service.stats().articles == 3


async def test_loop_keeps_going(site: Site, settings: Settings, service: Newsdesk) -> None:
    reports: list[FollowReport] = []
    await follow_loop(
        service,
        settings,
        [site.url("/feeds/garbage.xml"), site.url("/feeds/city.xml")],
        every=0,
        rounds=2,
        on_report=reports.append,
    )
    assert len(reports) == 2
    first = {f.url: f for f in reports[0].feeds}
    assert first[site.url("/feeds/garbage.xml")].error
    assert len(first[site.url("/feeds/city.xml")].ingested) == 2
    assert reports[1].feeds[1].not_modified or reports[1].feeds[0].not_modified


def test_cli_commands(site: Site, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="newsdesk")
    register(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> tuple[int, str]:
        args = parser.parse_args(argv)
        code = args.func(args, settings)
        return code, capsys.readouterr().out

    code, out = run("feeds")
    assert code == 0 and "No feeds followed" in out
    code, out = run("follow", "--once")
    assert code == 2 and "No feeds followed yet" in out
    code, out = run("follow", "--once", site.url("/feeds/city.xml"))
    assert code == 0 and "2 new article(s)" in out
    code, out = run("feeds")
    assert "1. Riverside Gazette: City" in out and "2 ingested in all" in out
    code, out = run("latest", "-n", "1")
    assert out.startswith(
        "2024-03-12  Old town library reopens after flood repairs (The Riverside Gazette)"
    )
    code, out = run("unfollow", "1")
    assert code == 0 and "Stopped following" in out
    code, out = run("unfollow", "1")
    assert code == 1
    with pytest.raises(SystemExit):
        parser.parse_args(["latest", "-n", "0"])
