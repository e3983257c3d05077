"""Inline mode and deep links: the real Application and service against the fake Bot API."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.telegram import deeplink
from retrieval.service import Newsdesk
from tests.auxil.counting_service import CountingService
from tests.auxil.fake_bot_api import FakeBotAPI, parse_telegram_html
from tests.auxil.llm_fakes import Reply, ScriptedLLM
from tests.test_telegram_bot import (
    QUESTION,
    answered,
    drained,
    make_settings,
    running,
    visible,
)

READER, STRANGER = 5, 6


@pytest.fixture
def service(seeded_service: Newsdesk) -> CountingService:
    return CountingService(seeded_service)


async def inline_answer(api: FakeBotAPI, query_id: str) -> dict[str, Any]:
    await api.wait_for(lambda: query_id in api.inline_answers, what=f"inline answer {query_id}")
    return api.inline_answers[query_id]


async def test_inline_query_answers_with_citations_and_strangers_get_none(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    settings = make_settings(tmp_path, api, allowed_user_ids=[READER])
    async with running(settings, service, api):
        got = await inline_answer(api, api.push_inline_query(READER, QUESTION))
        again = await inline_answer(api, api.push_inline_query(READER, QUESTION.upper()))
        computed = service.answers
        stranger = api.push_inline_query(STRANGER, QUESTION)
        typed = [api.push_inline_query(READER, "What did Germ"), api.push_inline_query(READER, "")]
        typed.append(api.push_inline_query(READER, "What did Germany say?"))
        await drained(api)
        await api.wait_for(lambda: typed[2] in api.inline_answers, what="the last query")
    results = got["results"]
    answer, sources = results[0], results[1:]
    message = answer["input_message_content"]
    text = parse_telegram_html(message["message_text"])
    assert text.startswith(QUESTION) and "Pistorius" in text and "[1]" in text
    assert "Sources" in text and "RFE/RL, 2024-03-05" in text
    assert "RFE/RL" in answer["description"] and "[1]" in answer["description"]
    assert sources and all(s["description"] for s in sources)
    assert got["is_personal"] in (True, "true", "True"), "no cached results for strangers"
    assert int(got["cache_time"]) == 60
    assert again["results"] == results and computed == 1, "cached per question"
    assert stranger not in api.inline_answers, "a stranger's inline query gets nothing"
    assert typed[0] not in api.inline_answers, "a query typed over is not answered"
    assert api.inline_answers[typed[1]]["results"] == []  # too short: a hint, no answer
    assert api.inline_answers[typed[2]]["results"]


async def test_inline_answers_are_extractive_even_with_an_llm(
    tmp_path: Path, api: FakeBotAPI, seeded_dir: Path
) -> None:
    data = tmp_path / "index"
    shutil.copytree(seeded_dir, data)
    with ScriptedLLM(default=Reply(hang=120)) as llm:
        settings = make_settings(
            data, api, llm="auto", openai_base_url=llm.base_url, openai_api_key="sk-test"
        )
        svc = Newsdesk.open(settings)
        try:
            async with running(settings, svc, api):
                got = await inline_answer(api, api.push_inline_query(READER, QUESTION))
                declined = await inline_answer(
                    api, api.push_inline_query(READER, "Who won the 1998 chess olympiad?")
                )
        finally:
            svc.close()
        assert not llm.requests, "inline mode never waits on the model"
    assert "Pistorius" in parse_telegram_html(
        got["results"][0]["input_message_content"]["message_text"]
    )
    # a question the coverage does not answer: no result, a button to ask in private
    assert declined["results"] == []
    start = declined["button"]["start_parameter"]
    link = deeplink.decode(start)
    assert link is not None and link.text == "Who won the 1998 chess olympiad?"


def test_deep_link_payloads_round_trip_within_telegrams_limit() -> None:
    for kind, text in (("question", QUESTION), ("alert", "Elm River footbridge")):
        payload = deeplink.encode(kind, text)  # type: ignore[arg-type]
        assert len(payload) <= 64 and payload.replace("-", "").replace("_", "").isalnum()
        assert deeplink.decode(payload) == deeplink.DeepLink(kind, text)  # type: ignore[arg-type]
    asked = "What did the Ukrainian president say about it? " * 3
    long = deeplink.decode(deeplink.encode("question", asked))
    assert long is not None and asked.startswith(long.text + " ")  # cut between two words
    assert long.text == "What did the Ukrainian president say about it?"
    assert deeplink.decode("q!!") is None and deeplink.decode("zAAAA") is None
    assert deeplink.decode("q" + "A" * 70) is None


async def test_deep_link_opens_with_a_question(
    tmp_path: Path, api: FakeBotAPI, service: CountingService
) -> None:
    async with running(make_settings(tmp_path, api), service, api):
        qid = api.push_text(READER, f"/start {deeplink.encode('question', QUESTION)}")
        reply = await answered(api, READER, qid)
    assert "Pistorius" in visible(reply) and "[1]" in visible(reply)
