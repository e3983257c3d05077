"""Inline mode: `@bot question` in any chat offers the cited answer as a message to send.

Answers are extractive even with an LLM configured: Telegram expects an inline answer within
seconds, and a reader types while results show. Each user's queries are debounced (only the
last one after a short pause is answered), cached per question for a minute, and counted
against the same per-user limits as questions. Strangers never get here: the access gate
stops their inline queries like their messages (an inline query has no chat, so only
NEWSDESK_ALLOWED_USER_IDS and admins can use inline mode when an allow-list is set).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence

from telegram import (
    InlineQuery,
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import InlineQueryHandler

from bot.telegram import deeplink
from bot.telegram.feature import Context, Feature, Handler
from bot.telegram.render import esc, render_answer, source_line, split_message
from bot.telegram.send import answer_link, link_preview
from bot.telegram.services import Services
from retrieval.types import Answer, Citation

log = logging.getLogger(__name__)

DEBOUNCE = 0.6  # seconds a query waits for the next keystroke before it is answered
CACHE_SECONDS = 60  # ours and Telegram's (cache_time)
CACHE_SIZE = 256
DEADLINE = 8.0  # seconds: Telegram drops inline answers after about ten
MIN_CHARS = 3
SOURCE_RESULTS = 2  # results after the answer: its first sources, one each


class Inline:
    """The inline query handler, with its cache and each user's latest query."""

    def __init__(self, services: Services, *, debounce: float = DEBOUNCE) -> None:
        self.services = services
        self.debounce = debounce
        self._cache: OrderedDict[str, tuple[float, list[InlineQueryResult]]] = OrderedDict()
        self._latest: dict[int, str] = {}  # user id -> id of their newest query

    async def on_query(self, update: Update, context: Context) -> None:
        query = update.inline_query
        if query is None:
            return
        question = " ".join(query.query.split())
        limit = self.services.settings.max_question_chars
        if len(question) < MIN_CHARS:
            await self._reply(query, [], "Type a question about the news", "help")
            return
        if len(question) > limit:
            await self._reply(query, [], f"Questions are up to {limit:,} characters")
            return
        key = question.casefold()
        cached = self._cached(key)
        if cached is not None:
            await self._reply(query, cached)
            return
        user_id = query.from_user.id
        self._latest[user_id] = query.id
        await asyncio.sleep(self.debounce)
        if self._latest.get(user_id) != query.id:
            return  # the user typed on: only their latest query is answered
        self._latest.pop(user_id, None)
        verdict = self.services.limits.check(user_id)
        if not verdict.ok:
            wait = "tomorrow" if verdict.reason == "daily" else f"in {round(verdict.retry_after)} s"
            await self._reply(query, [], f"Too many questions: try again {wait}", cache=False)
            return
        try:
            answer = await asyncio.wait_for(self._answer(user_id, question), DEADLINE)
        except TimeoutError:
            log.warning("Inline answer for user %s took longer than %.0f s", user_id, DEADLINE)
            await self._reply(query, [], "Busy: ask me in a private chat", question, cache=False)
            return
        if answer.refused:
            await self._reply(query, [], "Not in the coverage: ask me in a private chat", question)
            return
        results = inline_results(answer, question)
        self._remember(key, results)
        await self._reply(query, results)

    async def _answer(self, user_id: int, question: str) -> Answer:
        service, state = self.services.service, self.services.state
        answer = await asyncio.to_thread(service.quote, question)
        await asyncio.to_thread(state.count_question, user_id)
        return answer

    async def _reply(
        self,
        query: InlineQuery,
        results: Sequence[InlineQueryResult],
        button: str = "",
        question: str = "",
        *,
        cache: bool = True,
    ) -> None:
        """Answer the query; a `button` opens a private chat (on `question`, if given)."""
        start = deeplink.encode("question", question) if question else "help"
        try:
            await query.answer(
                results,
                cache_time=CACHE_SECONDS if cache else 0,
                # with an allow-list Telegram must not hand cached results to a stranger
                is_personal=not self.services.access.open,
                button=InlineQueryResultsButton(button, start_parameter=start) if button else None,
            )
        except TelegramError as exc:  # too late, or the user went on typing
            log.info("Inline answer not delivered: %s", exc)

    def _cached(self, key: str) -> list[InlineQueryResult] | None:
        got = self._cache.get(key)
        if got is None or got[0] < time.monotonic():
            self._cache.pop(key, None)
            return None
        return got[1]

    def _remember(self, key: str, results: list[InlineQueryResult]) -> None:
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, results)
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _source_label(c: Citation) -> str:
    meta = ", ".join(p for p in (c.outlet, c.published.isoformat() if c.published else "") if p)
    return f"[{c.n}] {c.title or c.outlet or 'Article'}" + (f" ({meta})" if meta else "")


def inline_results(answer: Answer, question: str) -> list[InlineQueryResult]:
    """The answer (question, answer, sources: the message to send), then its first sources."""
    digest = hashlib.sha1(question.casefold().encode()).hexdigest()[:16]
    html = f"<b>{esc(question)}</b>\n\n{render_answer(answer)}"
    message = InputTextMessageContent(
        split_message(html)[0],  # one message: the first part, tags balanced
        parse_mode=ParseMode.HTML,
        link_preview_options=link_preview(answer_link(answer)),
    )
    results: list[InlineQueryResult] = [
        InlineQueryResultArticle(
            id=f"a-{digest}",
            title=_short(answer.answer, 100),
            description=_short("; ".join(_source_label(c) for c in answer.citations), 200),
            input_message_content=message,
        )
    ]
    for c in answer.citations[:SOURCE_RESULTS]:
        results.append(
            InlineQueryResultArticle(
                id=f"s{c.n}-{digest}",
                title=_short(c.title or c.outlet or "Source", 100),
                description=_short(c.quote, 200),
                url=c.url if c.url.startswith("http") else None,
                input_message_content=InputTextMessageContent(
                    split_message(source_line(c, full_quote=True))[0],
                    parse_mode=ParseMode.HTML,
                    link_preview_options=link_preview(c.url),
                ),
            )
        )
    return results


def handlers(services: Services) -> Sequence[Handler]:
    return [InlineQueryHandler(Inline(services).on_query)]


FEATURE = Feature(handlers)
