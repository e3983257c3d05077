"""LLM streaming, webhook mode, SIGTERM in a real process, and the streaming preview."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import Bot

from benchmarks.telegram import format_report, run_telegram_bench
from bot.telegram.app import (
    EXIT_CONFIG,
    EXIT_OK,
    build_application,
    file_base_url,
    run_bot,
    serve,
)
from bot.telegram.send import StreamPreview, send_html
from bot.telegram.services import Services
from retrieval.embedding import OnnxMiniLM
from retrieval.service import Newsdesk
from tests.auxil.fake_bot_api import FakeBotAPI, parse_telegram_html
from tests.auxil.llm_fakes import ScriptedLLM, quote_first_passage
from tests.conftest import make_settings as conftest_settings
from tests.conftest import open_service
from tests.test_telegram_bot import (  # one seeded index per session, shared with the e2e tests
    BOT,
    QUESTION,
    answered,
    make_settings,
    running,
    visible,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(username=BOT) as fake:
        yield fake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_llm_mode_streams_in_private_and_not_in_groups(
    tmp_path: Path,
    api: FakeBotAPI,
    seeded_dir: Path,
) -> None:
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    with ScriptedLLM() as llm:
        settings = make_settings(
            data,
            api,
            llm="auto",
            openai_base_url=llm.base_url,
            openai_api_key="sk-test",
            llm_model="test-model",
            llm_timeout=5.0,
        )
        svc = Newsdesk.open(settings)
        try:
            async with running(settings, svc, api) as services:
                assert services.stream
                llm.push(lambda body: dataclasses.replace(quote_first_passage(body), hang=1.0))
                private = await answered(api, 31, api.push_text(31, QUESTION))
                group = await answered(api, -31, api.push_text(-31, f"/ask {QUESTION}"))
        finally:
            svc.close()
        assert all(r.get("stream") for r in llm.requests)
    assert "[1]" in visible(private) and "Sources" in visible(private)
    assert "[1]" in visible(group)
    drafts = [d for d in api.drafts if int(d["chat_id"]) == 31]
    assert drafts and all(d["parse_mode"] == "HTML" for d in drafts)
    assert not [d for d in api.drafts if int(d["chat_id"]) == -31]
    typing = [c for c in api.calls_of("sendChatAction") if c.params["chat_id"] == "31"]
    assert typing and typing[0].params["action"] == "typing", "typing while the LLM works"


async def test_stream_preview_falls_back_to_edits(api: FakeBotAPI) -> None:
    api.inject("sendMessageDraft", "parse")  # a Bot API server without drafts
    bot = Bot(api.token, base_url=api.base_url, base_file_url=file_base_url(api.base_url))
    async with bot:
        preview = StreamPreview(bot, 41, None)
        await preview.update("Germany's <defence> minister", force=True)
        assert not preview.use_drafts and preview.message is None
        await preview.update("Germany's <defence> minister said", force=True)
        assert preview.message is not None
        await preview.update("Germany's <defence> minister said no & more", force=True)
        await preview.update("Germany's <defence> minister said no & more")  # unchanged: skipped
        final = "Germany's defence minister said no [1]."
        await send_html(bot, 41, final, preview=preview.message)
        await send_html(bot, 41, final, preview=preview.message)  # "not modified" is fine
    msgs = api.messages(41)
    assert len(msgs) == 1 and msgs[0].text == final
    assert len(msgs[0].edits) == 2
    assert parse_telegram_html(msgs[0].edits[0]).startswith("Germany's <defence> minister said")


async def test_webhook_checks_the_secret(
    tmp_path: Path,
    api: FakeBotAPI,
    seeded_dir: Path,
    embedder: OnnxMiniLM,
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    settings = make_settings(
        tmp_path,
        api,
        webhook_url=url,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret-value",
    )
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    svc = open_service(conftest_settings(data), embedder)
    services = Services.create(settings, svc)
    app = build_application(settings, services)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, settings, stop=stop, handle_signals=False))
    try:
        await api.wait_for(lambda: bool(api.calls_of("setWebhook")), what="setWebhook")
        await api.wait_for(lambda: _listening(port), what="the webhook server")
        hook = api.calls_of("setWebhook")[0].params
        assert hook["url"] == url and hook["secret_token"] == "s3cret-value"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 77,
                "date": 0,
                "chat": {"id": 51, "type": "private", "first_name": "U"},
                "from": {"id": 51, "is_bot": False, "first_name": "U"},
                "text": QUESTION,
            },
        }

        def post(secret: str | None) -> int:
            headers = {"Content-Type": "application/json"}
            if secret is not None:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secret
            req = urllib.request.Request(url, json.dumps(update).encode(), headers)
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return int(resp.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)

        assert await asyncio.to_thread(post, None) == 403
        assert await asyncio.to_thread(post, "wrong") == 403
        assert not api.messages(51)
        assert await asyncio.to_thread(post, "s3cret-value") == 200
        reply = await answered(api, 51, 77)
        assert "Pistorius" in visible(reply)
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == EXIT_OK
        services.close()
        svc.close()


def test_sigterm_finishes_the_answer_in_flight(
    tmp_path: Path,
    api: FakeBotAPI,
    seeded_dir: Path,
) -> None:
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSDESK_", "OPENAI_", "CHROMA_", "TELEGRAM_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        NEWSDESK_DATA_DIR=str(data),
        NEWSDESK_LLM="off",
        PYTHONPATH=str(REPO),
    )
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG)\n"
        "from retrieval.config import Settings\n"
        "from retrieval.service import Newsdesk\n"
        "from bot.telegram.app import run_bot\n"
        "settings = Settings()\n"
        "sys.exit(run_bot(settings, Newsdesk.open(settings)))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        asyncio.run(api.wait_for(lambda: bool(api.calls_of("getUpdates")), 60, "polling"))
        api.inject("sendMessage", "slow", delay=2.0)
        qid = api.push_text(61, QUESTION)
        asyncio.run(api.wait_for(lambda: bool(api.calls_of("sendMessage")), 60, "sending"))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == EXIT_OK, out
    assert [m.reply_to for m in api.messages(61)] == [qid], "the answer in flight was delivered"
    assert "Stopping: finishing the answers in flight" in out
    assert "HTTP Request" not in out, "httpx request logging is quiet"
    assert api.token not in out and api.token.split(":")[1] not in out


def test_bench_runs_small(tmp_path: Path, seeded_dir: Path, embedder: OnnxMiniLM) -> None:
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    settings = conftest_settings(data)
    svc = open_service(settings, embedder)
    try:
        result = run_telegram_bench(settings, svc, chats=3, questions=[QUESTION, QUESTION])
    finally:
        svc.close()
    assert result["answered"] == 6 and result["lost"] == 0 and result["duplicated"] == 0
    assert result["ok"] and result["peak_rss_mb"] > 0
    assert "6/6 answered" in format_report(result)
    assert not (data / "telegram.sqlite3").exists(), "bench chat state stays out of the data dir"


def test_config_errors_exit_with_code_2(tmp_path: Path, service: Newsdesk) -> None:
    no_token = conftest_settings(tmp_path)
    assert run_bot(no_token, service) == EXIT_CONFIG
    webhook_without_secret = conftest_settings(
        tmp_path, telegram_bot_token="1:x", webhook_url="https://bot.example.org/hook"
    )
    assert run_bot(webhook_without_secret, service) == EXIT_CONFIG
