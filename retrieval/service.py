"""The one service every front end calls: answer(question, history) -> Answer."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.answering import analyse, extractive_answer, format_date, refusal
from retrieval.answering.briefing import briefing_topic, build_briefing
from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.embedding import Embedder, OnnxMiniLM, OpenAIEmbedder
from retrieval.errors import InputRejectedError, NewsdeskError
from retrieval.gate import judge
from retrieval.ingest import Ingestor, IngestReport
from retrieval.parse import Problem
from retrieval.rerank import rerank
from retrieval.retriever import HybridRetriever, RetrievalResult, to_passage
from retrieval.store import ArticleRecord, Store
from retrieval.text import content_stems
from retrieval.timephrases import parse_window
from retrieval.types import Answer, Article, CoverageStats, Passage, Turn

if TYPE_CHECKING:
    from retrieval.llm.answerer import LLMAnswerer

logger = logging.getLogger(__name__)

REMOTE_REFRESH_SECONDS = 30.0

_FOLLOW_UP = re.compile(
    r"\b(he|she|they|it|that|this|those|these|him|her|them|his|their|its|there|then)\b", re.I
)


def make_embedder(settings: Settings) -> Embedder:
    """Return the configured embedder (the offline ONNX model by default)."""
    if settings.embed_backend == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIEmbedder(settings.openai_embed_model, key, settings.openai_base_url)
    return OnnxMiniLM(batch_size=settings.embed_batch)


def condense_without_llm(question: str, history: Sequence[Turn]) -> str:
    """Make a follow-up searchable by joining it to the previous question when it leans on it."""
    if not history:
        return question
    prev = history[-1].standalone_question or history[-1].question
    if _FOLLOW_UP.search(question) or len(content_stems(question)) <= 2:
        return f"{prev} {question}"
    return question


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
        self._refreshed = time.monotonic()
        self._refreshing = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, *, with_llm: bool = True) -> Newsdesk:
        """Open the index (creating it if needed), the embedder and the LLM when configured."""
        embedder = make_embedder(settings)
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
        """Pick up writes made by others without re-reading the registry on every question.

        A local index cannot change under us: writers need the exclusive lock, and our own
        ingests publish when they finish. A Chroma server may be written by other hosts, so
        it is re-checked at most every REMOTE_REFRESH_SECONDS, in the background: the
        question asked meanwhile is answered from the current view, never kept waiting.
        """
        if self.settings.chroma_host is None:
            return
        now = time.monotonic()
        if now - self._refreshed < REMOTE_REFRESH_SECONDS or not self._refreshing.acquire(
            blocking=False
        ):
            return
        self._refreshed = now
        threading.Thread(target=self._refresh_in_background, daemon=True).start()

    def _refresh_in_background(self) -> None:
        try:
            self.retriever.refresh()
        except NewsdeskError as exc:  # the server is down: keep answering from the last view
            logger.warning("could not refresh from Chroma: %s", exc)
        finally:
            self._refreshing.release()

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
            items = [i for i in items if str(i.meta.get("doc_id")) not in exclude]
        spec = analyse(query)
        t_rank = time.perf_counter()
        top = rerank(spec, items, k=self.settings.top_k)
        timings["rerank_ms"] = (time.perf_counter() - t_rank) * 1000
        self.retriever.similarity(query, top)
        passages = [to_passage(i) for i in top]
        verdict = judge(spec, passages, self.settings.min_relevance)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        return RetrievalResult(passages, verdict.relevant, timings, verdict.reason)

    def answer(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> Answer:
        """Answer from the coverage with checked citations, or decline."""
        return self.answer_traced(question, history, as_of=as_of)[0]

    def answer_traced(
        self,
        question: str,
        history: Sequence[Turn] = (),
        *,
        as_of: date | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> tuple[Answer, RetrievalResult]:
        """Answer, and return the retrieval the answer came from (for evaluation)."""
        started = time.perf_counter()
        q = self.check_question(question)
        as_of = as_of or date.today()
        topic = briefing_topic(q)
        if topic is not None and not exclude:
            brief, passages = self._brief(q, topic, as_of)
            result = RetrievalResult(passages, True, {}, "briefing")
            return self._finish(brief, q, q, as_of, result, started), result
        standalone = self.standalone(q, history)
        window = parse_window(q, as_of) or parse_window(standalone, as_of)
        result = self.retrieve(standalone, as_of=as_of, window=window, exclude=exclude)
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
        elif self.llm is not None:
            ans = self.llm.answer(standalone, result.passages, as_of=as_of)
        else:
            context = standalone.removesuffix(q) if standalone != q else ""
            ans = extractive_answer(
                q if context else standalone, result.passages, as_of=as_of, context=context
            )
        if note and not ans.refused:
            ans.note = note
        return self._finish(ans, q, standalone, as_of, result, started), result

    def brief(self, topic: str | None = None, *, as_of: date | None = None) -> Answer:
        """A briefing: the newest articles (with a topic, the most relevant), newest first.

        A time phrase in `topic` ("this week", "since Monday") limits it to that window.
        """
        started = time.perf_counter()
        as_of = as_of or date.today()
        text = " ".join((topic or "").split())
        found = briefing_topic(text) if text else ""
        subject = text if found is None else found
        ans, passages = self._brief(text or "What's new?", subject, as_of)
        result = RetrievalResult(passages, True, {}, "briefing")
        return self._finish(ans, text or "What's new?", text, as_of, result, started)

    def _brief(self, question: str, topic: str, as_of: date) -> tuple[Answer, list[Passage]]:
        self._maybe_refresh()
        return build_briefing(self, question, topic, as_of)

    async def astream(
        self, question: str, history: Sequence[Turn] = (), *, as_of: date | None = None
    ) -> AsyncIterator[str | Answer]:
        """Yield text deltas as an LLM writes, then the final verified Answer."""
        import asyncio

        if self.llm is None or briefing_topic(" ".join(question.split())) is not None:
            yield await asyncio.to_thread(self.answer, question, history, as_of=as_of)
            return
        started = time.perf_counter()
        q = self.check_question(question)
        as_of = as_of or date.today()
        standalone = await asyncio.to_thread(self.standalone, q, history)
        window = parse_window(q, as_of) or parse_window(standalone, as_of)
        result = await asyncio.to_thread(self.retrieve, standalone, as_of=as_of, window=window)
        if not result.relevant:
            yield self._finish(refusal(q, "llm"), q, standalone, as_of, result, started)
            return
        async for event in self.llm.astream(standalone, result.passages, as_of=as_of):
            if isinstance(event, Answer):
                yield self._finish(event, q, standalone, as_of, result, started)
            else:
                yield event

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

    # --- coverage ----------------------------------------------------------------------------

    def ingest(
        self, paths: Sequence[str | Path], *, prune: bool = False, progress: bool = False
    ) -> IngestReport:
        """Ingest files and folders, then refresh retrieval."""
        ingestor = self._ingestor(progress)
        try:
            return ingestor.run_paths([Path(p) for p in paths], prune=prune)
        except Exception:
            self._refresh_after_failure()
            raise

    def ingest_articles(
        self, articles: Iterable[Article | Problem], *, progress: bool = False
    ) -> IngestReport:
        """Ingest already parsed articles (from the web, say), then refresh retrieval."""
        ingestor = self._ingestor(progress)
        try:
            return ingestor.run(articles)
        except Exception:
            self._refresh_after_failure()
            raise

    def _refresh_after_failure(self) -> None:
        """An ingest that failed half-way may have flipped records: show readers what is there."""
        try:
            self.retriever.refresh()
        except NewsdeskError as exc:  # the original error is the one to report
            logger.warning("could not refresh after a failed ingest: %s", exc)

    def _ingestor(self, progress: bool) -> Ingestor:
        # Chunks are sized in the local model's tokens; an API embedder's are not counted.
        counter = self.embedder.count_tokens if isinstance(self.embedder, OnnxMiniLM) else None
        # A local index changes only through this process's writers, each of which publishes
        # before it lets the next one in, so the published registry is Chroma's: reading it
        # again would cost a full read per ingest (and Chroma keeps about 0.7 MB per read that
        # follows a write). A server may also be written by other hosts: read it.
        local = self.settings.chroma_host is None
        return Ingestor(
            self.store,
            self.embedder,
            count_tokens=counter,
            progress=progress,
            publish=self.retriever.publish,
            registry=(lambda: self.retriever.registry) if local else None,
        )

    def rebuild(self) -> None:
        """Drop the index so the next ingest rebuilds it."""
        with self.store.writing():
            self.store.rebuild()
            self.retriever.publish()

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
