"""Vector search in a date window: the same chunks as Chroma's `where` filter finds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from retrieval.datewindow import ChunkDates, nearest
from retrieval.embedding import OnnxMiniLM
from retrieval.service import Newsdesk
from retrieval.types import Article
from tests.conftest import make_settings, open_service

DAY0 = date(2022, 6, 1)
TOPICS = [
    "Ferry workers walked out over pay and buses replaced the ferries.",
    "A herd of zebras crossed the frozen river at dawn, keepers said.",
    "A suspension bridge opened after six years of work, the city said.",
    "A dam burst on Friday and rescuers moved two villages to higher ground.",
    "Schools began a measles vaccine drive, the health ministry announced.",
    "The harbour reopened on Monday once the ice had been broken up.",
]
QUESTIONS = ["Why did ferry workers strike?", "Which bridge opened?", "measles vaccine"]


def _articles() -> list[Article]:
    """Twelve articles a day apart, each long enough for a few chunks; one undated."""
    out = []
    for i in range(12):
        body = " ".join(
            f"{TOPICS[i % 6]} Paragraph {p} of report {i} adds detail." for p in range(40)
        )
        out.append(Article(f"a{i}", f"Report {i}", body, published=DAY0 + timedelta(days=i)))
    out.append(Article("undated", "Undated", TOPICS[0] * 3))
    return out


def _where(window: tuple[date, date]) -> dict[str, Any]:
    lo, hi = (d.toordinal() for d in window)
    return {"$and": [{"published_ord": {"$gte": lo}}, {"published_ord": {"$lte": hi}}]}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    """One small index for the module (the tests only read it)."""
    svc = open_service(make_settings(tmp_path_factory.mktemp("window") / "data"), embedder)
    svc.ingest_articles(_articles())
    yield svc
    svc.close()


def _filtered(
    svc: Newsdesk, vec: np.ndarray, n: int, window: tuple[date, date]
) -> tuple[list[str], list[float]]:
    """Ids and cosine distances of Chroma's `where`-filtered query."""
    res = svc.store.chunks.query(query_embeddings=[vec.tolist()], n_results=n, where=_where(window))
    return list(res["ids"][0]), list(res["distances"][0])


@pytest.mark.parametrize(
    "window",
    [
        (DAY0, DAY0),  # one article: few chunks, fewer than asked for
        (DAY0 + timedelta(days=3), DAY0 + timedelta(days=5)),  # narrow: ids query
        (DAY0 + timedelta(days=2), DAY0 + timedelta(days=11)),  # wide: unfiltered first
        (DAY0 - timedelta(days=99), DAY0 + timedelta(days=99)),  # every dated article
        (DAY0 - timedelta(days=9), DAY0 - timedelta(days=1)),  # nothing inside
    ],
)
@pytest.mark.parametrize("n", [3, 10, 100])
def test_equals_the_filtered_query(
    indexed: Newsdesk, embedder: OnnxMiniLM, window: tuple[date, date], n: int
) -> None:
    dates = ChunkDates(indexed.retriever.registry)
    for vec in embedder.embed(QUESTIONS):
        got = nearest(indexed.store, vec, n, window, dates)
        ids, distances = _filtered(indexed, vec, n, window)
        assert [h[0] for h in got] == ids
        assert [h[3] for h in got] == pytest.approx(distances, abs=1e-4)
        assert all(h[2].published and window[0] <= h[2].published <= window[1] for h in got)


def test_each_size_of_window_is_searched_its_own_way(
    indexed: Newsdesk, embedder: OnnxMiniLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int | None] = []  # the ids each Chroma query was limited to (None: all)
    query = indexed.store.query

    def spy(vector: np.ndarray, n: int, *, ids: Any = None) -> Any:
        calls.append(None if ids is None else len(ids))
        return query(vector, n, ids=ids)

    monkeypatch.setattr(indexed.store, "query", spy)
    dates = ChunkDates(indexed.retriever.registry)
    vec = embedder.embed(QUESTIONS[1:2])[0]  # the bridge: reports 2 and 8, inside each window

    def paths(first: int, last: int) -> list[int | None]:
        calls.clear()
        nearest(indexed.store, vec, 3, (DAY0 + timedelta(first), DAY0 + timedelta(last)), dates)
        return calls

    assert paths(1, 11) == [None]  # most of the index: the nearest 6 hold 3 inside it
    assert paths(2, 4) == [15]  # three articles of five chunks: Chroma among their ids
    assert paths(2, 2) == []  # five chunks (at most 2 x 3): ranked here


def test_search_honours_the_window(indexed: Newsdesk) -> None:
    window = (DAY0 + timedelta(days=6), DAY0 + timedelta(days=7))
    found = indexed.retriever.search("ferry workers strike", system="vector", window=window)
    assert found and {i.meta.doc_id for i in found} <= {"a6", "a7"}


class CountingEmbedder:
    """The real model, counting the texts it embeds."""

    def __init__(self, inner: OnnxMiniLM) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def test_empty_window_falls_back_to_all_coverage_embedding_once(
    indexed: Newsdesk, embedder: OnnxMiniLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = CountingEmbedder(embedder)
    monkeypatch.setattr(indexed.retriever, "embedder", counting)
    question = "Why did ferry workers walk out last week?"
    ans, result = indexed.answer_traced(question, as_of=date(2022, 9, 1))  # window: Aug 22-28
    assert not ans.refused and "from other reporting" in ans.note
    assert {p.doc_id for p in result.passages} & {"a0", "a6"}
    assert counting.texts.count(question) == 1  # the second search reuses the vector
    assert "window_retrieve_ms" in ans.timings_ms
