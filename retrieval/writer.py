"""The service's write side: ingests that publish to the readers, and rebuilds."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from retrieval.embedding import Embedder, OnnxMiniLM
from retrieval.errors import NewsdeskError
from retrieval.ingest import Ingestor, IngestReport
from retrieval.parse import Problem
from retrieval.retriever import HybridRetriever
from retrieval.store import Store
from retrieval.types import Article

logger = logging.getLogger(__name__)


class IndexWriter:
    """Run ingests against one store and publish each to the retriever's readers."""

    def __init__(
        self, store: Store, embedder: Embedder, retriever: HybridRetriever, *, local: bool
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.retriever = retriever
        # A local index changes only through this process's writers, each of which
        # publishes before it lets the next one in, so the published registry is Chroma's:
        # reading it again would cost a full read per ingest (and Chroma keeps about 0.7 MB
        # per read that follows a write). A server may also be written by other hosts.
        self.local = local

    def ingest(
        self, paths: Sequence[str | Path], *, prune: bool = False, progress: bool = False
    ) -> IngestReport:
        """Ingest files and folders, then publish."""
        with self._refreshed_on_failure():
            return self._ingestor(progress).run_paths([Path(p) for p in paths], prune=prune)

    def ingest_articles(
        self, articles: Iterable[Article | Problem], *, progress: bool = False
    ) -> IngestReport:
        """Ingest already parsed articles (from the web, say), then publish."""
        with self._refreshed_on_failure():
            return self._ingestor(progress).run(articles)

    def rebuild(self) -> None:
        """Drop the index so the next ingest rebuilds it."""
        with self.store.writing():
            self.store.rebuild()
            self.retriever.publish()

    @contextlib.contextmanager
    def _refreshed_on_failure(self) -> Iterator[None]:
        """An ingest that fails half-way may have flipped records: show readers what is there."""
        try:
            yield
        except Exception:
            try:
                self.retriever.refresh()
            except NewsdeskError as exc:  # the original error is the one to report
                logger.warning("could not refresh after a failed ingest: %s", exc)
            raise

    def _ingestor(self, progress: bool) -> Ingestor:
        # Chunks are sized in the local model's tokens; an API embedder's are not counted.
        embedder = self.embedder
        counter = embedder.count_tokens if isinstance(embedder, OnnxMiniLM) else None
        return Ingestor(
            self.store,
            embedder,
            count_tokens=counter,
            progress=progress,
            publish=self.retriever.publish,
            registry=(lambda: self.retriever.registry) if self.local else None,
        )
