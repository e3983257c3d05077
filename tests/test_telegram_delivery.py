"""Delivery under trouble: long replies split, flood limits, parse errors, 5xx and timeouts.

The real Application and service against the fake Bot API, which injects the faults.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.telegram.app import APOLOGY
from retrieval.embedding import OnnxMiniLM
from retrieval.service import Newsdesk
from tests.auxil.counting_service import CountingService
from tests.auxil.fake_bot_api import FakeBotAPI, parse_telegram_html
from tests.conftest import make_settings as conftest_settings
from tests.conftest import open_service
from tests.test_telegram_bot import QUESTION, answered, drained, make_settings, running, visible


@pytest.fixture
def service(seeded_service: Newsdesk) -> CountingService:
    return CountingService(seeded_service)


async def test_long_reply_split_balanced(
    tmp_path: Path, api: FakeBotAPI, seeded_dir: Path, embedder: OnnxMiniLM
) -> None:
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    long_title = "Zebra migration across the Mara river " + "and the herds that follow " * 40
    sentence = (
        "The zebra migration across the Mara river drew record crowds of wildlife rangers, "
        + "with herds <crossing> & swimming as rangers counted them again and again, " * 14
        + "rangers said on day {day}."
    )
    # each sentence its own (the answer quotes a repeated sentence once)
    articles = [
        {"id": f"zebra{i}", "title": f"{long_title} part {i}", "outlet": "Wild & Co",
         "published": f"2024-03-0{i + 1}", "url": f"https://example.org/z?i={i}&x=<1>",
         "text": " ".join(sentence.format(day=3 * i + j) for j in range(3))}
        for i in range(4)
    ]  # fmt: skip
    src = tmp_path / "zebras.jsonl"
    src.write_text("\n".join(json.dumps(a) for a in articles))
    svc = open_service(conftest_settings(data), embedder)
    try:
        svc.ingest([src])
        settings = make_settings(tmp_path, api)
        async with running(settings, svc, api):
            qid = api.push_text(
                3, "What did rangers say about the zebra migration across the Mara?"
            )
            await answered(api, 3, qid)
            api.push_text(3, "/sources")
            await api.wait_for(lambda: len(api.messages(3)) >= 4, what="answer and sources")
            await drained(api)
    finally:
        svc.close()
    msgs = api.messages(3)
    assert len(msgs) >= 4, "answer and sources both split"
    for m in msgs:
        assert len(m.text) < 4096 and m.parse_mode == "HTML"
        parse_telegram_html(m.text)  # balanced tags, whole entities
    assert sum("Wild &amp; Co" in m.text for m in msgs) >= 2
    last_answer_part = [m for m in msgs if m.reply_markup]
    assert len(last_answer_part) == 1, "buttons only under the last part of the answer"


async def test_flood_limit_429_then_delivered(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    api.inject("sendMessage", "429", retry_after=1)
    async with running(make_settings(tmp_path, api), service, api):
        qid = api.push_text(4, QUESTION)
        reply = await answered(api, 4, qid)
    statuses = [c.status for c in api.calls_of("sendMessage")]
    assert statuses[:2] == [429, 200]
    calls = api.calls_of("sendMessage")
    assert calls[1].at - calls[0].at >= 1.0, "waited retry_after before resending"
    assert "Pistorius" in visible(reply)
    assert len(api.messages(4)) == 1


async def test_parse_error_resends_plain_text(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    api.inject("sendMessage", "parse")
    async with running(make_settings(tmp_path, api), service, api):
        qid = api.push_text(5, QUESTION)
        reply = await answered(api, 5, qid)
    assert reply.parse_mode is None
    assert "Pistorius" in reply.text and "<" not in reply.text and "Sources" in reply.text
    assert reply.reply_markup is not None


@pytest.mark.parametrize("fault", ["5xx", "timeout"])
async def test_bot_survives_5xx_and_timeouts(
    tmp_path: Path, api: FakeBotAPI, service: CountingService, fault: str
) -> None:
    api.inject("sendMessage", fault, delay=3.5)  # a timeout stalls past the client's 2 s
    api.inject("getUpdates", "5xx")
    async with running(make_settings(tmp_path, api), service, api, http_timeout=2.0):
        api.push_text(6, QUESTION)
        await api.wait_messages(6, 1)
        qid = api.push_text(6, QUESTION)
        reply = await answered(api, 6, qid)
    assert "Pistorius" in visible(reply)
    assert api.messages(6)[0].text == APOLOGY
