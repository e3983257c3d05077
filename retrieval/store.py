"""Chroma storage: chunk vectors plus an article registry that makes updates atomic for readers.

Readers only trust a chunk whose `version` equals its article's version in the registry, so a
changed article is swapped by (1) adding the new chunks, (2) flipping the registry record,
(3) deleting the old chunks once no search reads the old registry: at no moment is it missing
or doubled. One writer at a time: a thread lock inside a process, file locks between them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.chroma_import import import_chromadb
from retrieval.config import Settings
from retrieval.dates import parse_date
from retrieval.errors import IndexMismatchError, NewsdeskError, StoreUnavailableError
from retrieval.locks import IndexLock
from retrieval.types import Article, Chunk, ChunkMeta

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleRecord:
    """What the registry knows about a stored article."""

    doc_id: str
    version: str
    source: str
    title: str
    outlet: str
    published: date | None
    url: str
    chunks: int


def _record_meta(r: ArticleRecord) -> dict[str, Any]:
    """A record as registry metadata (its doc id is the record's id)."""
    return {k: v for k, v in asdict(r).items() if k != "doc_id"} | {"published": _iso(r.published)}


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def _chroma_error(exc: Exception) -> bool:
    """Whether `exc` is a Chroma or transport failure we know (not a bug of ours)."""
    import chromadb.errors
    import httpx

    return isinstance(
        exc, httpx.TransportError | chromadb.errors.InternalError | chromadb.errors.NotFoundError
    )


class Store:
    """The Chroma collections of one Newsdesk index."""

    PAGE = 5000  # records per `get` when reading a whole collection

    def __init__(self, settings: Settings, model_id: str, dim: int) -> None:
        self.settings = settings
        self.model_id = model_id
        self.dim = dim
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.lock = IndexLock(settings.data_dir / "index.lock")
        self.lock.acquire(exclusive=False)
        # One writer thread at a time; re-entrant so a write may call another write.
        self._writer = threading.RLock()
        self._write_depth = 0
        try:
            self.client = self._connect(settings)
            self._open_collections()
        except Exception:
            self.lock.close()
            raise

    def _connect(self, settings: Settings) -> Any:
        chromadb = import_chromadb()
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.chroma_host:
                return chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                )
            return chromadb.PersistentClient(
                path=str(settings.data_dir / "chroma"), settings=chroma_settings
            )
        except Exception as exc:
            raise StoreUnavailableError(
                f"cannot open Chroma: {exc}", user_message=f"Cannot open {self.where()}: {exc}"
            ) from exc

    @property
    def chunks_name(self) -> str:
        return f"{self.settings.collection}_chunks"

    @property
    def articles_name(self) -> str:
        return f"{self.settings.collection}_articles"

    def where(self) -> str:
        """The index for a user: the Chroma server or the data dir."""
        if self.settings.chroma_host:
            return f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
        return f"the index in {self.settings.data_dir}"

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn the Chroma failures we know into StoreUnavailableError with a user message."""
        try:
            yield
        except NewsdeskError:
            raise
        except Exception as exc:
            if not _chroma_error(exc):
                raise
            raise StoreUnavailableError(
                f"Chroma {action} failed: {type(exc).__name__}: {exc}",
                user_message=(
                    f"The coverage index is not reachable right now ({self.where()} did not "
                    "answer). Please try again in a moment."
                ),
            ) from exc

    def lexical_dir(self) -> Path:
        """Where this collection's lexical index lives (always on local disk)."""
        return self.settings.data_dir / "lexical" / self.settings.collection

    def _open_collections(self) -> None:
        self.chunks = self.client.get_or_create_collection(
            self.chunks_name,
            metadata={"embed_model": self.model_id, "embed_dim": self.dim},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        meta = self.chunks.metadata or {}
        if meta.get("embed_model") != self.model_id or int(meta.get("embed_dim", 0)) != self.dim:
            raise IndexMismatchError(
                f"index model {meta.get('embed_model')}/{meta.get('embed_dim')} "
                f"!= {self.model_id}/{self.dim}",
                user_message=(
                    f"The index was built with the embedding model {meta.get('embed_model')!r} "
                    f"(dimension {meta.get('embed_dim')}), but this Newsdesk embeds with "
                    f"{self.model_id!r} (dimension {self.dim}). Rebuild it with "
                    "`newsdesk ingest --rebuild PATH ...` (or point NEWSDESK_DATA_DIR elsewhere)."
                ),
            )
        # The registry holds one record per article; its vector is a placeholder because
        # Chroma records need one, and it is never searched.
        self.articles = self.client.get_or_create_collection(
            self.articles_name, embedding_function=None
        )

    # --- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Be the one writer: other threads wait their turn, other processes get IndexInUseError.

        Chroma failures while writing become StoreUnavailableError, as they do for reads.
        """
        with self._writer:
            if self._write_depth == 0:
                self.lock.acquire(exclusive=True)
            self._write_depth += 1
            try:
                with self._guard("write"):
                    yield
            finally:
                self._write_depth -= 1
                if self._write_depth == 0:
                    self.lock.acquire(exclusive=False)

    def rebuild(self) -> None:
        """Drop both collections and create them anew for the current model."""
        for name in (self.chunks_name, self.articles_name):
            with contextlib.suppress(Exception):
                self.client.delete_collection(name)
        self._open_collections()

    def max_batch(self) -> int:
        try:
            return max(1, min(int(self.client.get_max_batch_size()), 1000))
        except Exception as exc:  # a known Chroma failure: a safe size; anything else is a bug
            if not _chroma_error(exc):
                raise
            return 500

    def add_chunks(
        self, article: Article, version: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> None:
        """Add one article version's chunks (they stay invisible until its record flips)."""
        ids = [chunk_id(article.doc_id, version, c.index) for c in chunks]
        metas = [ChunkMeta.of(article, version, c).to_chroma() for c in chunks]
        docs = [c.text for c in chunks]
        step = self.max_batch()
        for s in range(0, len(ids), step):
            self.chunks.upsert(
                ids=ids[s : s + step],
                embeddings=vectors[s : s + step].tolist(),
                documents=docs[s : s + step],
                metadatas=metas[s : s + step],
            )

    def put_records(self, items: Sequence[tuple[Article, str, int]]) -> list[ArticleRecord]:
        """Flip the registry to the given (article, version, n_chunks); return the records."""
        records = [
            ArticleRecord(a.doc_id, v, a.source, a.title, a.outlet, a.published, a.url, n)
            for a, v, n in items
        ]
        step = self.max_batch()
        for s in range(0, len(records), step):
            part = records[s : s + step]
            self.articles.upsert(
                ids=[r.doc_id for r in part],
                embeddings=[[0.0] for _ in part],
                metadatas=[_record_meta(r) for r in part],
            )
        return records

    def delete_stale_chunks(self, doc_id: str, keep_version: str) -> None:
        """Delete chunks of older versions of one article."""
        self.chunks.delete(where={"$and": [{"doc_id": doc_id}, {"version": {"$ne": keep_version}}]})

    def delete_records(self, doc_ids: Sequence[str]) -> None:
        """Drop articles from the registry (their chunks go later, with delete_chunks_of)."""
        step = self.max_batch()
        for s in range(0, len(doc_ids), step):
            self.articles.delete(ids=list(doc_ids[s : s + step]))

    def delete_chunks_of(self, doc_ids: Sequence[str]) -> None:
        """Delete every chunk of the given articles."""
        step = self.max_batch()
        for s in range(0, len(doc_ids), step):
            self.chunks.delete(where={"doc_id": {"$in": list(doc_ids[s : s + step])}})

    def sweep(self, registry: dict[str, ArticleRecord]) -> int:
        """Delete chunks no registry record vouches for (left by an interrupted ingest)."""
        orphans = [
            cid
            for cid, meta in self.iter_chunk_meta()
            if (rec := registry.get(meta.doc_id)) is None or rec.version != meta.version
        ]
        step = self.max_batch()
        for s in range(0, len(orphans), step):
            self.chunks.delete(ids=orphans[s : s + step])
        return len(orphans)

    # --- reading -----------------------------------------------------------------------------

    def query(
        self, vector: np.ndarray, n: int, *, ids: Sequence[str] | None = None
    ) -> list[tuple[str, str, ChunkMeta, float]]:
        """The n nearest chunks (among `ids` when given) as (id, text, metadata, cosine distance).

        Restrict by ids, not by a `where` on metadata: Chroma evaluates a metadata range over
        every chunk, ten times the cost of the search itself (retrieval/datewindow.py).
        """
        if ids is not None and not ids:
            return []
        with self._guard("query"):
            res = self.chunks.query(
                query_embeddings=[vector.tolist()],
                n_results=n,
                ids=list(ids) if ids is not None else None,
                include=["documents", "metadatas", "distances"],
            )
        ids = res["ids"][0] if res["ids"] else []
        docs = (res.get("documents") or [[]])[0] or []
        metas = (res.get("metadatas") or [[]])[0] or []
        dists = (res.get("distances") or [[]])[0] or []
        return [
            (cid, doc or "", ChunkMeta.from_chroma(meta), float(dist))
            for cid, doc, meta, dist in zip(ids, docs, metas, dists, strict=False)
        ]

    def get_chunks(
        self, ids: Sequence[str], *, embeddings: bool = False
    ) -> list[tuple[str, str, ChunkMeta, Any]]:
        """(chunk id, text, metadata, vector or None) of the given chunks that exist."""
        if not ids:
            return []
        include = ["documents", "metadatas", *(["embeddings"] if embeddings else [])]
        with self._guard("get"):
            got = self.chunks.get(ids=list(ids), include=include)
        vecs = got.get("embeddings")
        vecs = [None] * len(got["ids"]) if vecs is None else vecs
        return [(*row, vec) for row, vec in zip(_chunk_rows(got), vecs, strict=True)]

    def chunks_of(self, doc_ids: Sequence[str]) -> list[tuple[str, str, ChunkMeta]]:
        """(chunk id, text, metadata) of every stored chunk of the given articles."""
        if not doc_ids:
            return []
        with self._guard("get"):
            got = self.chunks.get(
                where={"doc_id": {"$in": list(doc_ids)}}, include=["documents", "metadatas"]
            )
        return _chunk_rows(got)

    def registry(self) -> dict[str, ArticleRecord]:
        """Return every article record by doc id."""
        out: dict[str, ArticleRecord] = {}
        for doc_id, _, m in self._all(self.articles, ["metadatas"]):
            out[doc_id] = ArticleRecord(
                doc_id=doc_id,
                version=str(m.get("version", "")),
                source=str(m.get("source", "")),
                title=str(m.get("title", "")),
                outlet=str(m.get("outlet", "")),
                published=parse_date(m.get("published")),
                url=str(m.get("url", "")),
                chunks=int(m.get("chunks", 0) or 0),
            )
        return out

    def iter_chunk_meta(self) -> Iterator[tuple[str, ChunkMeta]]:
        """Yield (chunk id, metadata) for every stored chunk."""
        for cid, _, meta in self._all(self.chunks, ["metadatas"]):
            yield cid, ChunkMeta.from_chroma(meta)

    def iter_chunks(self) -> Iterator[tuple[str, str, ChunkMeta]]:
        """Yield (chunk id, text, metadata) for every stored chunk."""
        for cid, text, meta in self._all(self.chunks, ["metadatas", "documents"]):
            yield cid, text, ChunkMeta.from_chroma(meta)

    def _all(
        self, collection: Any, include: list[str]
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(id, document, metadata) of every record, a page at a time."""
        offset = 0
        while True:
            with self._guard("get"):
                page = collection.get(include=include, limit=self.PAGE, offset=offset)
            yield from _rows(page)
            if len(page["ids"]) < self.PAGE:
                return
            offset += self.PAGE

    def count_chunks(self) -> int:
        return int(self.chunks.count())

    def close(self) -> None:
        self.lock.close()


def _rows(got: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, document, metadata) rows of a Chroma get result."""
    n = len(got["ids"])
    docs = got.get("documents") or [""] * n
    metas = got.get("metadatas") or [{}] * n
    return [
        (rid, doc or "", dict(meta or {}))
        for rid, doc, meta in zip(got["ids"], docs, metas, strict=True)
    ]


def _chunk_rows(got: Any) -> list[tuple[str, str, ChunkMeta]]:
    """(id, document, metadata) rows of a Chroma get result on the chunks."""
    return [(cid, doc, ChunkMeta.from_chroma(meta)) for cid, doc, meta in _rows(got)]


def chunk_id(doc_id: str, version: str, index: int) -> str:
    """Return the stable id of one chunk of one article version."""
    return f"{doc_id}::{version}::{index:04d}"
