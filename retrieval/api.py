"""The one interface every front end calls: the CLI, the REPL, Telegram and the feed follower.

`retrieval.service.Newsdesk` implements it (it subclasses `NewsService`, so mypy checks every
signature). Front ends and their test doubles type against `NewsService`, never against the
concrete class, and never probe it with `getattr`: what is here is there.

The blocking methods are CPU-bound (retrieval, embedding, an LLM call): async code calls them
through `asyncio.to_thread`. `astream` is the async form of `answer`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from retrieval.types import Answer, Article, Citation, CoverageStats, Turn

if TYPE_CHECKING:
    from retrieval.ingest import IngestReport
    from retrieval.store import ArticleRecord


class NewsService(Protocol):
    """Answer questions about the coverage, grow it, and say what it holds."""

    @property
    def uses_llm(self) -> bool:
        """Whether answers are written by an LLM (and `astream` streams text as it comes)."""
        ...

    def answer(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> Answer:
        """Answer from the coverage with checked citations, or decline.

        With an LLM the deadlines of `astream` apply.
        """
        ...

    def astream(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> AsyncIterator[str | Answer]:
        """Yield text deltas while an LLM writes, then the final verified Answer.

        The LLM's first token and its whole answer are due by deadlines counted from the
        call (NEWSDESK_FIRST_TOKEN_DEADLINE, NEWSDESK_ANSWER_DEADLINE); past either, the
        final Answer is the verified extractive one with a one-line `note`.
        """
        ...

    def brief(self, topic: str | None = None, *, as_of: date | None = None) -> Answer:
        """The briefing: the newest (or, with a topic, the most relevant) articles, each
        headline with its lead quoted and cited, newest first; a time phrase in `topic`
        limits it to that window."""
        ...

    def digest(
        self, doc_ids: Sequence[str], topic: str | None = None, *, as_of: date | None = None
    ) -> Answer:
        """The briefing of the articles `doc_ids` only (what arrived since the last digest)."""
        ...

    def quote(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> Answer:
        """Answer with verified quotes of the coverage, never the LLM, or decline (fast and
        offline: inline queries, example questions)."""
        ...

    def match(
        self, topic: str, doc_ids: Collection[str], *, as_of: date | None = None
    ) -> list[Citation]:
        """The articles among `doc_ids` that a question about `topic` would be answered from
        (the same retriever and relevance gate as questions, run on those articles only),
        each as its lead: headline, outlet, date, link and lead sentence; newest first.

        Topic alerts call it with the articles an ingest has just stored.
        """
        ...

    def examples(self, n: int = 2) -> list[str]:
        """Up to `n` questions made from the newest articles ("What did <speaker> say?"),
        each one the service answers rather than declines (for /start)."""
        ...

    def ingest(
        self, paths: Sequence[str | Path], *, prune: bool = False, progress: bool = False
    ) -> IngestReport:
        """Ingest files and folders (.txt, .md, .jsonl)."""
        ...

    def ingest_articles(
        self, articles: Iterable[Article], *, progress: bool = False
    ) -> IngestReport:
        """Ingest articles parsed elsewhere (fetched pages, feed items)."""
        ...

    def stats(self) -> CoverageStats:
        """Count articles and chunks, list the outlets and the date range."""
        ...

    def latest(self, n: int = 10) -> Sequence[ArticleRecord]:
        """The newest `n` dated articles, newest first."""
        ...

    def close(self) -> None:
        """Release the index (and a local LLM server); the service is unusable after."""
        ...
