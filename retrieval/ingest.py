"""Idempotent, incremental ingest: parse, chunk, embed and store articles."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.chunking import chunk_text
from retrieval.embedding import Embedder
from retrieval.memory import trim
from retrieval.parse import Problem, iter_paths, parse_file
from retrieval.store import ArticleRecord, Store
from retrieval.types import Article, Chunk

logger = logging.getLogger(__name__)

CHUNKER_VERSION = "c1-200-230-1"


@dataclass
class IngestReport:
    """What one ingest run did."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    pruned: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0
    swept: int = 0
    stored: list[str] = field(default_factory=list)  # ids of the articles written, new or updated

    @property
    def written(self) -> bool:
        return bool(self.new or self.updated or self.pruned or self.swept)

    def summary(self) -> str:
        """One paragraph for a terminal or a chat."""
        lines = [
            f"Articles: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped"
            + (f", {self.pruned} pruned" if self.pruned else "")
            + f"; {self.chunks} chunks written in {self.seconds:.1f} s."
        ]
        lines += [f"  skipped {src}: {why}" for src, why in self.skipped[:50]]
        if len(self.skipped) > 50:
            lines.append(f"  ... and {len(self.skipped) - 50} more skipped")
        lines += [f"  note {src}: {why}" for src, why in self.warnings[:20]]
        return "\n".join(lines)


def article_version(article: Article, embed_text_version: str = "") -> str:
    """Fingerprint everything that changes an article's chunks or their metadata."""
    h = hashlib.sha256()
    for part in (
        article.title,
        article.text,
        article.outlet,
        article.published.isoformat() if article.published else "",
        article.url,
        CHUNKER_VERSION,
        embed_text_version,
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def embed_text(article: Article, chunk: Chunk) -> str:
    """Text given to the embedder: the headline gives each chunk its context."""
    return f"{article.title}\n{chunk.text}" if article.title else chunk.text


class Ingestor:
    """Writes articles into a Store; one instance per run.

    `publish(registry)` is called once the registry holds every change (and is given it, so
    nobody reads it again) and before anything a reader may still use is deleted: the service
    publishes the new registry and lexical index to its readers there and waits until no
    search reads the old ones. `registry()`, called as the writer, says what the registry holds
    when the caller knows (the service's published view of a local index); without it the
    registry is read from Chroma.
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        count_tokens: Callable[[str], int] | None = None,
        progress: bool = False,
        publish: Callable[[dict[str, ArticleRecord]], None] | None = None,
        registry: Callable[[], dict[str, ArticleRecord]] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.count_tokens = count_tokens
        self.progress = progress and sys.stderr.isatty()
        self.publish = publish
        self._known_registry = registry
        self.report = IngestReport()
        self._pending: list[tuple[Article, str, list[Chunk]]] = []
        self._pending_chunks = 0
        self._seen: set[str] = set()
        self._replaced: list[tuple[str, str]] = []  # (doc id, version kept) after publish
        self._gone: list[str] = []  # pruned articles whose chunks go after publish

    def run_paths(self, paths: Sequence[Path], *, prune: bool = False) -> IngestReport:
        """Ingest files and folders; with `prune`, drop articles whose source is gone."""
        roots = [p.resolve() for p in paths]
        items = (item for f, root in iter_paths(roots) for item in parse_file(f, root))
        return self.run(items, prune_roots=roots if prune else None)

    def run(
        self, items: Iterable[Article | Problem], *, prune_roots: Sequence[Path] | None = None
    ) -> IngestReport:
        """Ingest parsed articles (and record problems) as the one writer."""
        started = time.perf_counter()
        with self.store.writing():
            interrupted = self._dirty_marker(True)
            known = self._known_registry
            self._registry = dict(known()) if known and not interrupted else self.store.registry()
            for item in self._with_progress(items):
                if isinstance(item, Problem):
                    target = self.report.skipped if item.skipped else self.report.warnings
                    target.append((item.source, item.reason))
                    logger.info("%s: %s", item.source, item.reason)
                    continue
                self._add(item)
            self._flush()
            if prune_roots is not None:
                self._prune(prune_roots)
            if self.publish is not None:
                self.publish(dict(self._registry))
            for doc_id, version in self._replaced:
                self.store.delete_stale_chunks(doc_id, version)
            self.store.delete_chunks_of(self._gone)
            if interrupted:  # chunks an interrupted run added but never registered
                self.report.swept = self.store.sweep(self.store.registry())
            self._dirty_marker(False)
        trim()  # a long-running bot ingests all day: give the writes' buffers back
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _with_progress(self, items: Iterable[Article | Problem]) -> Iterator[Article | Problem]:
        if not self.progress:
            yield from items
            return
        from tqdm import tqdm

        with tqdm(desc="ingest", unit=" articles", file=sys.stderr, leave=False) as bar:
            for item in items:
                yield item
                bar.update(1)
                bar.set_postfix(
                    new=self.report.new, upd=self.report.updated, chunks=self.report.chunks
                )

    def _add(self, article: Article) -> None:
        if article.doc_id in self._seen:
            self.report.skipped.append(
                (article.source, f"duplicate id {article.doc_id!r} in this run")
            )
            return
        self._seen.add(article.doc_id)
        version = article_version(article)
        old = self._registry.get(article.doc_id)
        if old is not None and old.version == version:
            self.report.unchanged += 1
            return
        if self.count_tokens is not None:
            chunks = chunk_text(article.doc_id, article.text, count=self.count_tokens)
        else:
            chunks = chunk_text(article.doc_id, article.text)
        if not chunks:
            self.report.skipped.append((article.source, "no text to index"))
            return
        self._pending.append((article, version, chunks))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= self.store.settings.ingest_batch:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        texts = [embed_text(a, c) for a, _, chunks in self._pending for c in chunks]
        vectors = self.embedder.embed(texts)
        offset = 0
        for article, version, chunks in self._pending:
            self.store.add_chunks(article, version, chunks, vectors[offset : offset + len(chunks)])
            offset += len(chunks)
        replaced = {a.doc_id for a, _, _ in self._pending if a.doc_id in self._registry}
        for rec in self.store.put_records([(a, v, len(c)) for a, v, c in self._pending]):
            self._registry[rec.doc_id] = rec
        for article, version, chunks in self._pending:
            if article.doc_id in replaced:
                self._replaced.append((article.doc_id, version))
                self.report.updated += 1
            else:
                self.report.new += 1
            self.report.stored.append(article.doc_id)
            self.report.chunks += len(chunks)
        self._pending, self._pending_chunks = [], 0

    def _prune(self, roots: Sequence[Path]) -> None:
        """Drop articles that came from under `roots` but were not seen in this run."""
        gone = [
            rec.doc_id
            for rec in self._registry.values()
            if rec.doc_id not in self._seen
            and rec.source
            and not rec.source.startswith(("http://", "https://"))
            and any(_under(rec.source.split("#", 1)[0], root) for root in roots)
        ]
        self.store.delete_records(gone)
        for doc_id in gone:
            del self._registry[doc_id]
        self._gone = gone
        self.report.pruned = len(gone)

    def _dirty_marker(self, on: bool) -> bool:
        """Set or clear the "ingest running" marker; return whether it was already there."""
        # An interrupted run leaves this file; the next run sweeps orphan chunks.
        marker = self.store.settings.data_dir / ".ingest-running"
        existed = marker.exists()
        if on:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)
        return existed


def _under(source: str, root: Path) -> bool:
    src = Path(source)
    return src == root or root in src.parents
