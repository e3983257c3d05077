"""Chroma server mode: start without reading every chunk, catch up incrementally, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrieval.embedding import OnnxMiniLM
from retrieval.errors import StoreUnavailableError
from retrieval.store import Store
from retrieval.types import Article
from tests.conftest import SEEDS, make_settings, open_service, start_chroma, stop_chroma

QUESTION = "Which news agency quoted Sergei Naryshkin?"


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Fail on a full scan of the chunks; record which data dir read back which articles."""
    reads: list[tuple[str, list[str]]] = []
    real = Store.chunks_of

    def full_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("read every chunk from the server")

    def chunks_of(self: Store, doc_ids: Any) -> Any:
        reads.append((self.settings.data_dir.name, list(doc_ids)))
        return real(self, doc_ids)

    monkeypatch.setattr(Store, "iter_chunks", full_scan)
    monkeypatch.setattr(Store, "iter_chunk_meta", full_scan)
    monkeypatch.setattr(Store, "chunks_of", chunks_of)
    return reads


def test_a_bot_starts_without_reading_chunks_and_catches_up_incrementally(
    tmp_path: Path,
    chroma_server: tuple[str, int],
    embedder: OnnxMiniLM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, port = chroma_server
    kw: dict[str, Any] = {"chroma_host": host, "chroma_port": port, "collection": "startup"}
    writer = open_service(make_settings(tmp_path / "writer", **kw), embedder)
    writer.ingest([SEEDS])
    bot_settings = make_settings(tmp_path / "bot", **kw)
    open_service(bot_settings, embedder).close()  # the bot's first start builds its BM25

    reads = _count_reads(monkeypatch)
    bot = open_service(bot_settings, embedder)  # a restart reads no chunk back
    assert "RIA Novosti" in bot.answer(QUESTION).answer
    assert reads == []
    # Another host adds an article: the bot reads back that one only.
    writer.ingest_articles(
        [Article(doc_id="zoo", title="Zebras", text="Zebras crossed the Daugava at dawn.")]
    )
    bot.retriever.refresh()
    assert [ids for who, ids in reads if who == "bot"] == [["zoo"]]
    assert bot.retriever.search("zebras Daugava", system="bm25")[0].meta.doc_id == "zoo"
    bot.close()
    writer.close()


def test_a_server_that_goes_away_gives_a_clear_error(tmp_path: Path, embedder: OnnxMiniLM) -> None:
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    proc, port = start_chroma(server_dir)
    settings = make_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=port)
    try:
        svc = open_service(settings, embedder)
        svc.ingest([SEEDS])
    finally:
        stop_chroma(proc)
    with pytest.raises(StoreUnavailableError) as err:
        svc.answer(QUESTION)
    assert "not reachable" in err.value.user_message
    assert f"127.0.0.1:{port}" in err.value.user_message
    svc.close()


def test_only_known_chroma_failures_become_store_errors(
    seeded_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chromadb.errors

    chunks = seeded_service.store.chunks

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise chromadb.errors.InternalError("Error executing plan: segment gone")

    monkeypatch.setattr(chunks, "query", broken)
    with pytest.raises(StoreUnavailableError):
        seeded_service.answer(QUESTION)

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("our own bug")

    monkeypatch.setattr(chunks, "query", bug)
    with pytest.raises(KeyError):  # never hidden behind a friendly message
        seeded_service.answer(QUESTION)
