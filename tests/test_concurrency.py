"""Writers in threads take turns and lose nothing; readers never see a half-written index."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.errors import IndexInUseError
from retrieval.locks import IndexLock
from retrieval.service import Newsdesk
from retrieval.store import Store
from retrieval.types import Article
from tests.conftest import open_service

CITIES = ["Tallinn", "Riga", "Vilnius", "Gdansk", "Tartu", "Kaunas", "Turku", "Oulu"]


def _text(i: int, round_: int, who: str) -> str:
    city = CITIES[i % len(CITIES)]
    return " ".join(
        f"Sentence {j} of report {i} from {city}, edition {round_} by the {who} desk: the "
        f"council met {i + j} times about the harbour and the trams."
        for j in range(3)
    )


def _assert_every_article_has_exactly_its_chunks(svc: Newsdesk) -> None:
    registry = svc.store.registry()
    metas = [m for _, m in svc.store.iter_chunk_meta()]
    per_doc = Counter(m.doc_id for m in metas)
    for doc_id, rec in registry.items():
        assert per_doc[doc_id] == rec.chunks, doc_id
    assert all(registry[m.doc_id].version == m.version for m in metas)  # no orphans
    assert svc.retriever.lexical.view().versions() == {d: r.version for d, r in registry.items()}


def test_upload_and_follower_ingests_in_threads_lose_nothing(
    service: Newsdesk, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def upload() -> None:  # /ingest of files: articles 0-5 (doc ids are the file names)
        try:
            start.wait()
            for round_ in range(2):
                for i in range(6):
                    (uploads / f"a{i}.txt").write_text(
                        f"Upload {i}\n\n{_text(i, round_, 'upload')}\n"
                    )
                service.ingest([uploads])
        except BaseException as exc:
            errors.append(exc)

    def follower() -> None:  # a feed round: articles 3-8, overlapping the upload's 3-5
        try:
            start.wait()
            for round_ in range(2):
                batch = [
                    Article(doc_id=f"a{i}", title=f"Feed {i}", text=_text(i, round_, "feed"))
                    for i in range(3, 9)
                ]
                service.ingest_articles(batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upload), threading.Thread(target=follower)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(service.store.registry()) == sorted(f"a{i}" for i in range(9))
    _assert_every_article_has_exactly_its_chunks(service)


def test_searches_during_ingests_see_the_old_or_the_new_index(
    seeded_service: Newsdesk, tmp_path: Path
) -> None:
    svc = seeded_service
    question = "What did the council decide about the harbour trams of Riga?"
    svc.ingest_articles([Article(doc_id="riga", title="Riga trams", text=_text(1, 0, "city"))])
    done = threading.Event()
    seen: list[tuple[str, ...]] = []
    errors: list[BaseException] = []

    def reader() -> None:
        while not done.is_set():
            try:
                hits = svc.retriever.search(question)
            except BaseException as exc:
                errors.append(exc)
                return
            seen.append(tuple(sorted({h.meta.version for h in hits if h.meta.doc_id == "riga"})))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(1, 4):  # replace the article, and add others, while the reader reads
            svc.ingest_articles(
                [
                    Article(doc_id="riga", title="Riga trams", text=_text(1, round_, "city")),
                    Article(doc_id=f"extra{round_}", title="Extra", text=_text(round_, 0, "x")),
                ]
            )
            time.sleep(0.05)
    finally:
        done.set()
        thread.join()
    assert not errors
    assert seen and all(len(versions) == 1 for versions in seen)  # always there, one version


def test_writer_threads_take_turns(service: Newsdesk) -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    def write(n: int) -> None:
        with service.store.writing():
            if inside:
                overlaps.append(n)
            inside.append(n)
            with service.store.writing():  # re-entrant in the same thread
                time.sleep(0.05)
            inside.remove(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []


def test_a_refused_writer_keeps_its_reader_lock(settings: Settings, embedder: OnnxMiniLM) -> None:
    svc = open_service(settings, embedder)
    other = Store(settings, embedder.model_id, embedder.dim)  # another reader
    with pytest.raises(IndexInUseError):
        svc.ingest_articles([Article(doc_id="x", title="X", text="Some text about x.")])
    other.close()
    probe = IndexLock(settings.data_dir / "index.lock")
    with pytest.raises(IndexInUseError):  # svc still holds its shared lock
        probe.acquire(exclusive=True)
    svc.close()
    probe.acquire(exclusive=True)
    probe.close()


def test_counting_tokens_does_not_disturb_embedding(embedder: OnnxMiniLM) -> None:
    texts = [_text(i, 0, "count") * 5 for i in range(4)]  # longer than the model's 256 tokens
    reference = embedder.embed(texts)
    assert embedder.count_tokens("word " * 600) == 600  # no truncation, no padding
    assert embedder.count_tokens("word") == 1
    stop = threading.Event()
    counts: list[int] = []

    def count() -> None:
        while not stop.is_set():
            counts.append(embedder.count_tokens(texts[0]))

    thread = threading.Thread(target=count)
    thread.start()
    try:
        for _ in range(2):
            assert abs(embedder.embed(texts) - reference).max() < 1e-5
    finally:
        stop.set()
        thread.join()
    assert len(set(counts)) == 1 and counts[0] > 256
