"""Topic alerts end to end: feeds on loopback, the real Application and service, the fake
Bot API. An alert fires once for a matching item, never for others, never again after a
restart or for a syndicated copy; caps and the allow-list hold."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.alerts import format_report, run_alerts_bench
from bot.subscriptions import Subscriptions
from bot.telegram.alerts import Sender
from bot.telegram.app import EXIT_OK, build_application, serve
from bot.telegram.digests import Scheduler
from bot.telegram.follower import Follower, bot_data_follower
from bot.telegram.services import Services
from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.service import Newsdesk
from tests.auxil.fake_bot_api import FakeBotAPI, Sent, parse_telegram_html
from tests.conftest import open_service
from tests.test_telegram_feeds import ADMIN, CITY, FLOOD_TITLE, READER, bot_settings, replies, reply
from tests.web_fixtures.server import BRIDGE_AMP, FLOOD, Site

COUNCIL, FERRY_FAN, STRANGER = 79, 78, 66
BRIDGE_TITLE = "Council approves Elm River footbridge"


@dataclass
class Bot:
    services: Services
    follower: Follower
    sender: Sender
    scheduler: Scheduler


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    service: Newsdesk,
    api: FakeBotAPI,
    *,
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[Bot]:
    """Run the bot for the body; yield its services, follower, alert sender and digests.

    `clock` replaces the subscriptions' clock (arrivals, caps, digest slots).
    """
    services = Services.create(settings, service)
    if clock is not None:
        services.subscriptions.clock = clock
    app = build_application(settings, services)
    stop = asyncio.Event()
    polls = len(api.calls_of("getUpdates"))
    task = asyncio.create_task(serve(app, settings, stop=stop, handle_signals=False))
    try:
        await api.wait_for(lambda: len(api.calls_of("getUpdates")) > polls, what="polling")
        follower = bot_data_follower(app)
        background = app.bot_data["background"]
        sender = next(b for b in background if isinstance(b, Sender))
        scheduler = next(b for b in background if isinstance(b, Scheduler))
        assert follower is not None
        yield Bot(services, follower, sender, scheduler)
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 60) == EXIT_OK
        services.close()


def alerts_to(api: FakeBotAPI, chat_id: int) -> list[Sent]:
    return [m for m in api.messages(chat_id) if m.text.startswith("🔔")]


async def settled(bot: Bot, batches: int) -> None:
    """Wait until the sender has dealt with `batches` batches and nothing more is queued."""
    await asyncio.wait_for(_settled(bot, batches), 60)


async def _settled(bot: Bot, batches: int) -> None:
    while bot.sender.batches < batches or not bot.services.arrivals.empty():
        await asyncio.sleep(0.05)


async def test_an_alert_fires_once_for_a_matching_item_and_never_again(
    tmp_path: Path, api: FakeBotAPI, site: Site, embedder: OnnxMiniLM
) -> None:
    settings = bot_settings(tmp_path, api, follow_every="1s")
    service = open_service(settings, embedder)
    city = site.url(CITY)
    try:
        async with running(settings, service, api) as bot:
            set_up = await reply(api, READER, "/alert flood warning")
            assert set_up.text.startswith("I'll tell you when an article about “flood warning”")
            await reply(api, FERRY_FAN, "/alert ferry strike")
            await reply(api, COUNCIL, "/alert Riverside council")
            listed = await reply(api, READER, "/alerts")
            assert "1. flood warning" in parse_telegram_html(listed.text)

            # the feed's first items: the footbridge vote matches the council topic only
            await replies(api, api.push_text(ADMIN, f"/follow {city}"), 2)
            await settled(bot, 1)
            assert [m.text for m in alerts_to(api, READER)] == []
            assert len(alerts_to(api, COUNCIL)) == 1

            # the feed gains the flood warning: one alert, to the chat that asked for it
            site.feed_version = 2
            await api.wait_for(
                lambda: len(alerts_to(api, READER)) == 1, timeout=60, what="the flood alert"
            )
            rounds = bot.follower.rounds
            await api.wait_for(lambda: bot.follower.rounds >= rounds + 2, what="two more rounds")
            await settled(bot, bot.sender.batches)
        alert = alerts_to(api, READER)[0]
        text = parse_telegram_html(alert.text)
        assert text.splitlines()[0] == "🔔 flood warning"
        assert FLOOD_TITLE in text and "2024-03-14" in text
        assert "orange flood warning" in text, "the lead sentence, quoted"
        assert "<blockquote>" in alert.text and site.url(FLOOD) in alert.text
        params = next(
            c.params for c in api.calls_of("sendMessage") if c.params["text"] == alert.text
        )
        preview = json.loads(params["link_preview_options"])
        assert preview == {"url": site.url(FLOOD), "prefer_small_media": True}
        assert "Stop alerts on flood warning" in json.dumps(alert.reply_markup)

        # a restart: the follower checks the feeds again, nothing is sent twice
        async with running(settings, service, api) as bot:
            await api.wait_for(lambda: bot.follower.rounds >= 1, timeout=60, what="a round")
            # the same footbridge story from a wire service, and its AMP page: no new alert
            wire = site.url("/feeds/wire.atom")
            result = await replies(api, api.push_text(ADMIN, f"/follow {wire}"), 2)
            assert "1 duplicate" in parse_telegram_html(result[1].text)
            await reply(api, ADMIN, f"/ingest {site.url(BRIDGE_AMP)}")
            await settled(bot, bot.sender.batches)
            stopped = await reply(api, READER, "/unalert 1")
            assert stopped.text == "Stopped alerts on “flood warning”."
    finally:
        service.close()
    assert len(alerts_to(api, READER)) == 1
    assert len(alerts_to(api, COUNCIL)) == 1 and BRIDGE_TITLE in alerts_to(api, COUNCIL)[0].text
    assert alerts_to(api, FERRY_FAN) == [], "no alert for items that do not match"


async def test_caps_and_strangers(
    tmp_path: Path, api: FakeBotAPI, site: Site, embedder: OnnxMiniLM
) -> None:
    settings = bot_settings(
        tmp_path, api, follow_every="1h", max_alerts=2, alerts_per_hour=1,
        allowed_user_ids=[READER],
    )  # fmt: skip
    service = open_service(settings, embedder)
    try:
        async with running(settings, service, api) as bot:
            await reply(api, READER, "/alert library")
            await reply(api, READER, "/alert Riverside council")
            full = await reply(api, READER, "/alert ferry strike")
            assert full.text.startswith("This chat has 2 alerts, the most it may have.")
            assert "1. library\n2. Riverside council" in full.text

            # a stranger is not answered and sets nothing
            api.push_text(STRANGER, "/alert library")
            await api.wait_for(lambda: api.pending_updates() == 0, what="updates fetched")

            # two matching articles at once, one alert an hour: one sent, then a notice
            await replies(api, api.push_text(ADMIN, f"/follow {site.url(CITY)}"), 2)
            await settled(bot, 1)
    finally:
        service.close()
    assert len(alerts_to(api, READER)) == 1
    notice = [m.text for m in api.messages(READER) if "the most it gets" in m.text]
    assert len(notice) == 1
    assert notice[0].startswith("This chat has had 1 alerts in the last hour, the most it gets.")
    assert api.messages(STRANGER) == []
    subs = Subscriptions.in_data_dir(settings.data_dir)
    try:
        assert subs.alerts(STRANGER) == [] and len(subs.alerts(READER)) == 2
    finally:
        subs.close()


def test_alert_bench_runs_small(seeded_service: Newsdesk) -> None:
    svc, data = seeded_service, seeded_service.settings.data_dir
    result = run_alerts_bench(svc.settings, svc, svc.latest(1)[0].doc_id, chats=20)
    assert result["notified"] == 20 and result["lost"] == 0 and result["duplicated"] == 0
    assert result["ok"] and result["peak_per_second"] <= 30
    assert "20 notified, 0 lost, 0 duplicated" in format_report(result)
    assert not (data / "subscriptions.sqlite3").exists(), "bench state stays out of the data dir"
