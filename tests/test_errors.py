"""Errors are mapped at the edges: a bug is never an "LLM failed" fallback."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import EXIT_INTERNAL, missing_extra
from bot.telegram.app import APOLOGY
from retrieval.errors import LLMError
from retrieval.llm import client
from retrieval.llm.answerer import LLMAnswerer
from retrieval.service import Newsdesk
from retrieval.types import Passage
from tests.auxil.fake_bot_api import FakeBotAPI
from tests.auxil.llm_fakes import ScriptedLLM
from tests.conftest import REPO, cli_env
from tests.test_telegram_bot import BOT, QUESTION, make_settings, running

# Our own stream code raising, as a KeyError in a chunk parser would.
BROKEN_CHUNKS = """
import sys
import retrieval.llm.client as client

def broken(stream):
    raise KeyError("choices")
    yield

async def abroken(stream):
    raise KeyError("choices")
    yield

client._chunks = broken
client._achunks = abroken  # `ask` streams, to keep its deadlines
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _broken_sync(stream: Any) -> Iterator[tuple[str, str | None]]:
    raise KeyError("choices")
    yield "", None  # pragma: no cover - a generator that fails on first use


async def _broken_async(stream: Any) -> AsyncIterator[tuple[str, str | None]]:
    raise KeyError("choices")
    yield "", None  # pragma: no cover


def test_a_bug_in_the_stream_code_propagates(
    llm: LLMAnswerer, fake: ScriptedLLM, passages: list[Passage], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "_chunks", _broken_sync)
    with pytest.raises(KeyError, match="choices"):
        llm.answer(QUESTION, passages)
    assert len(fake.requests) == 1  # not retried as if the server had failed


async def test_a_bug_in_the_async_stream_code_propagates(
    llm: LLMAnswerer, passages: list[Passage], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "_achunks", _broken_async)
    with pytest.raises(KeyError, match="choices"):
        [e async for e in llm.astream(QUESTION, passages)]


def test_server_failures_still_become_llm_errors(fake: ScriptedLLM) -> None:
    url = fake.base_url
    fake.stop()
    chat = client.ChatClient(base_url=url, api_key="k", model="m", max_retries=0)
    with pytest.raises(LLMError) as info:
        chat.complete([{"role": "user", "content": "hi"}])
    assert "Cannot reach the LLM server" in info.value.user_message


def test_cli_bug_is_an_internal_error_not_a_fallback(
    tmp_path: Path, seeded_dir: Path, fake: ScriptedLLM
) -> None:
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    env = cli_env(data, **fake.env())
    res = subprocess.run(
        [sys.executable, "-c", BROKEN_CHUNKS, "ask", QUESTION],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == EXIT_INTERNAL
    assert res.stdout == ""  # no answer, and no extractive fallback either
    log = data / "errors.log"
    assert f"newsdesk: internal error (KeyError); see {log}" in res.stderr.splitlines()
    assert "Traceback" not in res.stderr
    logged = log.read_text()
    assert "Traceback" in logged and "KeyError: 'choices'" in logged and "in abroken" in logged
    assert fake.env()["OPENAI_API_KEY"] not in logged


def test_cli_names_a_missing_extra(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['trafilatura'] = None\n"
        "from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, "follow", "--once", "http://127.0.0.1:9/feed.xml"],
        cwd=REPO,
        env=cli_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "newsdesk: `follow` needs the optional `live` extra (pip install 'newsdesk[live]')."
    )


def test_only_the_extras_modules_count_as_a_missing_extra() -> None:
    assert missing_extra(ModuleNotFoundError("no", name="feedparser")) == "live"
    assert missing_extra(ModuleNotFoundError("no", name="xllamacpp")) == "local-llm"
    assert missing_extra(ModuleNotFoundError("no", name="retrieval.gate")) is None
    assert missing_extra(ImportError("cannot import name 'x' from 'trafilatura'")) is None


async def test_telegram_bug_in_the_answer_path_gets_the_apology(
    tmp_path: Path,
    seeded_dir: Path,
    fake: ScriptedLLM,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    monkeypatch.setattr(client, "_achunks", _broken_async)
    caplog.set_level(logging.INFO)
    with FakeBotAPI(username=BOT) as api:
        llm = {"llm": "auto", "openai_base_url": fake.base_url, "llm_model": "test-model"}
        settings = make_settings(data, api, openai_api_key="sk-test", **llm)
        svc = Newsdesk.open(settings)
        try:
            async with running(settings, svc, api) as services:
                assert services.stream  # private chats take the streaming path
                api.push_text(51, QUESTION)
                sent = await api.wait_messages(51)
        finally:
            svc.close()
    assert [s.text for s in sent] == [APOLOGY]  # no fallback answer, no traceback
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert errors and errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], KeyError)
    assert "Error while handling update" in errors[0].getMessage()
