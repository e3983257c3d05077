"""A NewsService double: the real service, counting the calls that would cost retrieval."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from retrieval.api import NewsService
from retrieval.ingest import IngestReport
from retrieval.service import Newsdesk
from retrieval.store import ArticleRecord
from retrieval.types import Answer, Article, Citation, CoverageStats, Turn


class CountingService(NewsService):
    """The real service, counting the calls that would retrieve (to prove strangers cost none)."""

    def __init__(self, inner: Newsdesk) -> None:
        self.inner = inner
        self.answers = 0
        self.ingested: list[Path] = []
        self.in_flight = self.peak_in_flight = 0
        self._lock = threading.Lock()

    @property
    def uses_llm(self) -> bool:
        return self.inner.uses_llm

    def _counted(self, answer: Callable[..., Answer], *args: Any, **kwargs: Any) -> Answer:
        with self._lock:
            self.answers += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return answer(*args, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1

    def answer(self, *args: Any, **kwargs: Any) -> Answer:
        return self._counted(self.inner.answer, *args, **kwargs)

    def quote(self, *args: Any, **kwargs: Any) -> Answer:
        return self._counted(self.inner.quote, *args, **kwargs)

    async def astream(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> AsyncIterator[str | Answer]:
        self.answers += 1
        async for event in self.inner.astream(question, history, as_of=as_of):
            yield event

    def ingest(
        self, paths: Sequence[str | Path], *, prune: bool = False, progress: bool = False
    ) -> IngestReport:
        self.ingested += [Path(p) for p in paths]
        return self.inner.ingest(paths, prune=prune, progress=progress)

    def ingest_articles(
        self, articles: Iterable[Article], *, progress: bool = False
    ) -> IngestReport:
        return self.inner.ingest_articles(articles, progress=progress)

    def match(
        self, topic: str, doc_ids: Collection[str], *, as_of: date | None = None
    ) -> list[Citation]:
        return self.inner.match(topic, doc_ids, as_of=as_of)

    def examples(self, n: int = 2) -> list[str]:
        return self.inner.examples(n)

    def stats(self) -> CoverageStats:
        return self.inner.stats()

    def latest(self, n: int = 10) -> Sequence[ArticleRecord]:
        return self.inner.latest(n)

    def brief(self, *args: Any, **kwargs: Any) -> Answer:
        return self.inner.brief(*args, **kwargs)

    def digest(self, *args: Any, **kwargs: Any) -> Answer:
        return self.inner.digest(*args, **kwargs)

    def close(self) -> None:
        self.inner.close()
