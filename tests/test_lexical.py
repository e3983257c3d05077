"""The persistent lexical index: incremental writes equal a rebuild, repairs, snapshots."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.lexical import LexicalIndex, rebuild_text
from retrieval.lexical_search import LexicalView
from retrieval.retriever import _fingerprint
from retrieval.service import Newsdesk
from retrieval.types import ChunkMeta
from tests.conftest import open_service

TOPICS = {
    "ferry": "Ferry workers in Port Elm walked out over pay; buses replaced the ferries.",
    "zoo": "Keepers at the Riga zoo said a herd of zebras crossed the frozen Daugava at dawn.",
    "bridge": "A new suspension bridge opened in Vilnius after six years of work, the city said.",
    "dam": "A dam burst near Kaunas on Friday and rescuers moved two villages to higher ground.",
    "vaccine": "Estonia began a measles vaccine drive in schools, the health ministry announced.",
    "harbour": "The harbour of Tallinn reopened on Monday once the ice had been broken up.",
    "festival": "The song festival in Tartu drew forty thousand singers despite the rain.",
    "railway": "Rail Baltica laid the first track near Parnu, linking it to the Polish border.",
}
QUESTIONS = [
    "Why did ferry workers strike?",
    "zebras crossing the Daugava",
    "Which bridge opened in Vilnius?",
    "dam burst Kaunas rescuers",
    "measles vaccine schools",
    "song festival singers rain",
    "first track of the railway",
]


def _write_articles(src: Path, names: list[str], suffix: str = "") -> None:
    src.mkdir(exist_ok=True)
    for name in names:
        body = " ".join(f"{TOPICS[name]} Paragraph {i} repeats it{suffix}." for i in range(6))
        (src / f"{name}.txt").write_text(f"{name.title()} news{suffix}\n\n{body}\n")


def _ranking(view: LexicalView, registry_ids: list[str]) -> list[object]:
    """Top chunks and the article order for every question."""
    out: list[object] = []
    for q in QUESTIONS:
        terms = view.terms(q)
        out.append([(h.doc_id, h.version) for h in view.top_chunks(terms, 5)])
        _, scores = view.article_scores(terms, registry_ids)
        out.append(sorted(scores, key=lambda d: -scores[d])[:3])
    return out


def _assert_matches_rebuild(svc: Newsdesk, tmp: Path) -> None:
    registry = svc.store.registry()
    versions = {d: r.version for d, r in registry.items()}
    view = svc.retriever.lexical.view()
    assert view.versions() == versions  # exactly the registered version of every article
    fresh = LexicalIndex(tmp / f"rebuilt-{len(list(tmp.iterdir()))}")
    fresh.sync(versions, _fingerprint(registry), svc.store.chunks_of)
    assert _ranking(view, sorted(versions)) == _ranking(fresh.view(), sorted(versions))
    fresh.close()


def test_incremental_add_replace_prune_equal_a_rebuild(service: Newsdesk, tmp_path: Path) -> None:
    src, scratch = tmp_path / "src", tmp_path / "scratch"
    scratch.mkdir()
    _write_articles(src, ["ferry", "zoo", "bridge", "dam", "vaccine"])
    service.ingest([src])
    _assert_matches_rebuild(service, scratch)
    _write_articles(src, ["festival"])  # add
    assert service.ingest([src]).new == 1
    _assert_matches_rebuild(service, scratch)
    _write_articles(src, ["zoo"], suffix=" again")  # replace
    assert service.ingest([src]).updated == 1
    _assert_matches_rebuild(service, scratch)
    (src / "dam.txt").unlink()  # prune
    assert service.ingest([src], prune=True).pruned == 1
    _assert_matches_rebuild(service, scratch)
    hits = service.retriever.search("dam burst Kaunas", system="bm25")
    assert all(h.meta.doc_id != "dam" for h in hits)


def test_a_stale_copy_is_repaired_at_open(
    settings: Settings, embedder: OnnxMiniLM, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    _write_articles(src, ["ferry", "zoo", "bridge"])
    svc = open_service(settings, embedder)
    svc.ingest([src])
    svc.close()
    lexical = settings.data_dir / "lexical"
    backup = tmp_path / "lexical-backup"
    shutil.copytree(lexical, backup)
    svc = open_service(settings, embedder)
    _write_articles(src, ["railway"])
    _write_articles(src, ["zoo"], suffix=" later")
    (src / "ferry.txt").unlink()
    svc.ingest([src], prune=True)
    svc.close()
    shutil.rmtree(lexical)
    shutil.copytree(backup, lexical)  # as if the lexical index had missed the last ingest
    svc = open_service(settings, embedder)  # extras, stale versions and missing ones repaired
    (tmp_path / "scratch").mkdir()
    _assert_matches_rebuild(svc, tmp_path / "scratch")
    assert svc.retriever.search("railway track", system="bm25")[0].meta.doc_id == "railway"
    svc.close()


def test_an_interrupted_lexical_write_is_repaired(
    settings: Settings, embedder: OnnxMiniLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    _write_articles(src, ["ferry", "zoo"])
    svc = open_service(settings, embedder)
    svc.ingest([src])

    def crash(doc_ids: object) -> list[object]:
        raise RuntimeError("killed while reading chunks back")

    monkeypatch.setattr(svc.store, "chunks_of", crash)
    _write_articles(src, ["bridge", "dam"])
    with pytest.raises(RuntimeError):
        svc.ingest([src])
    state = json.loads((settings.data_dir / "lexical" / "newsdesk" / "state.json").read_text())
    assert sorted(state["pending"]) == ["bridge", "dam"] and state["fingerprint"] == ""
    svc.close()
    monkeypatch.undo()
    reopened = open_service(settings, embedder)
    (tmp_path / "scratch").mkdir()
    _assert_matches_rebuild(reopened, tmp_path / "scratch")
    assert reopened.retriever.search("bridge Vilnius", system="bm25")[0].meta.doc_id == "bridge"
    reopened.close()


def test_a_damaged_index_is_rebuilt(
    settings: Settings, embedder: OnnxMiniLM, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    _write_articles(src, ["ferry", "zoo"])
    svc = open_service(settings, embedder)
    svc.ingest([src])
    svc.close()
    for meta in (settings.data_dir / "lexical").rglob("meta.json"):
        meta.write_text("{not json")
    svc = open_service(settings, embedder)
    assert svc.retriever.search("zebras Daugava", system="bm25")[0].meta.doc_id == "zoo"
    svc.close()


def test_window_and_article_scores(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex")
    chunks = {
        "old": [("old::v::0000", "Ferries stopped in the old harbour.", "2021-01-01")],
        "new": [("new::v::0000", "Ferries stopped again in the harbour.", "2022-06-13")],
    }

    def load(doc_ids: object) -> list[tuple[str, str, ChunkMeta]]:
        return [
            (cid, text, ChunkMeta(d, "v", 0, 0, len(text), "", "", date.fromisoformat(day), ""))
            for d, rows in chunks.items()
            for cid, text, day in rows
        ]

    assert index.sync({"old": "v", "new": "v"}, "fp1", load)
    assert not index.sync({"old": "v", "new": "v"}, "fp1", load)  # nothing to do
    view = index.view()
    terms = view.terms("the ferries")
    assert terms == ["ferri"]  # stop words out, Snowball stems
    assert {h.doc_id for h in view.top_chunks(terms, 5)} == {"old", "new"}
    window = (date(2022, 6, 1), date(2022, 6, 30))
    assert [h.doc_id for h in view.top_chunks(terms, 5, window)] == ["new"]
    best, scores = view.article_scores(terms, ["old"], window)
    assert best > 0 and scores == {}  # "old" is outside the window
    assert view.top_chunks(view.terms("the of and"), 5) == []  # only stop words
    index.close()


def test_rebuild_text_drops_overlap() -> None:
    text = "Ferry workers walked out. The union wants more pay. Buses replaced the ferries."
    # Chunks [0, 50) and [26, 79) overlap by one sentence; out of order on purpose.
    pieces = [(1, 26, 79, text[26:79]), (0, 0, 50, text[0:50])]
    assert rebuild_text(pieces) == text[0:50] + " " + text[50:79]


def test_the_hybrid_retriever_serves_llamaindex(seeded_service: Newsdesk) -> None:
    from retrieval.llama import NewsdeskRetriever

    nodes = NewsdeskRetriever(seeded_service.retriever, top_k=3).retrieve(
        "What did Germany say about Macron's remarks?"
    )
    assert 0 < len(nodes) <= 3
    assert "Pistorius" in " ".join(n.node.get_content() for n in nodes)
    assert nodes[0].score is not None and "lexical" in nodes[0].node.metadata
