"""Hybrid retrieval: vector search (Chroma) + BM25 (Tantivy), fused, with a recency prior."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from retrieval.datewindow import ChunkDates, nearest
from retrieval.embedding import Embedder
from retrieval.errors import NewsdeskError
from retrieval.lexical import LexicalIndex
from retrieval.lexical_search import LexicalView
from retrieval.snapshot import Published
from retrieval.store import ArticleRecord, Store
from retrieval.types import ChunkMeta, Passage

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
# Question vectors kept: a question whose time phrase's window holds no answer is searched
# again without it (service.py), and embedding it again cost 15-40 ms of a 250 ms budget.
QUERY_VECTORS = 64


@dataclass
class RetrievalResult:
    """Passages for the answerer and whether they are relevant enough to answer from."""

    passages: list[Passage]
    relevant: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str = ""


@dataclass
class Scored:
    """A candidate chunk during fusion.

    `lexical` is the chunk's BM25 score and `article_lexical` its article's (raw Tantivy
    BM25, 0 when the words do not occur); fusion divides each by the question's best.
    """

    chunk_id: str
    text: str
    meta: ChunkMeta
    score: float = 0.0
    similarity: float = 0.0
    lexical: float = 0.0
    article_lexical: float = 0.0


@dataclass(frozen=True)
class IndexView:
    """What one search reads: the registry and the lexical snapshot, published together."""

    registry: dict[str, ArticleRecord]
    fingerprint: str
    lexical: LexicalView

    @functools.cached_property
    def dates(self) -> ChunkDates:
        """The live chunks by date, built by the first windowed search of this view."""
        return ChunkDates(self.registry)


def recency_weight(
    published: date | None,
    as_of: date | None,
    window_days: int,
    *,
    today: date | None = None,
) -> float:
    """Return a prior in [0, 1]: 1 for reporting in the `window_days` before `as_of`, fading after.

    Flat inside the window: a prior that still falls inside it would reorder recent articles
    by date instead of relevance. Past the window it halves about every `window_days / 3` days.
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
        self.lexical = LexicalIndex(store.lexical_dir())
        self._refresh_lock = threading.Lock()  # refreshes wait for each other, readers never
        self._refreshed = time.monotonic()
        self._refreshing = threading.Lock()  # at most one background refresh at a time
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()
        self._views: Published[IndexView] = Published(IndexView({}, "", self.lexical.view()))
        self.refresh()

    # --- index state -------------------------------------------------------------------------

    def refresh_soon(self, every: float) -> None:
        """Refresh in a background thread if the last one was `every` seconds ago or more."""
        now = time.monotonic()
        if now - self._refreshed < every or not self._refreshing.acquire(blocking=False):
            return
        self._refreshed = now
        threading.Thread(target=self._refresh_in_background, daemon=True).start()

    def _refresh_in_background(self) -> None:
        try:
            self.refresh()
        except NewsdeskError as exc:  # the server is down: keep answering from the last view
            logger.warning("could not refresh from Chroma: %s", exc)
        finally:
            self._refreshing.release()

    def refresh(self, registry: dict[str, ArticleRecord] | None = None) -> bool:
        """Bring BM25 in step with the registry in Chroma and publish both as one view.

        `registry` is what Chroma's registry holds when the caller knows (a writer that just
        wrote it); otherwise it is read. Searches running meanwhile finish on the view they
        started with. Returns whether a new view was published.
        """
        with self._refresh_lock:
            registry = self.store.registry() if registry is None else registry
            fingerprint = _fingerprint(registry)
            versions = {doc_id: rec.version for doc_id, rec in registry.items()}
            self.lexical.sync(versions, fingerprint, self.store.chunks_of)
            current = self._views.current
            lexical = self.lexical.view()
            if fingerprint == current.fingerprint and lexical is current.lexical:
                return False
            self._views.publish(IndexView(registry, fingerprint, lexical))
            return True

    def publish(self, registry: dict[str, ArticleRecord] | None = None) -> None:
        """Refresh, then wait until no search reads an older view (before deleting its data)."""
        self.refresh(registry)
        self._views.drain()

    @property
    def registry(self) -> dict[str, ArticleRecord]:
        return self._views.current.registry

    @property
    def fingerprint(self) -> str:
        return self._views.current.fingerprint

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
        with self._views.reading() as view:
            if not view.registry:
                return []
            return self._search(view, query, as_of, system, candidates, window, timings)

    def _search(
        self,
        view: IndexView,
        query: str,
        as_of: date | None,
        system: System,
        candidates: int,
        window: tuple[date, date] | None,
        timings: dict[str, float],
    ) -> list[Scored]:
        found: dict[str, Scored] = {}
        vec: Any = None
        if system in ("hybrid", "vector"):
            t = time.perf_counter()
            vec = self.query_vector(query)
            timings["embed_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            nearest_chunks = (
                nearest(self.store, vec, candidates, window, view.dates)
                if window
                else self.store.query(vec, candidates)
            )
            for cid, text, meta, distance in nearest_chunks:
                if _live(view.registry, meta.doc_id, meta.version):
                    # Cosine distance is 1 - cosine similarity.
                    found[cid] = Scored(cid, text, meta, similarity=1.0 - distance)
            timings["vector_ms"] = (time.perf_counter() - t) * 1000
        top_article = 0.0
        if system in ("hybrid", "bm25"):
            t = time.perf_counter()
            terms = view.lexical.terms(query)
            hits = [
                h
                for h in view.lexical.top_chunks(terms, candidates * 2, window)
                if _live(view.registry, h.doc_id, h.version)
            ][:candidates]
            lexical = {h.chunk_id: h.score for h in hits}
            self._fetch(
                [c for c in lexical if c not in found], found, vec if system == "hybrid" else None
            )
            for cid, score in lexical.items():
                if cid in found:
                    found[cid].lexical = score
            docs = {item.meta.doc_id for item in found.values()}
            top_article, articles = view.lexical.article_scores(terms, docs, window)
            for item in found.values():
                item.article_lexical = articles.get(item.meta.doc_id, 0.0)
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        self._fuse(found, system, as_of, top_article)
        return sorted(found.values(), key=lambda s: s.score, reverse=True)

    def query_vector(self, query: str) -> np.ndarray:
        """The question's embedding (read-only), from the last QUERY_VECTORS when asked before."""
        with self._vectors_lock:
            vec = self._vectors.get(query)
            if vec is not None:
                self._vectors.move_to_end(query)
                return vec
        vec = np.asarray(self.embedder.embed([query])[0])
        vec.setflags(write=False)
        with self._vectors_lock:
            self._vectors[query] = vec
            while len(self._vectors) > QUERY_VECTORS:
                self._vectors.popitem(last=False)
        return vec

    def _fetch(self, ids: list[str], found: dict[str, Scored], vec: Any) -> None:
        """Add chunks only BM25 found: their text, metadata and (hybrid) stored-vector cosine."""
        for cid, text, meta, emb in self.store.get_chunks(ids, embeddings=vec is not None):
            sim = float(np.dot(np.asarray(emb, dtype=np.float32), vec)) if emb is not None else 0.0
            found[cid] = Scored(cid, text, meta, similarity=sim)

    def _fuse(
        self, found: dict[str, Scored], system: System, as_of: date | None, top_article: float
    ) -> None:
        weights = _WEIGHTS[system]
        total = sum(weights)
        top_cos = max((max(i.similarity, 0.0) for i in found.values()), default=0.0) or 1.0
        top_lex = max((i.lexical for i in found.values()), default=0.0) or 1.0
        top_art = top_article or 1.0
        for item in found.values():
            cosine = max(item.similarity, 0.0) if weights[0] else 0.0
            fused = (
                weights[0] * cosine / top_cos
                + weights[1] * item.lexical / top_lex
                + weights[2] * item.article_lexical / top_art
            ) / total
            w = recency_weight(item.meta.published, as_of, self.recency_days)
            item.score = fused + self.recency_boost * w

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
            doc_id = item.meta.doc_id
            if doc_id not in docs:
                docs.append(doc_id)
            if len(docs) >= k:
                break
        return docs

    def close(self) -> None:
        self.lexical.close()


def to_passage(item: Scored) -> Passage:
    """Turn a fused candidate into a citable Passage."""
    m = item.meta
    return Passage(
        item.chunk_id, m.doc_id, item.text, m.title, m.outlet, m.published, m.url, m.start, m.end,
        score=item.score, similarity=item.similarity,
    )  # fmt: skip


def _live(registry: dict[str, ArticleRecord], doc_id: str, version: str) -> bool:
    """Whether a chunk belongs to the current version of a registered article."""
    rec = registry.get(doc_id)
    return rec is not None and rec.version == version


def _fingerprint(registry: dict[str, ArticleRecord]) -> str:
    h = hashlib.sha1()
    for doc_id in sorted(registry):
        h.update(f"{doc_id}\x00{registry[doc_id].version}\x01".encode())
    return h.hexdigest()[:16]
