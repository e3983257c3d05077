"""Never keep a reader waiting: the LLM's first-token and answer deadlines.

The scripted server hangs or streams slowly; the service (CLI and REPL path) and the bot
(the real Application against the fake Bot API) give the verified extractive answer instead,
with a one-line note, by the deadline plus a margin. The margins are generous (a loaded CI
machine): what is checked is that the deadline, not the 30 s timeout and its retries, ended
the wait.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.llm.answerer import LLMAnswerer
from retrieval.service import Newsdesk
from retrieval.store import Store
from retrieval.types import Answer, Turn
from tests.auxil.fake_bot_api import FakeBotAPI
from tests.auxil.llm_fakes import Reply, ScriptedLLM
from tests.conftest import make_settings as conftest_settings
from tests.test_telegram_bot import QUESTION, answered, make_settings, running, visible

MARGIN = 6.0  # seconds of slack on a loaded 2-core machine
SLOW = "Germany's defense minister said Macron's quotes were not helpful at all " * 6


def llm_kw(fake: ScriptedLLM, **kw: Any) -> dict[str, Any]:
    """An LLM on the scripted server whose own timeout and retries would take minutes."""
    return {
        "llm": "auto",
        "openai_base_url": fake.base_url,
        "openai_api_key": "sk-test",
        "llm_model": "test-model",
        "llm_timeout": 30.0,
        "llm_max_retries": 3,
        **kw,
    }


@pytest.fixture
def data(tmp_path: Path, seeded_dir: Path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(seeded_dir, copy)
    return copy


def open_llm_service(settings: Settings, embedder: OnnxMiniLM) -> Newsdesk:
    store = Store(settings, embedder.model_id, embedder.dim)
    return Newsdesk(settings, store, embedder, LLMAnswerer(settings))


@pytest.fixture
def hanging() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(default=Reply(hang=120)) as server:
        yield server


def assert_late_fallback(answer: Answer, what: str) -> None:
    assert answer.mode == "extractive" and not answer.refused
    assert "Pistorius" in answer.answer and answer.citations
    assert answer.note.startswith(what) and "\n" not in answer.note
    assert answer.verification is not None and answer.verification.fallback


def test_a_hanging_llm_gives_quotes_by_the_first_token_deadline(
    data: Path, hanging: ScriptedLLM, embedder: OnnxMiniLM
) -> None:
    settings = conftest_settings(data, **llm_kw(hanging, first_token_deadline=1.5))
    svc = open_llm_service(settings, embedder)
    try:
        t = time.monotonic()
        answer = svc.answer(QUESTION)  # what `newsdesk ask` calls
        took = time.monotonic() - t
        # a follow-up: condensing it with the LLM hangs too, and spends the same budget
        t = time.monotonic()
        follow = svc.answer("And what did he say next?", [Turn(QUESTION, answer.answer)])
        took_follow = time.monotonic() - t
    finally:
        svc.close()
    assert_late_fallback(answer, "The model had not started answering after 1.5 s")
    assert took < 1.5 + MARGIN
    assert follow.mode == "extractive" and took_follow < 1.5 + MARGIN
    # the answer, then the condensing (its deadline passed there, so no answer was asked for)
    assert len(hanging.requests) == 2


def test_retries_spend_the_deadline_and_never_restart_it(data: Path, embedder: OnnxMiniLM) -> None:
    # Each attempt fails fast with a 503, the SDK retries with backoff: the deadline still
    # counts from the question, so the wait is bounded by it whatever the retries do.
    with ScriptedLLM(default=Reply(status=503)) as fake:
        settings = conftest_settings(
            data, **llm_kw(fake, llm_max_retries=50, first_token_deadline=2.0)
        )
        svc = open_llm_service(settings, embedder)
        try:
            t = time.monotonic()
            answer = svc.answer(QUESTION)
            took = time.monotonic() - t
        finally:
            svc.close()
    assert_late_fallback(answer, "The model had not started answering after 2 s")
    assert 2 <= len(fake.requests) < 50
    assert took < 2.0 + MARGIN


async def test_a_slow_stream_past_the_answer_deadline_is_replaced_by_quotes(
    data: Path, embedder: OnnxMiniLM
) -> None:
    with ScriptedLLM(default=Reply(text=SLOW, chunk_delay=0.25)) as fake:
        settings = conftest_settings(data, **llm_kw(fake, answer_deadline=2.5))
        svc = open_llm_service(settings, embedder)
        try:
            t = time.monotonic()
            events = [e async for e in svc.astream(QUESTION)]  # what the REPL consumes
            took = time.monotonic() - t
        finally:
            svc.close()
    deltas, final = events[:-1], events[-1]
    assert deltas and all(isinstance(d, str) for d in deltas), "the model's text streamed"
    assert isinstance(final, Answer)
    assert_late_fallback(final, "The model had not finished within 2.5 s")
    assert took < 2.5 + MARGIN


async def test_the_reader_gets_quotes_by_the_deadline_in_telegram(
    tmp_path: Path, data: Path, api: FakeBotAPI, hanging: ScriptedLLM
) -> None:
    settings = make_settings(data, api, **llm_kw(hanging, first_token_deadline=2.0))
    svc = Newsdesk.open(settings)
    try:
        async with running(settings, svc, api):
            private = api.push_text(31, QUESTION)
            group = api.push_text(-31, f"/ask {QUESTION}", user_id=32)
            reply = await answered(api, 31, private)
            in_group = await answered(api, -31, group)
    finally:
        svc.close()
    for sent, qid in ((reply, private), (in_group, group)):
        text = visible(sent)
        assert "Pistorius" in text and "[1]" in text
        assert "The model had not started answering after 2 s" in text
        assert sent.at - api.pushed_at[qid] < 2.0 + MARGIN
    typing = [c for c in api.calls_of("sendChatAction") if c.params["chat_id"] == "31"]
    assert typing and typing[0].at - api.pushed_at[private] < 1.0 + MARGIN / 2
    assert typing[0].at < reply.at, "typing… shows before the answer"


async def test_a_slow_stream_in_a_private_chat_ends_with_the_checked_quotes(
    data: Path, api: FakeBotAPI
) -> None:
    with ScriptedLLM(default=Reply(text=SLOW, chunk_delay=0.25)) as fake:
        settings = make_settings(data, api, **llm_kw(fake, answer_deadline=3.0))
        svc = Newsdesk.open(settings)
        try:
            async with running(settings, svc, api):
                qid = api.push_text(33, QUESTION)
                reply = await answered(api, 33, qid)
        finally:
            svc.close()
    drafts = [d for d in api.drafts if int(d["chat_id"]) == 33]
    assert drafts, "the model's text was shown as it came"
    text = visible(reply)
    assert "The model had not finished within 3 s" in text
    assert "Pistorius" in text and "not helpful at all" not in text
    assert reply.at - api.pushed_at[qid] < 3.0 + MARGIN
