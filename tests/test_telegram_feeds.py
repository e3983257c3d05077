"""Live coverage in the bot: /follow, /unfollow, /feeds, /latest and the in-process follower.

The real Application and the real Newsdesk service talk to the fake Bot API, and the feeds
come from the tests' local news site (tests/web_fixtures) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.telegram.app import EXIT_OK, build_application, serve
from bot.telegram.follower import Follower, bot_data_follower
from bot.telegram.services import Services
from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.errors import ConfigError
from retrieval.ingest import IngestReport
from retrieval.service import Newsdesk
from retrieval.types import Article
from retrieval.web import follow_feed, list_feeds
from tests.auxil.fake_bot_api import FakeBotAPI, Sent, parse_telegram_html
from tests.conftest import open_service
from tests.web_fixtures.server import BRIDGE, FLOOD, LIBRARY, Site

BOT = "newsdesk_test_bot"
ADMIN, READER = 42, 77
CITY = "/feeds/city.xml"
LIBRARY_TITLE = "Old town library reopens after flood repairs"
BRIDGE_TITLE = "Council approves Elm River footbridge"
FLOOD_TITLE = "Flood warning issued for Elm River valley"


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(username=BOT) as fake:
        yield fake


def bot_settings(tmp_path: Path, api: FakeBotAPI, **kw: Any) -> Settings:
    """One data dir for the index, the chat state and the follower's state, as in production."""
    kw.setdefault("llm", "off")
    kw.update(
        _env_file=None,
        data_dir=tmp_path / "data",
        telegram_bot_token=SecretStr(api.token),
        telegram_api_base_url=api.base_url,
        admin_ids=[ADMIN],
        fetch_timeout=2.0,
    )
    return Settings(**kw)


@pytest.fixture
def settings(tmp_path: Path, api: FakeBotAPI) -> Settings:
    return bot_settings(tmp_path, api, follow_every="1s")  # a tiny interval for the test


@pytest.fixture
def service(settings: Settings, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    svc = open_service(settings, embedder)  # an empty index; the feeds fill it
    yield svc
    svc.close()


@contextlib.asynccontextmanager
async def running(
    settings: Settings, service: Newsdesk, api: FakeBotAPI
) -> AsyncIterator[Follower | None]:
    """Run the bot (polling the fake) for the body; yield its feed follower."""
    services = Services.create(settings, service)
    app = build_application(settings, services)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, settings, stop=stop, handle_signals=False))
    try:
        await api.wait_for(lambda: bool(api.calls_of("getUpdates")), what="polling")
        yield bot_data_follower(app)
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 60) == EXIT_OK
        services.close()


async def replies(api: FakeBotAPI, message_id: int, count: int = 1) -> list[Sent]:
    """Wait for `count` replies to one message and return them."""
    await api.wait_for(
        lambda: len(api.replies_to(message_id)) >= count,
        timeout=60,
        what=f"{count} replies to message {message_id}",
    )
    return api.replies_to(message_id)


async def reply(api: FakeBotAPI, chat_id: int, text: str) -> Sent:
    """Send `text` to the bot in a private chat and return the (first) reply."""
    return (await replies(api, api.push_text(chat_id, text)))[0]


def visible(sent: Sent) -> str:
    return parse_telegram_html(sent.text) if sent.parse_mode == "HTML" else sent.text


def feed_ingested(settings: Settings, url: str) -> int:
    return next((f.items_ingested for f in list_feeds(settings) if f.url == url), 0)


async def test_follow_feeds_latest_unfollow_and_the_follower(
    settings: Settings, service: Newsdesk, api: FakeBotAPI, site: Site
) -> None:
    city = site.url(CITY)
    async with running(settings, service, api) as follower:
        assert follower is not None and follower.every == 1.0

        # a reader may not follow: no state change, no request to the feed
        refused = await reply(api, READER, f"/follow {city}")
        assert refused.text == "/follow is for admins."
        assert list_feeds(settings) == [] and not site.hits(CITY)
        assert (await reply(api, READER, "/feeds")).text == "/feeds is for admins."

        # an admin follows: its items are ingested now and the reply says what came in
        q = api.push_text(ADMIN, f"/follow {city}")
        ack, result = (await replies(api, q, 2))[:2]
        assert ack.text == f"Following {city}: checking it now…"
        assert "2 new article(s)" in visible(result)
        assert "Riverside Gazette: City: 2 new" in visible(result)
        assert {r.title for r in service.latest(5)} == {LIBRARY_TITLE, BRIDGE_TITLE}

        # a question is answered from the followed reporting, with its source
        answer = await reply(api, READER, "How many historic maps did volunteers scan?")
        assert "4,000 historic maps" in visible(answer)
        assert site.url(LIBRARY) in answer.text and "2024-03-12" in visible(answer)

        feeds = visible(await reply(api, ADMIN, "/feeds"))
        assert "1. Riverside Gazette: City" in feeds and city in feeds
        assert "last new item: " in feeds and "2 ingested in all" in feeds

        # /latest is for everyone: newest first, linked headline, outlet, date
        latest = await reply(api, READER, "/latest")
        assert latest.parse_mode == "HTML"
        lines = visible(latest).splitlines()
        assert lines[0] == "Latest articles"
        assert lines[1].startswith(f"1. {LIBRARY_TITLE} — ") and lines[1].endswith("2024-03-12")
        assert lines[2].startswith(f"2. {BRIDGE_TITLE} — ") and lines[2].endswith("2024-03-05")
        assert f'<a href="{site.url(BRIDGE)}">{BRIDGE_TITLE}</a>' in latest.text

        # the feed gains an item between two polls: the follower ingests it on its own
        site.feed_version = 2
        # the round counts once follow_once returns, a moment after the feed state is written
        await api.wait_for(
            lambda: feed_ingested(settings, city) == 3 and follower.rounds >= 1,
            timeout=60,
            what="the follower's round",
        )
        flood = await reply(api, READER, "What did the fire chief ask residents to do?")
        assert "higher ground" in visible(flood) and site.url(FLOOD) in flood.text
        top = visible(await reply(api, READER, "/latest 1")).splitlines()
        assert len(top) == 2 and top[1].startswith(f"1. {FLOOD_TITLE}")
        assert len(site.hits(LIBRARY)) == 1, "items already stored are not fetched again"

        # /unfollow by number; a reader cannot
        assert (await reply(api, READER, "/unfollow 1")).text == "/unfollow is for admins."
        assert len(list_feeds(settings)) == 1
        assert (await reply(api, ADMIN, "/unfollow 1")).text == f"Stopped following {city}."
        assert list_feeds(settings) == []
        gone = await reply(api, ADMIN, "/feeds")
        assert gone.text == "No feeds followed. Add one with /follow FEED_URL."
    assert service.stats().articles == 3, "no duplicates"


async def test_bad_feeds_usage_and_an_empty_coverage(
    settings: Settings, service: Newsdesk, api: FakeBotAPI, site: Site
) -> None:
    garbage = site.url("/feeds/garbage.xml")
    async with running(settings, service, api) as follower:
        assert follower is not None
        empty = await reply(api, READER, "/latest")
        assert empty.text.startswith("The coverage is empty for now")
        assert (await reply(api, READER, "/latest many")).text.startswith("Use /latest or")
        assert (await reply(api, ADMIN, "/follow")).text.startswith("Use /follow FEED_URL")
        bad_url = await reply(api, ADMIN, "/follow ftp://example.org/feed")
        assert bad_url.text == "Cannot follow ftp://example.org/feed: not an http(s) URL."
        assert (await reply(api, ADMIN, "/unfollow 3")).text.startswith("Not following 3")

        # a feed that is not XML: a clear error, still followed, and the follower goes on
        q = api.push_text(ADMIN, f"/follow {garbage}")
        result = visible((await replies(api, q, 2))[1])
        assert "error: not an RSS/Atom feed" in result and "/unfollow stops that" in result
        rounds = follower.rounds
        await api.wait_for(lambda: follower.rounds >= rounds + 2, what="two follower rounds")
        feeds = visible(await reply(api, ADMIN, "/feeds"))
        assert "last error: not an RSS/Atom feed" in feeds
        # the bot still answers while the feed keeps failing
        assert (await reply(api, READER, "/latest")).text.startswith("The coverage is empty")
    assert len(site.hits("/feeds/garbage.xml")) >= 3


async def test_ingest_url_reply_is_neutral(
    settings: Settings, service: Newsdesk, api: FakeBotAPI, site: Site
) -> None:
    url = site.url("/missing-story")
    async with running(settings, service, api):
        result = await reply(api, ADMIN, f"/ingest {url}")
    assert result.text.startswith(f"Result for {url}:")
    assert "HTTP 404 Not Found" in result.text


async def test_stopping_waits_for_an_ingest_in_progress(
    settings: Settings, service: Newsdesk, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    ingest = service.ingest_articles

    def slow_ingest(articles: Iterable[Article], *, progress: bool = False) -> IngestReport:
        """The real ingest, once the test lets it go."""
        started.set()
        release.wait(30)
        return ingest(articles, progress=progress)

    monkeypatch.setattr(service, "ingest_articles", slow_ingest)
    services = Services.create(settings, service)
    try:
        follower = Follower(services, every=0.05)
        follow_feed(settings, site.url(CITY))
        follower.start()
        assert await asyncio.to_thread(started.wait, 30)
        stopping = asyncio.create_task(follower.stop(grace=0.1))
        await asyncio.sleep(0.5)
        assert not stopping.done(), "the index is not left to close under a running ingest"
        release.set()
        await asyncio.wait_for(stopping, 60)
    finally:
        release.set()
        services.close()
    assert service.stats().articles == 2


def test_a_bad_follow_interval_is_a_config_error(
    tmp_path: Path, api: FakeBotAPI, service: Newsdesk
) -> None:
    settings = bot_settings(tmp_path, api, follow_every="soon")
    services = Services.create(settings, service)
    try:
        with pytest.raises(ConfigError) as err:
            build_application(settings, services)
    finally:
        services.close()
    assert err.value.user_message == "Not an interval: 'soon'. Use e.g. 15m, 1h or 90s."
