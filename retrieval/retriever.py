"""Hybrid retrieval: vector search (LlamaIndex over Chroma) + BM25, fused, with a recency prior."""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from llama_index.vector_stores.chroma import ChromaVectorStore

from retrieval.doc_bm25 import DocBM25
from retrieval.embedding import Embedder
from retrieval.store import ArticleRecord, Store
from retrieval.types import Passage

logger = logging.getLogger(__name__)

System = Literal["hybrid", "vector", "bm25"]
# Score fusion: each signal divided by its best value for the question, then a weighted mean
# (vector, chunk BM25, whole-article BM25), plus RECENCY_BETA * recency_weight. Measured on
# RealTime QA dev (docs/evaluation.md): about 0.01 MRR@10 above RRF, and weights from (1, 1, 2)
# to (3, 1, 3) do about as well there. The vector gets the largest weight because a best BM25
# match is always normalised to 1 however weak it is: in a small index of near-duplicate
# articles (low IDF) lexical scores alone would pick an unrelated article.
_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "hybrid": (3.0, 1.0, 2.0),
    "vector": (1.0, 0.0, 0.0),
    "bm25": (0.0, 1.0, 2.0),
}
RECENCY_BETA = 0.5
# Chunks taken from each side before fusion. 100 rather than 50: with the recency prior a
# recent article ranked 51-100 by relevance often belongs in the top 10 (RealTime QA dev).
CANDIDATES = 100
LIVE_TOLERANCE_DAYS = 1  # an article dated "tomorrow" in live use: another time zone
_META_KEYS = ("doc_id", "version", "chunk", "start", "end", "outlet", "published", "url")


@dataclass
class RetrievalResult:
    """Passages for the answerer and whether they are relevant enough to answer from."""

    passages: list[Passage]
    relevant: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str = ""


@dataclass
class Scored:
    """A candidate chunk during fusion."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    score: float = 0.0
    similarity: float = 0.0


def _published(meta: dict[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(meta.get("published") or "")) or None
    except ValueError:
        return None


def recency_weight(
    published: date | None,
    as_of: date | None,
    window_days: int,
    *,
    today: date | None = None,
) -> float:
    """Return a prior in [0, 1]: 1 for reporting in the `window_days` before `as_of`, fading after.

    Flat inside the window: fused RRF scores are compressed (rank 1 and rank 10 differ by
    0.002), so a prior that still falls inside the window reorders recent articles by date
    instead of relevance. Past the window it halves about every `window_days / 3` days.
    Articles dated after `as_of` could not have been read then and get 0, except for a one-day
    time-zone tolerance when `as_of` is today. Measured on RealTime QA dev (docs/evaluation.md).
    """
    if as_of is None or published is None or window_days <= 0:
        return 0.0
    age = (as_of - published).days
    if age < 0:
        live = as_of >= (today or date.today())
        return 1.0 if live and age >= -LIVE_TOLERANCE_DAYS else 0.0
    if age <= window_days:
        return 1.0
    return math.exp(-(age - window_days) / (window_days / 2))


class HybridRetriever:
    """Vector + BM25 over the live chunks of a Store."""

    def __init__(self, store: Store, embedder: Embedder, *, recency_days: int = 14) -> None:
        self.store = store
        self.embedder = embedder
        self.recency_days = recency_days
        self.recency_boost = RECENCY_BETA
        self.vector_store = ChromaVectorStore(chroma_collection=store.chunks)
        self._lock = threading.Lock()
        self._bm25: Any = None
        self._docs: DocBM25 | None = None
        self._registry: dict[str, ArticleRecord] = {}
        self.fingerprint = ""
        self.refresh()

    # --- index state -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the registry and make BM25 match exactly what Chroma holds."""
        registry = self.store.registry()
        fingerprint = _fingerprint(registry)
        with self._lock:
            if fingerprint == self.fingerprint and self._bm25 is not None:
                return
            self._registry = registry
            if registry:
                self._bm25, self._docs = self._load_bm25(registry, fingerprint)
            else:
                self._bm25, self._docs = None, None
            self.fingerprint = fingerprint

    @property
    def registry(self) -> dict[str, ArticleRecord]:
        return self._registry

    def _bm25_dir(self) -> Path:
        return self.store.settings.data_dir / "bm25" / self.store.settings.collection

    def _load_bm25(
        self, registry: dict[str, ArticleRecord], fingerprint: str
    ) -> tuple[Any, DocBM25 | None]:
        """Return chunk-level and document-level BM25, from the cache when it is there."""
        from llama_index.retrievers.bm25 import BM25Retriever

        base = self._bm25_dir()
        path = base / fingerprint
        if (path / "retriever.json").is_file():
            try:
                cached = BM25Retriever.from_persist_dir(str(path), show_progress=False, mmap=True)
                docs = DocBM25.load(path / "docs")
                if docs is not None:
                    n = int(cached.bm25.scores["num_docs"])
                    cached.similarity_top_k = min(CANDIDATES * 2, n)
                    return cached, docs
            except Exception as exc:  # a damaged cache is rebuilt, never trusted
                logger.warning("rebuilding BM25 cache %s: %s", path, exc)
        started = time.perf_counter()
        live = [
            (cid, text, meta)
            for cid, text, meta in self.store.iter_chunks()
            if (rec := registry.get(str(meta.get("doc_id")))) and rec.version == meta.get("version")
        ]
        nodes: list[BaseNode] = [_node(cid, text, meta) for cid, text, meta in live]
        if not nodes:
            return None, None
        bm25 = BM25Retriever.from_defaults(
            nodes=nodes, similarity_top_k=min(CANDIDATES * 2, len(nodes)), language="en"
        )
        docs = DocBM25.build(live)
        # Write beside, then rename: a reader never sees a half-written cache.
        tmp = base / f".tmp-{fingerprint}-{threading.get_ident()}"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            bm25.persist(str(tmp), show_progress=False)
            if docs is not None:
                docs.save(tmp / "docs")
            shutil.rmtree(path, ignore_errors=True)
            tmp.rename(path)
            for old in base.iterdir():
                if old.name != fingerprint and not old.name.startswith(".tmp"):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            logger.warning("could not persist BM25 cache: %s", exc)
        logger.debug(
            "BM25 built over %d chunks in %.2f s", len(nodes), time.perf_counter() - started
        )
        return bm25, docs

    # --- search ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        as_of: date | None = None,
        system: System = "hybrid",
        candidates: int = CANDIDATES,
        window: tuple[date, date] | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[Scored]:
        """Return live chunks best first, fused and with the recency prior applied."""
        timings = timings if timings is not None else {}
        with self._lock:
            registry, bm25, docs = self._registry, self._bm25, self._docs
        if not registry:
            return []
        found: dict[str, Scored] = {}
        cosine: dict[str, float] = {}  # chunk id -> cosine similarity to the question
        lexical: dict[str, float] = {}  # chunk id -> chunk BM25 score
        vec: Any = None
        if system in ("hybrid", "vector"):
            t = time.perf_counter()
            vec = self.embedder.embed([query])[0]
            timings["embed_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            res = self.vector_store.query(
                VectorStoreQuery(query_embedding=vec.tolist(), similarity_top_k=candidates),
                where=_window_where(window),
            )
            live = self._live(
                (n.node_id, n.get_content(), dict(n.metadata), s)
                for n, s in zip(res.nodes or [], res.similarities or [], strict=False)
            )
            for cid, text, meta, sim in live:
                item = found.setdefault(cid, Scored(cid, text, meta))
                # ChromaVectorStore reports exp(-distance); cosine distance = 1 - cos.
                item.similarity = 1.0 + math.log(max(sim, 1e-12))
                cosine[cid] = item.similarity
            timings["vector_ms"] = (time.perf_counter() - t) * 1000
        doc_scores: dict[str, float] = {}
        if system in ("hybrid", "bm25") and bm25 is not None:
            t = time.perf_counter()
            hits: list[NodeWithScore] = bm25.retrieve(QueryBundle(query_str=query))
            live_b = self._live(
                (h.node.node_id, h.node.get_content(), dict(h.node.metadata), h.score or 0.0)
                for h in hits
                if _in_window(h.node.metadata, window)
            )
            for cid, text, meta, score in live_b[:candidates]:
                found.setdefault(cid, Scored(cid, text, meta))
                lexical[cid] = score
            if docs is not None:
                doc_scores = docs.normalized_scores(query, window)
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        if system == "hybrid" and vec is not None:
            self._stored_cosine(vec, [c for c in found if c not in cosine], cosine, found)
        weights = _WEIGHTS[system]
        top_cos = max((max(v, 0.0) for v in cosine.values()), default=0.0) or 1.0
        top_lex = max(lexical.values(), default=0.0) or 1.0
        total = sum(weights)
        for cid, item in found.items():
            doc_id = str(item.meta.get("doc_id"))
            fused = (
                weights[0] * max(cosine.get(cid, 0.0), 0.0) / top_cos
                + weights[1] * lexical.get(cid, 0.0) / top_lex
                + weights[2] * doc_scores.get(doc_id, 0.0)
            ) / total
            w = recency_weight(_published(item.meta), as_of, self.recency_days)
            item.score = fused + self.recency_boost * w
        return sorted(found.values(), key=lambda s: s.score, reverse=True)

    def _stored_cosine(
        self, vec: Any, ids: list[str], cosine: dict[str, float], found: dict[str, Scored]
    ) -> None:
        """Cosine of the question with the stored vectors of chunks only BM25 found."""
        if not ids:
            return
        got = self.store.chunks.get(ids=ids, include=["embeddings"])
        embeddings = got.get("embeddings")
        if embeddings is None:
            return
        for cid, emb in zip(got["ids"], embeddings, strict=False):
            sim = float(np.dot(np.asarray(emb, dtype=np.float32), vec))
            cosine[cid] = sim
            found[cid].similarity = sim

    def _live(self, rows: Any) -> list[tuple[str, str, dict[str, Any], float]]:
        """Keep only chunks of the current version of a registered article."""
        out = []
        for cid, text, meta, score in rows:
            rec = self._registry.get(str(meta.get("doc_id")))
            if rec is not None and rec.version == meta.get("version"):
                out.append((cid, text, meta, float(score)))
        return out

    def similarity(self, query: str, items: list[Scored]) -> None:
        """Fill in cosine similarity for candidates found only by BM25."""
        missing = [i for i in items if i.similarity == 0.0]
        if not missing:
            return
        vecs = self.embedder.embed([query] + [i.text for i in missing])
        for item, vec in zip(missing, vecs[1:], strict=True):
            item.similarity = float(vecs[0] @ vec)

    def ranked_docs(
        self, query: str, *, as_of: date | None = None, system: System = "hybrid", k: int = 10
    ) -> list[str]:
        """Rank documents by their best chunk (for evaluation)."""
        docs: list[str] = []
        for item in self.search(
            query, as_of=as_of, system=system, candidates=max(CANDIDATES, k * 8)
        ):
            doc_id = str(item.meta.get("doc_id"))
            if doc_id not in docs:
                docs.append(doc_id)
            if len(docs) >= k:
                break
        return docs


def to_passage(item: Scored) -> Passage:
    """Turn a fused candidate into a citable Passage."""
    m = item.meta
    return Passage(
        chunk_id=item.chunk_id,
        doc_id=str(m.get("doc_id", "")),
        text=item.text,
        title=str(m.get("title", "")),
        outlet=str(m.get("outlet", "")),
        published=_published(m),
        url=str(m.get("url", "")),
        start=int(m.get("start", 0) or 0),
        end=int(m.get("end", 0) or 0),
        score=item.score,
        similarity=item.similarity,
    )


def _node(cid: str, text: str, meta: dict[str, Any]) -> TextNode:
    node = TextNode(id_=cid, text=text, metadata=meta)
    # BM25 indexes the headline with the chunk, nothing else of the metadata.
    node.excluded_embed_metadata_keys = [k for k in meta if k != "title"]
    node.excluded_llm_metadata_keys = list(meta)
    return node


def _fingerprint(registry: dict[str, ArticleRecord]) -> str:
    h = hashlib.sha1()
    for doc_id in sorted(registry):
        h.update(f"{doc_id}\x00{registry[doc_id].version}\x01".encode())
    return h.hexdigest()[:16]


def _window_where(window: tuple[date, date] | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "$and": [
            {"published_ord": {"$gte": window[0].toordinal()}},
            {"published_ord": {"$lte": window[1].toordinal()}},
        ]
    }


def _in_window(meta: dict[str, Any], window: tuple[date, date] | None) -> bool:
    if window is None:
        return True
    d = _published(meta)
    return d is not None and window[0] <= d <= window[1]
