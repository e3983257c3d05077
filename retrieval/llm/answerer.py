"""LLM answers from numbered passages, checked before anyone sees them."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Sequence
from datetime import date
from types import ModuleType

import openai

from retrieval.config import Settings
from retrieval.deadline import Deadline, DeadlineExceeded
from retrieval.errors import LLMError
from retrieval.llm.citations import (
    REFUSAL_MARKER,
    CheckResult,
    check_answer,
    is_refusal,
    strip_reasoning,
)
from retrieval.llm.client import ChatClient, Completion, Restart
from retrieval.llm.guards import EchoGuard
from retrieval.llm.local_server import LocalLlamaServer, resolve_model
from retrieval.llm.prompts import (
    MAX_PASSAGES,
    answer_messages,
    condense_messages,
    load_template,
    new_fence,
    static_text,
)
from retrieval.llm.quotes import MARKER
from retrieval.llm.stream import StreamGuard
from retrieval.types import Answer, Citation, Passage, Turn, Verification

log = logging.getLogger(__name__)

CONDENSE_MAX_TOKENS = 64
HISTORY_ANSWER_CHARS = 300
CHECK_FAILED_NOTE = (
    "The model's answer did not pass the citation check, so here are quotes from the "
    "coverage instead."
)


def _extractive() -> ModuleType:
    # Imported late: the extractive answerer is the fallback, not a start-up dependency.
    import retrieval.answering as extractive

    return extractive


def prompt_sources() -> list[str]:
    """Return the fixed prompt text a user must never see echoed."""
    return [static_text(name) for name in ("system", "answer", "condense", "condense_system")]


class LLMAnswerer:
    """Write answers with an OpenAI-compatible model and verify every citation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._local: LocalLlamaServer | None = None
        self._chat: ChatClient | None = None
        self._sources = prompt_sources()

    # -- set-up ----------------------------------------------------------------------

    def _client(self) -> ChatClient:
        """Return the chat client, starting the local server first when configured."""
        with self._lock:
            if self._chat is not None:
                return self._chat
            s = self.settings
            if s.llm == "local":
                if self._local is None:
                    self._local = LocalLlamaServer(resolve_model(s.local_model))
                base_url: str | None = self._local.start()
                api_key: str | None = None
                model = self._local.alias
            else:
                base_url = s.openai_base_url
                api_key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
                model = s.llm_model
            self._chat = ChatClient(
                base_url=base_url,
                api_key=api_key,
                model=model,
                timeout=s.llm_timeout,
                max_retries=s.llm_max_retries,
                max_tokens=s.llm_max_tokens,
                temperature=s.llm_temperature,
            )
            return self._chat

    def close(self) -> None:
        """Close the HTTP client and stop a local server if one was started."""
        with self._lock:
            chat, self._chat = self._chat, None
            local, self._local = self._local, None
        if chat is not None:
            chat.close()
        if local is not None:
            local.stop()

    def check(self) -> None:
        """Check key, server and model; raise LLMError with a one-line user_message."""
        client = self._client()
        where = client.base_url
        try:
            models = client.list_models()
        except LLMError as exc:
            if not isinstance(exc.__cause__, openai.NotFoundError):
                raise
            msg = (
                f"{where} is not an OpenAI-compatible API (GET /models returned 404); "
                "check OPENAI_BASE_URL (it often ends in /v1)."
            )
            raise LLMError(str(exc), user_message=msg) from exc.__cause__
        if client.model in models:
            return
        # Some servers serve any name or list none; a one-token request settles it.
        try:
            client.ping()
        except LLMError as exc:
            if isinstance(exc.__cause__, openai.NotFoundError | openai.BadRequestError):
                known = ", ".join(models[:5]) or "none listed"
                msg = (
                    f"The LLM server at {where} does not know the model {client.model!r} "
                    f"(NEWSDESK_LLM_MODEL); it lists: {known}."
                )
                raise LLMError(str(exc), user_message=msg) from exc
            raise

    # -- inputs ----------------------------------------------------------------------

    def _cap_question(self, question: str) -> str:
        return question.strip()[: self.settings.max_question_chars]

    @staticmethod
    def _cap_passages(passages: Sequence[Passage]) -> list[Passage]:
        return list(passages)[:MAX_PASSAGES]

    def _echo(self, passages: Sequence[Passage], fence: str) -> EchoGuard:
        return EchoGuard(self._sources, [p.text for p in passages], markers=[fence])

    # -- condense --------------------------------------------------------------------

    def _condense_messages(self, question: str, history: Sequence[Turn]) -> list[dict[str, str]]:
        turns = list(history)[-max(1, self.settings.history_turns) :]
        lines = []
        for t in turns:
            asked = t.standalone_question or t.question
            said = " ".join(MARKER.sub("", t.answer).split())[:HISTORY_ANSWER_CHARS]
            lines.append(f"User: {asked}\nAssistant: {said}")
        return condense_messages(self._cap_question(question), "\n".join(lines))

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """Rewrite a follow-up as a standalone question (unchanged on any failure)."""
        if not history:
            return question
        messages = self._condense_messages(question, history)
        try:
            completion = self._client().complete(messages, max_tokens=CONDENSE_MAX_TOKENS)
        except LLMError as exc:
            log.warning("condensing the follow-up failed; using it as asked: %s", exc)
            return question
        return self._condensed(completion, question)

    async def acondense(self, question: str, history: Sequence[Turn]) -> str:
        """`condense`, async: cancellable, so a deadline can cut it short."""
        if not history:
            return question
        messages = self._condense_messages(question, history)
        try:
            client = await asyncio.to_thread(self._client)
            completion = await client.acomplete(messages, max_tokens=CONDENSE_MAX_TOKENS)
        except LLMError as exc:
            log.warning("condensing the follow-up failed; using it as asked: %s", exc)
            return question
        return self._condensed(completion, question)

    def _condensed(self, completion: Completion, question: str) -> str:
        rewritten = self._clean_condensed(completion.text, question)
        log.debug("condensed %r -> %r", question, rewritten)
        return rewritten

    def _clean_condensed(self, text: str, question: str) -> str:
        lines = [ln.strip() for ln in strip_reasoning(text).strip().splitlines() if ln.strip()]
        if not lines:
            return question
        out = re.sub(r"^(?:standalone question|question)\s*:\s*", "", lines[0], flags=re.I)
        out = out.strip().strip("\"'\u201c\u201d").strip()
        echo = EchoGuard(self._sources, [question])
        too_long = len(out) > max(3 * len(question), 300)
        if not out or too_long or echo.hits(out) or REFUSAL_MARKER.search(out):
            return question
        return out[: self.settings.max_question_chars]

    # -- answers ---------------------------------------------------------------------

    def answer(
        self, question: str, passages: Sequence[Passage], *, as_of: date | None = None
    ) -> Answer:
        """Answer from the passages with the model; verified, or extractive with a note."""
        question = self._cap_question(question)
        shown = self._cap_passages(passages)
        if not shown:
            return self._refusal(question, as_of, {})
        fence = new_fence("|".join(p.chunk_id for p in shown))
        messages = answer_messages(question, shown, today=as_of or date.today(), fence=fence)
        try:
            completion = self._client().complete(messages)
        except LLMError as exc:
            log.warning("LLM answer failed, using the extractive answer: %s", exc)
            return self._model_failed(question, shown, as_of, exc)
        return self._finish(question, shown, as_of, completion, fence)

    async def astream(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        as_of: date | None = None,
        deadline: Deadline | None = None,
    ) -> AsyncIterator[str | Answer]:
        """Yield text deltas as they arrive, then the final verified Answer.

        Past the `deadline` (by default one starting now, from the settings) the model is
        abandoned and the final Answer is the extractive one, with a note saying why.
        """
        question = self._cap_question(question)
        shown = self._cap_passages(passages)
        if not shown:
            yield self._refusal(question, as_of, {})
            return
        deadline = deadline or Deadline.start(self.settings)
        fence = new_fence("|".join(p.chunk_id for p in shown))
        messages = answer_messages(question, shown, today=as_of or date.today(), fence=fence)
        guard = StreamGuard(self._echo(shown, fence))
        completion: Completion | None = None
        try:
            async with asyncio.timeout_at(deadline.first_token_at):
                client = await asyncio.to_thread(self._client)  # a local server may start
            async for item in deadline.bound(client.astream(messages), str):
                if isinstance(item, Completion):
                    completion = item
                elif isinstance(item, Restart):
                    guard.restart()
                else:
                    shown_text = guard.feed(item)
                    if shown_text:
                        yield shown_text
        except LLMError as exc:
            log.warning("LLM stream failed, using the extractive answer: %s", exc)
            yield await asyncio.to_thread(self._model_failed, question, shown, as_of, exc)
            return
        except (DeadlineExceeded, TimeoutError) as exc:
            late = exc if isinstance(exc, DeadlineExceeded) else deadline.first_token_missed()
            log.warning("LLM answer abandoned, using the extractive answer: %s", late)
            yield await asyncio.to_thread(self._late, question, shown, as_of, late)
            return
        if completion is None:  # pragma: no cover - astream always ends with a Completion
            failure = LLMError("stream ended without a completion")
            yield await asyncio.to_thread(self._model_failed, question, shown, as_of, failure)
            return
        tail = guard.flush()
        if tail:
            yield tail
        yield await asyncio.to_thread(self._finish, question, shown, as_of, completion, fence)

    async def aclose(self) -> None:
        """Close the HTTP client of the running loop (before a private loop ends)."""
        if self._chat is not None:
            await self._chat.aclose()

    # -- results ---------------------------------------------------------------------

    @staticmethod
    def _timings(completion: Completion | None) -> dict[str, float]:
        if completion is None:
            return {}
        timings = {"llm_ms": completion.total_ms}
        if completion.ttft_ms is not None:
            timings["llm_first_token_ms"] = completion.ttft_ms
        return timings

    def _finish(
        self,
        question: str,
        shown: list[Passage],
        as_of: date | None,
        completion: Completion,
        fence: str,
    ) -> Answer:
        timings = self._timings(completion)
        started = time.perf_counter()
        echo = self._echo(shown, fence)
        text = strip_reasoning(completion.text)
        if is_refusal(text) and not echo.hits(text):
            return self._refusal(question, as_of, timings)
        result = check_answer(text, shown, echo=echo)
        timings["verify_ms"] = (time.perf_counter() - started) * 1000
        if result.fallback:
            log.info("LLM answer failed the citation check: %s", result.fallback)
            return self._fallback(question, shown, as_of, result, CHECK_FAILED_NOTE, timings)
        return Answer(
            question=question,
            answer=result.text,
            refused=False,
            mode="llm",
            citations=self._citations(result, shown),
            timings_ms=timings,
            as_of=as_of,
            verification=Verification(ok=result.ok, dropped=result.dropped),
        )

    @staticmethod
    def _citations(result: CheckResult, shown: list[Passage]) -> list[Citation]:
        return [Citation.of(c.n, shown[c.passage_index], c.quote) for c in result.citations]

    def _refusal(self, question: str, as_of: date | None, timings: dict[str, float]) -> Answer:
        answer: Answer = _extractive().refusal(question, mode="llm")
        answer.as_of = as_of
        answer.timings_ms.update(timings)
        answer.verification = Verification(ok=True)
        return answer

    def _model_failed(
        self, question: str, shown: list[Passage], as_of: date | None, exc: LLMError
    ) -> Answer:
        result = CheckResult(text="", fallback=f"model failed: {exc.user_message}")
        note = f"{exc.user_message} Showing quotes from the coverage instead."
        return self._fallback(question, shown, as_of, result, note, {})

    def _late(
        self, question: str, shown: list[Passage], as_of: date | None, late: DeadlineExceeded
    ) -> Answer:
        result = CheckResult(text="", fallback=f"model too slow: {late}")
        return self._fallback(question, shown, as_of, result, late.note, {})

    def _fallback(
        self,
        question: str,
        shown: list[Passage],
        as_of: date | None,
        result: CheckResult,
        note: str,
        timings: dict[str, float],
    ) -> Answer:
        started = time.perf_counter()
        answer: Answer = _extractive().extractive_answer(question, shown, as_of=as_of)
        timings["extractive_ms"] = (time.perf_counter() - started) * 1000
        answer.timings_ms.update(timings)
        answer.note = note
        answer.verification = Verification(
            ok=False, dropped=list(result.dropped), fallback=result.fallback
        )
        return answer


def build_llm(settings: Settings) -> LLMAnswerer | None:
    """Return the LLM answerer when an LLM is configured, else None."""
    if not settings.llm_enabled:
        return None
    load_template("system")  # fail at start-up, loudly, when the prompts are missing
    return LLMAnswerer(settings)
