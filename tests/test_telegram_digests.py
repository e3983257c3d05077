"""Scheduled digests: the real bot and service, a feed on loopback, a clock the test moves.

The scheduler reads the subscriptions' clock, which the test sets and advances (no waiting
for a real 08:00); it checks every 0.1 s instead of every 30 s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.subscriptions import Digest
from bot.telegram import digests
from bot.telegram.digests import due_slot, find_zone, next_due
from retrieval.embedding import OnnxMiniLM
from tests.auxil.fake_bot_api import FakeBotAPI, Sent, parse_telegram_html
from tests.conftest import SEEDS, open_service
from tests.test_telegram_alerts import running
from tests.test_telegram_feeds import ADMIN, CITY, READER, bot_settings, replies, reply
from tests.web_fixtures.server import Site

BERLIN = "Europe/Berlin"


class Clock:
    """Unix time that moves only when the test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


def digests_to(api: FakeBotAPI, chat_id: int) -> list[Sent]:
    return [m for m in api.messages(chat_id) if "Your daily digest" in m.text]


async def test_a_digest_is_sent_once_with_the_new_articles_and_skipped_without_news(
    tmp_path: Path, api: FakeBotAPI, site: Site, embedder: OnnxMiniLM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(digests, "TICK", 0.1)
    settings = bot_settings(tmp_path, api, follow_every="1h")
    service = open_service(settings, embedder)
    service.ingest([SEEDS])  # older coverage: not new, so not in the digest
    # 06:59 UTC is 07:59 in Berlin (winter time)
    clock = Clock(datetime(2024, 3, 14, 6, 59, tzinfo=UTC))
    try:
        async with running(settings, service, api, clock=clock) as bot:
            set_up = await reply(api, READER, f"/digest daily 08:00 {BERLIN}")
            assert set_up.text.startswith("A digest of the new articles will come daily at 08:00")
            assert "(Europe/Berlin)" in set_up.text
            clock.advance(seconds=10)
            await replies(api, api.push_text(ADMIN, f"/follow {site.url(CITY)}"), 2)
            assert digests_to(api, READER) == []  # 07:59:10: not yet
            clock.advance(minutes=1)  # 08:00:10 in Berlin
            await api.wait_for(lambda: len(digests_to(api, READER)) == 1, what="the digest")

            clock.advance(days=1)  # the next morning: nothing new arrived
            await api.wait_for(lambda: bot.scheduler.skipped == 1, what="a skipped digest")
        # a restart within the grace period of that slot: it is not sent again
        async with running(settings, service, api, clock=clock) as bot:
            await api.wait_for(lambda: bot.scheduler.rounds >= 3, what="scheduler rounds")
            assert (await reply(api, READER, "/digest")).text.startswith(
                "A digest of the new articles comes daily at 08:00 (Europe/Berlin)."
            )
            assert (await reply(api, READER, "/digest off")).text.startswith("No more digests")
    finally:
        service.close()
    sent = digests_to(api, READER)
    assert len(sent) == 1
    text = parse_telegram_html(sent[0].text)
    assert text.startswith("Your daily digest — 2024-03-14, 2 new articles")
    assert "Old town library reopens after flood repairs" in text
    assert "Council approves Elm River footbridge" in text
    assert "Ukraine" not in text, "only what arrived since the last digest"
    assert "[1]" in text and "[2]" in text


def test_slots_time_zones_and_the_next_wake() -> None:
    d = Digest(chat_id=1, at="08:00", tz=BERLIN, since=0.0, slot="")
    at = datetime(2024, 3, 14, 6, 59, tzinfo=UTC).timestamp()  # 07:59 in Berlin
    assert due_slot(d, at) is None  # yesterday's slot is long past
    assert due_slot(d, at + 60) == "2024-03-14T08:00"
    assert due_slot(d, at + 3 * 3600) is None  # more than two hours late: skipped
    assert next_due([d], at) <= 60.0
    assert find_zone("europe/berlin") == BERLIN and find_zone("utc") == "UTC"
    assert find_zone("Mars/Olympus") is None
