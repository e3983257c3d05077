"""What the Bot API offers, used: previews of the cited article, menus by scope, /help by
role, and /start examples that the bot then answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.telegram.admin import MENU
from retrieval.embedding import OnnxMiniLM
from tests.auxil.fake_bot_api import FakeBotAPI, parse_telegram_html
from tests.conftest import SEEDS, open_service
from tests.test_telegram_alerts import running
from tests.test_telegram_feeds import ADMIN, READER, bot_settings, reply
from tests.web_fixtures.server import BRIDGE, FLOOD, LIBRARY, Site


async def test_previews_menus_and_help(
    tmp_path: Path, api: FakeBotAPI, site: Site, embedder: OnnxMiniLM
) -> None:
    settings = bot_settings(tmp_path, api, follow_every="1h")
    service = open_service(settings, embedder)
    try:
        async with running(settings, service, api):
            await reply(api, ADMIN, f"/ingest {site.url(FLOOD)}")
            answer = await reply(api, READER, "What did the fire chief ask residents to do?")
            reader_help = parse_telegram_html((await reply(api, READER, "/help")).text)
            admin_help = parse_telegram_html((await reply(api, ADMIN, "/help")).text)
    finally:
        service.close()
    # the answer's preview is its first cited article, small
    assert "higher ground" in parse_telegram_html(answer.text)
    sent = next(c.params for c in api.calls_of("sendMessage") if c.params["text"] == answer.text)
    preview = json.loads(sent["link_preview_options"])
    assert preview == {"url": site.url(FLOOD), "prefer_small_media": True}

    # admin commands are in the admins' own scope only
    menus = {
        json.dumps(json.loads(c.params["scope"]), sort_keys=True): json.loads(c.params["commands"])
        for c in api.calls_of("setMyCommands")
    }
    admin_scope = json.dumps({"chat_id": ADMIN, "type": "chat"}, sort_keys=True)
    for scope, commands in menus.items():
        names = {c["command"] for c in commands}
        assert {"start", "help", "alert", "digest"} <= names
        if scope == admin_scope:
            assert set(MENU) <= names
        else:
            assert not set(MENU) & names, f"admin commands leak into {scope}"
    assert admin_scope in menus and len(menus) == 3

    # /help lists what each may do
    assert "/alert TOPIC — " in reader_help and "/digest daily HH:MM | off — " in reader_help
    assert "Admins" not in reader_help and "/ingest" not in reader_help
    assert "Admins\n/ingest URL — " in admin_help and "/feeds — " in admin_help


async def test_start_examples_are_questions_the_bot_answers(
    tmp_path: Path, api: FakeBotAPI, site: Site, embedder: OnnxMiniLM
) -> None:
    settings = bot_settings(tmp_path, api, follow_every="1h")
    service = open_service(settings, embedder)
    service.ingest([SEEDS])
    try:
        async with running(settings, service, api):
            for page in (BRIDGE, LIBRARY):
                await reply(api, ADMIN, f"/ingest {site.url(page)}")
            start = parse_telegram_html((await reply(api, READER, "/start")).text)
            tried = start.split("Try\n", 1)[1].split("\n\n", 1)[0].splitlines()
            examples = [line.removeprefix("• ") for line in tried]
            answers = [parse_telegram_html((await reply(api, READER, q)).text) for q in examples]
    finally:
        service.close()
    assert len(examples) == 2 and all(re.fullmatch(r"What did .+ say\?", q) for q in examples)
    assert "“" not in start, "not a headline pasted into a question"
    for question, answer in zip(examples, answers, strict=True):
        assert "[1]" in answer and "doesn't say" not in answer, (question, answer)
