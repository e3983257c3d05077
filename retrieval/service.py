"""The one service every front end calls: answer(question, history) -> Answer."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.answering import analyse, extractive_answer, format_date, refusal
from retrieval.answering.briefing import briefing_topic, build_briefing
from retrieval.answering.question import condense_without_llm
from retrieval.api import NewsService
from retrieval.chroma_import import import_chromadb
from retrieval.config import Settings
from retrieval.deadline import Deadline
from retrieval.embedding import Embedder, make_embedder
from retrieval.errors import InputRejectedError
from retrieval.examples import example_questions
from retrieval.gate import judge
from retrieval.ingest import IngestReport
from retrieval.matching import match_topic
from retrieval.parse import Problem
from retrieval.rerank import rerank
from retrieval.retriever import HybridRetriever, RetrievalResult, to_passage
from retrieval.store import ArticleRecord, Store
from retrieval.timephrases import parse_window
from retrieval.types import Answer, Article, Citation, CoverageStats, Turn
from retrieval.writer import IndexWriter

if TYPE_CHECKING:
    from retrieval.llm.answerer import LLMAnswerer

logger = logging.getLogger(__name__)

REMOTE_REFRESH_SECONDS = 30.0


class Newsdesk(NewsService):
    """Retrieval plus answering over one index (the `NewsService` every front end calls)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        llm: LLMAnswerer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = HybridRetriever(store, embedder, recency_days=settings.recency_days)
        self.llm = llm
        self.writer = IndexWriter(
            store, embedder, self.retriever, local=settings.chroma_host is None
        )

    @classmethod
    def open(cls, settings: Settings, *, with_llm: bool = True) -> Newsdesk:
        """Open the index (creating it if needed), the embedder and the LLM when configured."""
        # Import chromadb (0.5 s, pure Python) while the ONNX session is built (C++, which
        # lets go of the GIL): the first answer comes sooner. numpy is imported already.
        warm = threading.Thread(target=import_chromadb, daemon=True)
        warm.start()
        embedder = make_embedder(settings)
        warm.join()
        store = Store(settings, embedder.model_id, embedder.dim)
        llm = None
        if with_llm and settings.llm_enabled:
            from retrieval.llm.answerer import build_llm

            llm = build_llm(settings)
        return cls(settings, store, embedder, llm)

    @property
    def uses_llm(self) -> bool:
        """Whether answers are written by the LLM (configured and opened)."""
        return self.llm is not None

    def _maybe_refresh(self) -> None:
        """Pick up writes made by others; a local index changes only through our own writers.

        A Chroma server may be written by other hosts, so it is re-checked now and then, in
        the background: the question asked meanwhile is answered from the current view.
        """
        if self.settings.chroma_host is not None:
            self.retriever.refresh_soon(REMOTE_REFRESH_SECONDS)

    # --- questions ---------------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        """Normalise a question or raise InputRejectedError with a clear message."""
        q = " ".join((question or "").split())
        if not q:
            raise InputRejectedError("empty question", user_message="Please ask a question.")
        if len(q) > self.settings.max_question_chars:
            raise InputRejectedError(
                "question too long",
                user_message=(
                    f"That question is {len(q):,} characters long; please keep it under "
                    f"{self.settings.max_question_chars:,}."
                ),
            )
        return q

    def standalone(self, question: str, history: Sequence[Turn]) -> str:
        """Rewrite a follow-up into a question that stands on its own."""
        history = list(history)[-self.settings.history_turns :]
        if history and self.llm is not None:
            return self.llm.condense(question, history)
        return condense_without_llm(question, history)

    def retrieve(
        self,
        query: str,
        *,
        as_of: date | None = None,
        window: tuple[date, date] | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> RetrievalResult:
        """Find the top passages and decide whether they are relevant.

        `window` keeps only reporting published inside it (a time phrase such as "this
        week"); `exclude` drops those documents (the evaluation's removed set).
        """
        timings: dict[str, float] = {}
        t = time.perf_counter()
        self._maybe_refresh()
        items = self.retriever.search(query, as_of=as_of, window=window, timings=timings)
        if exclude:
            items = [i for i in items if i.meta.doc_id not in exclude]
        spec = analyse(query)
        t_rank = time.perf_counter()
        top = rerank(spec, items, k=self.settings.top_k)
        timings["rerank_ms"] = (time.perf_counter() - t_rank) * 1000
        self.retriever.similarity(query, top)
        passages = [to_passage(i) for i in top]
        verdict = judge(spec, passages, self.settings.min_relevance)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        return RetrievalResult(passages, verdict.relevant, timings, verdict.reason)

    def _retrieve_for(
        self,
        question: str,
        standalone: str,
        as_of: date,
        window: tuple[date, date] | None,
        exclude: frozenset[str] = frozenset(),
    ) -> tuple[str, RetrievalResult]:
        """Retrieve for the standalone question, or for the question itself when joining it
        to the last one found nothing: a short question may not lean on it ("What did the
        White House say?" after another) and must not be declined for the join."""
        result = self.retrieve(standalone, as_of=as_of, window=window, exclude=exclude)
        if not result.relevant and standalone != question:
            alone = self.retrieve(question, as_of=as_of, window=window, exclude=exclude)
            if alone.relevant:
                return question, alone
        return standalone, result

    def answer(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> Answer:
        """Answer with checked citations, or decline; with an LLM within the deadlines of
        `astream` (run here in a private event loop)."""
        if self.llm is not None:
            return asyncio.run(self._final(question, history, as_of))
        return self.quote(question, history, as_of=as_of)

    def quote(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> Answer:
        """Answer with quotes, never the LLM (fast: inline queries)."""
        return self.answer_traced(question, history, as_of=as_of)[0]

    def answer_traced(
        self,
        question: str,
        history: Sequence[Turn] = (),
        *,
        as_of: date | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> tuple[Answer, RetrievalResult]:
        """Answer without the LLM, and return the retrieval the answer came from (for
        evaluation, which opens the service without one)."""
        started = time.perf_counter()
        q = self.check_question(question)
        as_of = as_of or date.today()
        topic = briefing_topic(q)
        if topic is not None and not exclude:
            self._maybe_refresh()
            brief, passages = build_briefing(self, q, topic, as_of)
            result = RetrievalResult(passages, True, {}, "briefing")
            return self._finish(brief, q, q, as_of, result, started), result
        standalone = self.standalone(q, history)
        window = parse_window(q, as_of) or parse_window(standalone, as_of)
        standalone, result = self._retrieve_for(q, standalone, as_of, window, exclude)
        note = ""
        if window and not result.relevant:
            # Nothing inside the time phrase's window: the phrase may date the event, not
            # the reporting ("a baseball card from 1952"); try all the coverage, and say so.
            wider = self.retrieve(standalone, as_of=as_of, exclude=exclude)
            wider.timings_ms["window_retrieve_ms"] = result.timings_ms["retrieve_ms"]
            if wider.relevant:
                result = wider
                note = (
                    f"Nothing from {format_date(window[0])} to {format_date(window[1])} "
                    "answers this; this is from other reporting."
                )
        logger.debug("retrieval for %r: %s", standalone, result.reason)
        if not result.relevant:
            ans = refusal(q, "llm" if self.llm else "extractive")
            if window:
                ans.answer += (
                    f" (I looked for reporting from {format_date(window[0])} "
                    f"to {format_date(window[1])}.)"
                )
        else:
            context = standalone.removesuffix(q) if standalone != q else ""
            ans = extractive_answer(
                q if context else standalone, result.passages, as_of=as_of, context=context
            )
        if note and not ans.refused:
            ans.note = f"{note} {ans.note}".strip()
        return self._finish(ans, q, standalone, as_of, result, started), result

    def brief(self, topic: str | None = None, *, as_of: date | None = None) -> Answer:
        """A briefing: the newest articles (with a topic, the most relevant), newest first.

        A time phrase in `topic` ("this week", "since Monday") limits it to that window.
        """
        return self._brief(topic, as_of, None)

    def digest(
        self, doc_ids: Sequence[str], topic: str | None = None, *, as_of: date | None = None
    ) -> Answer:
        """The briefing of those articles only (a digest of what arrived since the last)."""
        return self._brief(topic, as_of, doc_ids)

    def _brief(
        self, topic: str | None, as_of: date | None, doc_ids: Sequence[str] | None
    ) -> Answer:
        started = time.perf_counter()
        as_of = as_of or date.today()
        text = " ".join((topic or "").split())
        found = briefing_topic(text) if text else ""
        subject = text if found is None else found
        self._maybe_refresh()
        ans, passages = build_briefing(self, text or "What's new?", subject, as_of, doc_ids=doc_ids)
        result = RetrievalResult(passages, True, {}, "briefing")
        return self._finish(ans, text or "What's new?", text, as_of, result, started)

    async def astream(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> AsyncIterator[str | Answer]:
        """Yield text deltas as an LLM writes, then the final verified Answer.

        The LLM's first token and its whole answer are due by the deadlines of the settings,
        counted from now; past either the final Answer is the extractive one, with a note.
        A briefing request ("What's new?") is answered from the leads, without the LLM.
        """
        if self.llm is None or briefing_topic(" ".join(question.split())) is not None:
            # extractive: with an LLM, answer() would run this stream again
            yield await asyncio.to_thread(self.quote, question, history, as_of=as_of)
            return
        deadline = Deadline.start(self.settings)
        started = time.perf_counter()
        q = self.check_question(question)
        as_of = as_of or date.today()
        standalone = await self._acondense(q, history, deadline)
        window = parse_window(q, as_of) or parse_window(standalone, as_of)
        standalone, result = await asyncio.to_thread(
            self._retrieve_for, q, standalone, as_of, window
        )
        if not result.relevant:
            yield self._finish(refusal(q, "llm"), q, standalone, as_of, result, started)
            return
        events = self.llm.astream(standalone, result.passages, as_of=as_of, deadline=deadline)
        async for event in events:
            if isinstance(event, Answer):
                yield self._finish(event, q, standalone, as_of, result, started)
            else:
                yield event

    async def _acondense(self, question: str, history: Sequence[Turn], deadline: Deadline) -> str:
        """The standalone question, by the LLM if it manages before the first-token deadline."""
        assert self.llm is not None
        history = list(history)[-self.settings.history_turns :]
        if not history:
            return question
        try:
            async with asyncio.timeout_at(deadline.first_token_at):
                return await self.llm.acondense(question, history)
        except TimeoutError:
            logger.warning("condensing the follow-up passed the first-token deadline")
            return condense_without_llm(question, history)

    async def _final(self, question: str, history: Sequence[Turn], as_of: date | None) -> Answer:
        """The last event of `astream` (in a private event loop: close its HTTP client)."""
        assert self.llm is not None
        try:
            async for event in self.astream(question, history, as_of=as_of):
                if isinstance(event, Answer):
                    return event
        finally:
            await self.llm.aclose()
        raise RuntimeError("the answer stream ended without an Answer")  # pragma: no cover

    def _finish(
        self,
        ans: Answer,
        question: str,
        standalone: str,
        as_of: date,
        result: RetrievalResult,
        started: float,
    ) -> Answer:
        if ans.mode == "llm" and not ans.refused:
            dates = [c.published for c in ans.citations if c.published]
            if dates and format_date(max(dates)) not in ans.answer:
                # Say when the cited reporting is from; the model may not.
                ans.answer = f"{ans.answer.rstrip()}\n\nReporting as of {format_date(max(dates))}."
        ans.question = question
        ans.standalone_question = standalone
        ans.as_of = as_of
        ans.timings_ms = {**result.timings_ms, **ans.timings_ms}
        ans.timings_ms["total_ms"] = (time.perf_counter() - started) * 1000
        return ans

    def match(
        self, topic: str, doc_ids: Collection[str], *, as_of: date | None = None
    ) -> list[Citation]:
        """The articles among `doc_ids` a question about `topic` would be answered from."""
        self._maybe_refresh()
        return match_topic(self, topic, doc_ids, as_of=as_of)

    def examples(self, n: int = 2) -> list[str]:
        """Up to `n` questions about the newest articles that the coverage answers."""
        self._maybe_refresh()
        return example_questions(self, n)

    # --- coverage ----------------------------------------------------------------------------

    def ingest(
        self, paths: Sequence[str | Path], *, prune: bool = False, progress: bool = False
    ) -> IngestReport:
        """Ingest files and folders, then refresh retrieval."""
        return self.writer.ingest(paths, prune=prune, progress=progress)

    def ingest_articles(
        self, articles: Iterable[Article | Problem], *, progress: bool = False
    ) -> IngestReport:
        """Ingest already parsed articles (from the web, say), then refresh retrieval."""
        return self.writer.ingest_articles(articles, progress=progress)

    def rebuild(self) -> None:
        """Drop the index so the next ingest rebuilds it."""
        self.writer.rebuild()

    def stats(self) -> CoverageStats:
        """Count articles and chunks, list outlets and the date range."""
        self._maybe_refresh()
        records = list(self.retriever.registry.values())
        dates = sorted(r.published for r in records if r.published)
        return CoverageStats(
            articles=len(records),
            chunks=sum(r.chunks for r in records),
            outlets=sorted({r.outlet for r in records if r.outlet}),
            first_published=dates[0] if dates else None,
            last_published=dates[-1] if dates else None,
        )

    def latest(self, n: int = 10) -> list[ArticleRecord]:
        """Return the newest articles by publication date."""
        self._maybe_refresh()
        records = [r for r in self.retriever.registry.values() if r.published]
        return sorted(records, key=lambda r: r.published or date.min, reverse=True)[:n]

    def close(self) -> None:
        """Release the index lock and stop a local LLM server if one was started."""
        if self.llm is not None:
            self.llm.close()
        self.retriever.close()
        self.store.close()
