"""The LLM client's faults against the scripted server: 429, 5xx, hangs and stream cuts.

Retries before the answer starts are the openai SDK's (NEWSDESK_LLM_MAX_RETRIES); a stream
cut mid-answer gets one retry of ours; then the extractive answer, with a note.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import LLMError
from retrieval.llm.answerer import LLMAnswerer
from retrieval.llm.client import ChatClient
from retrieval.types import Passage
from tests.auxil.llm_fakes import Reply, ScriptedLLM
from tests.conftest import llm_settings
from tests.test_llm_fake import GOOD, QUESTION, assert_extractive_fallback, assert_verified, collect


def test_429_then_success_honours_retry_after(fake: ScriptedLLM) -> None:
    # The SDK's own backoff for a first retry is under 0.5 s: a longer gap is Retry-After's.
    fake.push(Reply(status=429, headers={"Retry-After": "1.2"}), Reply(text="fine"))
    client = ChatClient(base_url=fake.base_url, api_key="k", model="test-model")
    completion = client.complete([{"role": "user", "content": "hi"}])
    client.close()
    assert completion.text == "fine" and completion.attempts == 1  # the SDK retried
    assert len(fake.requests) == 2
    assert fake.arrived[1] - fake.arrived[0] >= 1.2


def test_5xx_is_retried_by_the_sdk_then_gives_up(fake: ScriptedLLM) -> None:
    fake.push(*[Reply(status=503) for _ in range(4)])
    client = ChatClient(base_url=fake.base_url, api_key="k", model="test-model", max_retries=2)
    with pytest.raises(LLMError) as info:
        client.complete([{"role": "user", "content": "hi"}])
    client.close()
    assert len(fake.requests) == 3  # NEWSDESK_LLM_MAX_RETRIES=2: the SDK's retries
    assert "HTTP 503" in info.value.user_message


def test_retry_after_longer_than_the_timeout_is_not_waited_for(
    tmp_path: Path, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    llm = LLMAnswerer(llm_settings(tmp_path, fake, llm_timeout=2.0))
    fake.push(Reply(status=429, headers={"Retry-After": "600"}))
    try:
        answer = llm.answer(QUESTION, passages)
    finally:
        llm.close()
    assert len(fake.requests) == 1
    assert_extractive_fallback(answer, "rate limiting")


def test_429_then_success_end_to_end(
    llm: LLMAnswerer, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    fake.push(Reply(status=429, headers={"Retry-After": "0.1"}), Reply(text=GOOD))
    answer = llm.answer(QUESTION, passages)
    assert_verified(answer, passages)
    assert len(fake.requests) == 2


def test_hang_past_the_timeout_is_retried_once(
    tmp_path: Path, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    # A request that times out is retried by the SDK, NEWSDESK_LLM_MAX_RETRIES times.
    llm = LLMAnswerer(llm_settings(tmp_path, fake, llm_timeout=1.5, llm_max_retries=1))
    try:
        fake.push(Reply(hang=10), Reply(text=GOOD))
        answer = llm.answer(QUESTION, passages)
        assert_verified(answer, passages)
        assert len(fake.requests) == 2

        fake.push(Reply(hang=10), Reply(hang=10), Reply(text=GOOD))
        answer = llm.answer(QUESTION, passages)
    finally:
        llm.close()
    assert len(fake.requests) == 4  # one retry, not more
    assert_extractive_fallback(answer, "did not answer within 1.5 s")


async def test_stream_cut_after_three_chunks_is_retried_once(
    llm: LLMAnswerer, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    fake.push(Reply(text=GOOD, cut_after=3), Reply(text=GOOD))
    deltas, answer = await collect(llm, passages)
    assert_verified(answer, passages)
    assert len(fake.requests) == 2
    # What streamed is the model text once, not the cut attempt and then the retry.
    assert "".join(deltas) == GOOD


async def test_stream_cut_twice_falls_back_with_a_note(
    llm: LLMAnswerer, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    fake.push(Reply(text=GOOD, cut_after=3), Reply(text=GOOD, cut_after=3))
    _, answer = await collect(llm, passages)
    assert_extractive_fallback(answer, "cut the answer off")
    assert len(fake.requests) == 2


def test_stream_cut_in_the_sync_path(
    llm: LLMAnswerer, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    fake.push(Reply(text=GOOD, cut_after=3), Reply(text=GOOD, cut_after=3))
    answer = llm.answer(QUESTION, passages)
    assert_extractive_fallback(answer, "cut the answer off")


async def test_astream_yields_deltas_then_the_verified_answer(
    llm: LLMAnswerer, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    long = GOOD + " He spoke at a press conference in Stockholm [2]."
    fake.push(Reply(text=long))
    deltas, answer = await collect(llm, passages)
    assert len(deltas) >= 2 and "".join(deltas) == long
    assert_verified(answer, passages)


async def test_astream_hang_falls_back(
    tmp_path: Path, fake: ScriptedLLM, passages: list[Passage]
) -> None:
    llm = LLMAnswerer(llm_settings(tmp_path, fake, llm_timeout=0.5, llm_max_retries=1))
    fake.push(Reply(hang=10), Reply(hang=10))
    try:
        _, answer = await collect(llm, passages)
    finally:
        llm.close()
    assert_extractive_fallback(answer, "did not answer within")
