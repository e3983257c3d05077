"""Ingest: idempotent, incremental, prune, bad input, model mismatch, index lock."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.errors import IndexInUseError, IndexMismatchError
from retrieval.service import Newsdesk
from retrieval.store import Store
from retrieval.types import ChunkMeta
from tests.conftest import SEEDS, make_settings, open_service


def _article(path: Path, title: str, body: str) -> Path:
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


def _live_chunks(svc: Newsdesk) -> list[tuple[str, str]]:
    reg = svc.store.registry()
    return [
        (m.doc_id, str(m.chunk))
        for _, m in svc.store.iter_chunk_meta()
        if reg[m.doc_id].version == m.version
    ]


def test_ingest_twice_writes_nothing_the_second_time(service: Newsdesk) -> None:
    first = service.ingest([SEEDS])
    assert (first.new, first.updated, first.unchanged) == (1, 0, 0)
    assert first.chunks >= 3
    ids_before = sorted(cid for cid, _ in service.store.iter_chunk_meta())
    second = service.ingest([SEEDS])
    assert (second.new, second.updated, second.unchanged, second.chunks) == (0, 0, 1, 0)
    assert not second.written
    assert sorted(cid for cid, _ in service.store.iter_chunk_meta()) == ids_before
    assert "1 unchanged" in second.summary()


def test_chunk_metadata_reads_back_what_was_stored(service: Newsdesk, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    body = " ".join(f"The harbour of Tallinn reopened after storm number {i}." for i in range(60))
    _article(src / "a.txt", "Harbour reopens", body)
    (src / "a.meta.yaml").write_text(
        "outlet: Baltic Times\npublished: 2022-06-13\nurl: https://example.org/harbour\n"
    )
    service.ingest([src])
    rec = service.store.registry()["a"]
    stored = service.store.chunks.get(include=["metadatas"])["metadatas"]
    assert len(stored) > 1
    for raw in stored:
        meta = ChunkMeta.from_chroma(raw)
        assert meta.to_chroma() == raw  # the typed record is the stored form, key for key
        assert (meta.doc_id, meta.version, meta.title, meta.outlet, meta.published, meta.url) == (
            "a", rec.version, "Harbour reopens", "Baltic Times", date(2022, 6, 13), rec.url
        )  # fmt: skip
    assert rec.url == "https://example.org/harbour"
    spans = sorted((m["chunk"], m["start"], m["end"]) for m in stored)
    assert spans[0][:2] == (0, 0) and [c for c, _, _ in spans] == list(range(len(spans)))


def test_chunk_metadata_tolerates_missing_and_bad_fields() -> None:
    assert ChunkMeta.from_chroma(None) == ChunkMeta("", "", 0, 0, 0, "", "", None, "")
    meta = ChunkMeta.from_chroma({"doc_id": "a", "chunk": 2, "published": "not a date"})
    assert (meta.doc_id, meta.chunk, meta.published, meta.published_ord) == ("a", 2, None, -1)
    assert ChunkMeta.from_chroma({"published": "2022-06-13"}).published == date(2022, 6, 13)


def test_edited_article_replaces_its_chunks(service: Newsdesk, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    f = _article(
        src / "a.txt",
        "Harbour reopens",
        "The harbour of Tallinn reopened on Monday, officials said.",
    )
    service.ingest([src])
    f.write_text(
        "Harbour stays shut\n\nThe harbour of Riga stayed shut on Tuesday, the mayor said.\n"
    )
    report = service.ingest([src])
    assert report.updated == 1 and report.new == 0
    texts = [t for _, t, _ in service.store.iter_chunks()]
    assert len(texts) == 1 and "Riga" in texts[0] and "Tallinn" not in texts[0]
    answer = service.answer("What happened to the harbour of Riga?")
    assert "Riga" in answer.answer
    assert service.answer("What happened in Tallinn?").refused


def test_prune_drops_articles_whose_source_is_gone(service: Newsdesk, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _article(src / "a.txt", "Bridge opens", "A new bridge opened in Vilnius, the city said.")
    b = _article(src / "b.txt", "Dam bursts", "A dam burst near Kaunas on Friday, rescuers said.")
    service.ingest([src])
    b.unlink()
    kept = service.ingest([src])  # without --prune nothing is dropped
    assert kept.pruned == 0 and service.stats().articles == 2
    pruned = service.ingest([src], prune=True)
    assert pruned.pruned == 1
    assert sorted(service.store.registry()) == ["a"]
    assert all(m.doc_id == "a" for _, m in service.store.iter_chunk_meta())


def test_bad_inputs_are_reported_and_the_rest_ingests(service: Newsdesk, tmp_path: Path) -> None:
    service.ingest([SEEDS])
    src = tmp_path / "bad"
    src.mkdir()
    (src / "empty.txt").write_bytes(b"")
    (src / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (src / "latin1.txt").write_bytes(
        "Café opens\n\nThe café in Tartu opened, its owner said.\n".encode("cp1252")
    )
    with (src / "huge.txt").open("wb") as fh:  # a 50 MB file
        fh.truncate(50 * 1024 * 1024)
        fh.seek(0)
        fh.write(b"Huge\n\n" + b"word " * 1000)
    lines = [
        json.dumps(
            {
                "id": "j1",
                "title": "Port strike",
                "text": "Dock workers in Gdansk went on strike, the union said.",
                "published": "2024-03-01",
            }
        ),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "j2", "text": ""}),
        json.dumps(
            {
                "doc_id": "j3",
                "title": None,
                "text": "Farmers in Lublin blocked roads, police said.",
                "publish_date": "2024/03/02",
                "url": "https://example.org/x",
                "authors": ["A. Writer"],
            }
        ),
    ]
    (src / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (src / "notes.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    report = service.ingest([src])
    reasons = {
        Path(s.split(":")[0]).name + (":" + s.split(":")[1] if ":" in s else ""): r
        for s, r in report.skipped
    }
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["binary.txt"]
    assert "too large" in reasons["huge.txt"]
    assert "malformed JSON" in reasons["feed.jsonl:2"]
    assert "not a JSON object" in reasons["feed.jsonl:3"]
    assert "no article text" in reasons["feed.jsonl:4"]
    assert "YAML" in reasons["notes.md"]
    assert any("Windows-1252" in why for _, why in report.warnings)
    assert report.new == 3  # latin1.txt, j1, j3
    docs = service.store.registry()
    assert {"latin1", "j1", "j3", "000_4b8ec6e6b5196a5a"} <= set(docs)  # nothing lost
    assert docs["j3"].outlet == "example.org" and docs["j3"].published is not None
    assert "café in Tartu" in service.answer("What opened in Tartu?").answer


def test_model_mismatch_says_how_to_rebuild(settings: Settings, embedder: OnnxMiniLM) -> None:
    svc = open_service(settings, embedder)
    svc.ingest([SEEDS])
    svc.close()
    with pytest.raises(IndexMismatchError) as err:
        Store(settings, "some-other-model", 768)
    assert "--rebuild" in err.value.user_message and "some-other-model" in err.value.user_message


def test_rebuild_after_mismatch(settings: Settings, embedder: OnnxMiniLM) -> None:
    svc = open_service(settings, embedder)
    svc.ingest([SEEDS])
    svc.rebuild()
    assert svc.stats().articles == 0
    svc.ingest([SEEDS])
    assert svc.stats().articles == 1
    svc.close()


def test_second_writer_gets_index_in_use(settings: Settings, embedder: OnnxMiniLM) -> None:
    reader = open_service(settings, embedder)
    other = Store(settings, embedder.model_id, embedder.dim)  # another holder of the lock
    try:
        with pytest.raises(IndexInUseError) as err:
            reader.ingest([SEEDS])
        assert "in use" in err.value.user_message
    finally:
        other.close()
    assert reader.ingest([SEEDS]).new == 1  # once the other is gone it works
    reader.close()


def test_bm25_matches_chroma_after_each_ingest(service: Newsdesk, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SEEDS / "000_4b8ec6e6b5196a5a.txt", src / "seed.txt")
    service.ingest([src])
    fp1 = service.retriever.fingerprint
    _article(src / "z.txt", "Zebra crossing", "Zebras crossed the river Daugava, keepers said.")
    service.ingest([src])
    assert service.retriever.fingerprint != fp1
    hits = service.retriever.search("zebras Daugava", system="bm25")
    assert hits and hits[0].meta.doc_id == "z"
    reopened = open_service(make_settings(service.settings.data_dir), service.embedder)  # type: ignore[arg-type]
    assert reopened.retriever.fingerprint == service.retriever.fingerprint
    reopened.close()
