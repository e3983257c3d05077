"""End to end: the real Application and the real Newsdesk service against the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.app import APOLOGY, EXIT_CONFLICT, EXIT_OK, build_application, serve
from bot.telegram.questions import NON_TEXT
from bot.telegram.services import Services
from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.service import Newsdesk
from tests.auxil.counting_service import CountingService
from tests.auxil.fake_bot_api import FakeBotAPI, Sent, parse_telegram_html
from tests.conftest import make_settings as conftest_settings
from tests.conftest import open_service, service_on_copy
from tests.web_fixtures.server import LIBRARY, serve_site

QUESTION = "What did Germany say about Macron's remarks?"
BOT = "newsdesk_test_bot"


@pytest.fixture(scope="session")
def newsdesk(
    seeded_dir: Path, embedder: OnnxMiniLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Newsdesk]:
    """One service over a copy of the seeded index, shared by the tests that only ask."""
    yield from service_on_copy(seeded_dir, tmp_path_factory.mktemp("tg-seeded"), embedder)


@pytest.fixture
def service(newsdesk: Newsdesk) -> CountingService:
    return CountingService(newsdesk)


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(username=BOT) as fake:
        yield fake


def make_settings(tmp_path: Path, api: FakeBotAPI, **kw: Any) -> Settings:
    """Settings for a bot polling `api`, with its chat state under `tmp_path`."""
    kw.setdefault("llm", "off")
    return Settings(
        _env_file=None,
        data_dir=tmp_path,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url,
        **kw,
    )


@contextlib.asynccontextmanager
async def running(
    settings: Settings, service: Any, api: FakeBotAPI, *, http_timeout: float = 10.0
) -> AsyncIterator[Services]:
    """Run the bot (polling the fake) for the body of the `async with`."""
    services = Services.create(settings, service)
    app = build_application(settings, services, http_timeout=http_timeout)
    stop = asyncio.Event()
    polls = len(api.calls_of("getUpdates"))
    task = asyncio.create_task(serve(app, settings, stop=stop, handle_signals=False))
    try:
        await api.wait_for(lambda: len(api.calls_of("getUpdates")) > polls, what="polling")
        yield services
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == EXIT_OK
        services.close()


async def answered(api: FakeBotAPI, chat_id: int, question_id: int) -> Sent:
    """Wait for the reply to one question and return its first part."""
    await api.wait_for(
        lambda: any(s.reply_to == question_id for s in api.messages(chat_id)),
        what=f"an answer to message {question_id}",
    )
    return next(s for s in api.messages(chat_id) if s.reply_to == question_id)


async def drained(api: FakeBotAPI) -> None:
    """Wait until the bot has fetched every update, then give the handlers a moment."""
    await api.wait_for(lambda: api.pending_updates() == 0, what="updates fetched")
    await asyncio.sleep(0.5)


def visible(sent: Sent) -> str:
    return parse_telegram_html(sent.text) if sent.parse_mode == "HTML" else sent.text


async def test_private_question_answered_with_citation_and_sources(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    settings = make_settings(tmp_path, api)
    async with running(settings, service, api):
        qid = api.push_text(1, QUESTION)
        reply = await answered(api, 1, qid)
    text = visible(reply)
    assert reply.parse_mode == "HTML"
    assert "Pistorius" in text and "[1]" in text
    assert "Sources" in text and "RFE/RL, 2024-03-05" in text
    buttons = [b["callback_data"] for b in reply.reply_markup["inline_keyboard"][0]]  # type: ignore[index]
    assert [b.split(":")[0] for b in buttons] == ["src", "up", "down"]
    sent = api.calls_of("sendMessage")[-1].params
    assert json.loads(sent["link_preview_options"]) == {"is_disabled": True}  # no url to show
    assert api.calls_of("setMyCommands")


async def test_group_mentions_replies_and_ask(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    group = -1001
    async with running(make_settings(tmp_path, api), service, api):
        ignored = api.push_text(group, QUESTION, user_id=7)
        mention = api.push_text(group, f"@{BOT} {QUESTION}", user_id=7)
        first = await answered(api, group, mention)
        follow = api.push_text(group, QUESTION, user_id=8, reply_to=first.message_id)
        await answered(api, group, follow)
        ask = api.push_text(group, f"/ask {QUESTION}", user_id=9)
        await answered(api, group, ask)
        ask_named = api.push_text(group, f"/ask@{BOT} {QUESTION}", user_id=9)
        await answered(api, group, ask_named)
        other_bot = api.push_text(group, f"@{BOT} {QUESTION}", user_id=99, is_bot=True)
        edited = api.push_text(group, f"@{BOT} {QUESTION}", user_id=7, edited=True)
        await drained(api)
    replied_to = {s.reply_to for s in api.messages(group)}
    assert ignored not in replied_to and other_bot not in replied_to and edited not in replied_to
    assert {mention, follow, ask, ask_named} <= replied_to
    assert service.answers == 4
    assert all("Pistorius" in visible(s) for s in api.messages(group))
    assert not api.drafts, "groups get only the final message"


async def test_escaping_of_user_text(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    async with running(make_settings(tmp_path, api), service, api):
        qid = api.push_text(2, "<b>& what did Germany say about Macron's remarks?")
        reply = await answered(api, 2, qid)
        long_q = api.push_text(2, "<b>&" * 400)  # over the length cap, echoed nowhere
        cap = await answered(api, 2, long_q)
    assert reply.parse_mode == "HTML" and "Pistorius" in visible(reply)
    assert "1,600 characters" in visible(cap) and "under 1,000" in visible(cap)


async def test_stranger_gets_nothing_and_costs_nothing(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    settings = make_settings(tmp_path, api, allowed_user_ids=[10], admin_ids=[11])
    async with running(settings, service, api):
        api.push_text(20, QUESTION)
        api.push_photo(20)
        api.push_text(20, "/start")
        api.push_text(-500, f"@{BOT} {QUESTION}", user_id=20)
        qid = api.push_text(10, QUESTION)
        await answered(api, 10, qid)
        await drained(api)
    assert api.messages(20) == [] and api.messages(-500) == []
    assert service.answers == 1


async def test_access_is_declared_once_for_every_feature(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    reader, admin, stranger = 10, 11, 20
    settings = make_settings(tmp_path, api, allowed_user_ids=[reader], admin_ids=[admin])
    async with running(settings, service, api) as services:
        reply = await answered(api, reader, api.push_text(reader, QUESTION))
        up = (reply.reply_markup or {})["inline_keyboard"][0][-2]["callback_data"]
        for text in ("/stats", "/follow https://example.org/feed", "/sources", "/latest", "/x"):
            api.push_text(stranger, text)
        api.push_callback(reader, reply.message_id, up, user_id=stranger)
        api.push_document(stranger, "otters.txt", b"Otters.")
        await drained(api)
        refused = await answered(api, reader, api.push_text(reader, "/stats"))
        stats = await answered(api, admin, api.push_text(admin, "/stats"))
        unknown = await answered(api, reader, api.push_text(reader, "/nonsense"))
        feedback = services.state.feedback(int(up.split(":")[1]))
    assert api.messages(stranger) == [] and not api.calls_of("answerCallbackQuery")
    assert feedback == {}, "a stranger's button press changes nothing"
    assert refused.text == "/stats is for admins."
    assert stats.text.startswith("Today") and "1 questions answered" in stats.text
    assert unknown.text == "I don't know that command. Try /help."
    assert service.answers == 1


async def test_command_menus_per_scope(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    async with running(make_settings(tmp_path, api, admin_ids=[11]), service, api):
        await api.wait_for(lambda: len(api.calls_of("setMyCommands")) >= 3, what="menus")
    menus = {
        c.params["scope"]: [cmd["command"] for cmd in json.loads(c.params["commands"])]
        for c in api.calls_of("setMyCommands")
    }
    everyone = ["start", "help", "sources", "latest", "brief", "ask", "alert", "alerts"]
    everyone += ["unalert", "digest", "timezone"]
    admin_scope = next(k for k in menus if '"chat_id": 11' in k)
    assert all(v == everyone for k, v in menus.items() if k != admin_scope)
    assert menus[admin_scope] == [*everyone, "ingest", "follow", "unfollow", "feeds", "stats"]


async def test_rate_limit_and_daily_cap_survive_restart(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    settings = make_settings(tmp_path, api, rate_per_minute=2, daily_cap=3)
    async with running(settings, service, api):
        ids = [api.push_text(7, QUESTION) for _ in range(4)]
        replies = [await answered(api, 7, q) for q in ids[:3]]
        await drained(api)
    assert not api.replies_to(ids[3]), "one warning, not one per message"
    assert "Pistorius" in visible(replies[0]) and "Pistorius" in visible(replies[1])
    assert "asking a bit fast" in visible(replies[2])
    async with running(settings, service, api):  # a restart: the bucket is fresh, the count is not
        ok = await answered(api, 7, api.push_text(7, QUESTION))
        capped = await answered(api, 7, api.push_text(7, QUESTION))
    assert "Pistorius" in visible(ok)
    assert "today's limit" in visible(capped)
    assert service.answers == 3


async def test_photo_sources_buttons_and_commands(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    settings = make_settings(tmp_path, api, admin_ids=[8])
    async with running(settings, service, api) as services:
        api.push_photo(8)
        await api.wait_messages(8, 1)
        api.push_text(8, "/sources")
        await api.wait_messages(8, 2)
        reply = await answered(api, 8, api.push_text(8, QUESTION))
        api.push_text(8, "/sources")
        await api.wait_messages(8, 4)
        markup = reply.reply_markup or {}
        src, up, _down = (b["callback_data"] for b in markup["inline_keyboard"][0])
        api.push_callback(8, reply.message_id, src, user_id=8)
        await api.wait_messages(8, 5)
        api.push_callback(8, reply.message_id, up, user_id=8)
        await api.wait_for(lambda: len(api.calls_of("answerCallbackQuery")) >= 2, what="acks")
        answer_id = int(up.split(":")[1])
        assert services.state.feedback(answer_id) == {8: 1}
        api.push_text(8, "/start")
        api.push_text(8, "/stats")
        await api.wait_messages(8, 7)
        api.push_text(8, "/help")
        await api.wait_messages(8, 8)
    texts = [visible(m) for m in api.messages(8)]
    assert texts[0] == NON_TEXT
    assert "No answer in this chat yet" in texts[1]
    for sources in (texts[3], texts[4]):
        assert sources.startswith("Sources") and "Boris Pistorius said" in sources
    start = next(t for t in texts[5:] if t.startswith("I answer"))
    stats = next(t for t in texts[5:] if t.startswith("Today"))
    assert "1 article from 1 outlet (RFE/RL)" in start and "2024-03-05" in start
    assert "Try" in start and "/ask" in start
    assert "1 questions answered" in stats and "👍 1" in stats
    assert texts[7].startswith("How to ask") and f"@{BOT} QUESTION" in texts[7]


async def test_brief_lists_headlines_with_lead_quotes(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    async with running(make_settings(tmp_path, api), service, api):
        api.push_text(8, "/brief")
        api.push_text(8, "/brief Macron")
        await api.wait_messages(8, 2)
    for sent in api.messages(8):
        assert "<blockquote" in sent.text  # the lead is quoted once, as a blockquote
        text = visible(sent)
        assert "Ukraine Never Asked For Foreign Troops" in text and "[1]" in text
        assert text.count("has never asked for Western troops") == 1
        assert "doesn't say" not in text


async def test_restart_keeps_history_for_follow_ups(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    settings = make_settings(tmp_path, api)
    async with running(settings, service, api):
        await answered(api, 9, api.push_text(9, QUESTION))
    async with running(settings, service, api) as services:
        follow = await answered(api, 9, api.push_text(9, "And what did he say about courage?"))
        history = services.state.history(9, 6)
    assert history[0].question == QUESTION
    assert "courage" in visible(follow) and "Pistorius" in visible(follow)


async def test_admin_ingest_of_uploaded_file_and_url(
    tmp_path: Path, api: FakeBotAPI, seeded_dir: Path, embedder: OnnxMiniLM
) -> None:
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    svc = CountingService(open_service(conftest_settings(data), embedder))
    body = (
        "Otters return to the Thames\n\nOutlet: River News\n\n"
        "Conservationists counted forty otters along the Thames in February, "
        "the highest number in decades, the river trust said on Monday."
    )
    try:
        settings = make_settings(tmp_path, api, admin_ids=[12])
        async with running(settings, svc, api):
            doc = api.push_document(12, "otters.txt", body.encode())
            api.push_text(12, "/ingest", reply_to=doc)
            await api.wait_for(lambda: any("1 new" in m.text for m in api.messages(12)))
            doc2 = api.push_document(13, "otters.txt", body.encode())
            api.push_text(13, "/ingest", reply_to=doc2)
            await api.wait_messages(13, 2)
            reply = await answered(api, 12, api.push_text(12, "How many otters were counted?"))
            with serve_site() as site:
                url_q = api.push_text(12, f"/ingest {site.url(LIBRARY)}")
                url_reply = await answered(api, 12, url_q)
    finally:
        svc.inner.close()
    assert "Result for http://" in url_reply.text and "1 new" in url_reply.text
    assert "Reply /ingest to this file" in api.messages(12)[0].text
    # the document and the /ingest are two updates answered concurrently: either order
    replies = sorted(m.text for m in api.messages(13)[:2])
    assert replies == sorted([NON_TEXT, "/ingest is for admins."]), replies
    assert "forty otters" in visible(reply)
    assert len(svc.ingested) == 1 and not svc.ingested[0].exists(), "temp upload removed"


async def test_fifty_concurrent_chats_all_answered_and_no_token_in_logs(
    tmp_path: Path, api: FakeBotAPI, service: CountingService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, api, max_concurrent_llm=2)
    async with running(settings, service, api):
        ids = {chat: api.push_text(chat, QUESTION) for chat in range(100, 150)}
        in_order = [api.push_text(99, f"{QUESTION} ({n})") for n in range(5)]
        for chat, qid in ids.items():
            await answered(api, chat, qid)
        for qid in in_order:
            await answered(api, 99, qid)
        api.inject("sendMessage", "5xx")  # one failure, so the log gets a traceback
        api.push_text(150, QUESTION)
        apology = await api.wait_messages(150, 1)
    assert apology[0].text == APOLOGY
    for chat in ids:
        msgs = api.messages(chat)
        assert len(msgs) == 1 and "Pistorius" in visible(msgs[0])
    assert [m.reply_to for m in api.messages(99)] == in_order, "one chat's questions in order"
    assert 1 <= service.peak_in_flight <= 2, "simultaneous answers bounded"
    text = caplog.text
    assert api.token not in text and api.token.split(":")[1] not in text
    assert "[REDACTED]" in text, "python-telegram-bot logged its URL, redacted"
    assert "Error while handling update" in text and "Traceback" in text


async def test_second_poller_conflict_exits(
    tmp_path: Path, api: FakeBotAPI, service: CountingService, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, api)
    services = Services.create(settings, service)
    app = build_application(settings, services)
    api.inject("getUpdates", "conflict")
    try:
        code = await asyncio.wait_for(serve(app, settings, handle_signals=False), 30)
    finally:
        services.close()
    assert code == EXIT_CONFLICT
    assert "409 Conflict" in caplog.text and "only one may poll" in caplog.text
    assert re.search(api.token, caplog.text) is None
