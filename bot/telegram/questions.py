"""Questions: private text, group mentions and replies to the bot, /ask; answered in chat order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from telegram import Chat, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.telegram import deeplink
from bot.telegram.buttons import answer_buttons
from bot.telegram.feature import NEW, Context, Feature, Handler
from bot.telegram.render import render_answer
from bot.telegram.send import (
    TYPING_DELAY,
    StreamPreview,
    answer_link,
    reply_text,
    send_html,
    stream_answer,
    typing,
)
from bot.telegram.services import Services
from retrieval.types import Answer

log = logging.getLogger(__name__)

MENU = {"ask": "Ask a question (in groups)"}  # its line in the command menu

NON_TEXT = "Send me a question as text, and I'll answer from the news coverage I have."


class Questions:
    """The question handlers, sharing the services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_text(self, update: Update, context: Context) -> None:
        """Private chats: every text is a question. Groups: only mentions and replies to us."""
        message, chat = update.message, update.effective_chat
        if message is None or chat is None or message.text is None:
            return
        if chat.type == ChatType.PRIVATE:
            await self.ask(update, context, message.text)
            return
        question = addressed_question(message, context.bot.username, context.bot.id)
        if question is not None:
            await self.ask(update, context, question)

    async def on_ask(self, update: Update, context: Context) -> None:
        """`/ask QUESTION` (in groups too); `/ask` in reply to a message asks its text."""
        if update.message is None:
            return
        question = " ".join(context.args or [])
        if not question.strip() and update.message.reply_to_message is not None:
            question = update.message.reply_to_message.text or ""
        await self.ask(update, context, question)

    async def on_deep_link(self, update: Update, context: Context) -> None:
        """`t.me/BOT?start=q…`: the chat opens on a question; answer it."""
        link = deeplink.payload_of(update.message) if update.message else None
        if link is not None:
            await self.ask(update, context, link.text)

    async def on_non_text(self, update: Update, context: Context) -> None:
        """A photo, sticker or file in a private chat: say how to ask."""
        if update.message is not None:
            await reply_text(update.message, NON_TEXT)

    async def ask(self, update: Update, context: Context, question: str) -> None:
        """Check a question (length, limits), answer it in chat order, deliver it."""
        message, chat, user = update.message, update.effective_chat, update.effective_user
        if message is None or chat is None or user is None:
            return
        services = self.services
        started = time.monotonic()
        question = " ".join(question.split())
        if not question:
            await reply_text(message, "Ask me a question, e.g. /ask What happened this week?")
            return
        limit = services.settings.max_question_chars
        if len(question) > limit:
            await reply_text(
                message,
                f"That question is {len(question):,} characters long; please keep it under "
                f"{limit:,} characters.",
            )
            return
        verdict = services.limits.check(user.id)
        if not verdict.ok:
            log.info("User %s is over the %s limit", user.id, verdict.reason)
            if services.limits.should_warn(user.id):
                await reply_text(message, limit_message(verdict.reason, verdict.retry_after))
            return
        # Take the chat's lock before any await: tasks reach it in update order, and
        # asyncio.Lock serves waiters first come, first served, so one chat stays in order.
        # (The access gate in group -1 never awaits, so it does not reorder them either.)
        async with services.chat_lock(chat.id):
            await asyncio.to_thread(services.state.count_question, user.id)
            await self._answer(context, chat, user.id, message, question, started)

    async def _answer(
        self, context: Context, chat: Chat, user_id: int, message: Message, question: str,
        started: float,
    ) -> None:  # fmt: skip
        services, bot = self.services, context.bot
        history = await asyncio.to_thread(
            services.state.history, chat.id, services.settings.history_turns
        )
        preview: StreamPreview | None = None
        # With an LLM "typing…" shows at once: the answer may take seconds (its deadlines
        # are the service's); without one most answers are there before it would show.
        async with services.slots, typing(bot, chat.id, 0.0 if services.stream else TYPING_DELAY):
            answer: Answer
            if services.stream:
                if chat.type == ChatType.PRIVATE:
                    preview = StreamPreview(bot, chat.id, message.message_id)
                events = services.service.astream(question, history)
                answer = await stream_answer(preview, events)
            else:
                answer = await asyncio.to_thread(services.service.answer, question, history)
        latency_ms = (time.monotonic() - started) * 1000.0
        answer_id = await asyncio.to_thread(
            services.state.record_answer,
            chat.id,
            user_id,
            answer,
            question_message_id=message.message_id,
            latency_ms=latency_ms,
        )
        await send_html(
            bot,
            chat.id,
            render_answer(answer),
            reply_to=message.message_id,
            markup=answer_buttons(answer_id, bool(answer.citations) and not answer.refused),
            preview=preview.message if preview else None,
            link=answer_link(answer),
        )
        log.info(
            "Answered chat %s in %.0f ms (%s, %d sources%s)",
            chat.id,
            latency_ms,
            answer.mode,
            len(answer.citations),
            ", refused" if answer.refused else "",
        )


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question of a group message addressed to the bot, or None if it is not."""
    text = message.text or ""
    mentioned = False
    spans: list[tuple[int, int]] = []
    for entity, value in message.parse_entities([MessageEntity.MENTION]).items():
        if value.lstrip("@").lower() == username.lower():
            mentioned = True
            spans.append((entity.offset, entity.length))
    for entity in message.entities:
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            mentioned = True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        mentioned = True
    if not mentioned:
        return None
    if spans:  # drop "@botname" (offsets are UTF-16)
        raw = text.encode("utf-16-le")
        for offset, length in sorted(spans, reverse=True):
            raw = raw[: 2 * offset] + raw[2 * (offset + length) :]
        text = raw.decode("utf-16-le")
    return text.strip(" ,:\n")


def limit_message(reason: str, retry_after: float) -> str:
    """What a user over a limit is told."""
    if reason == "daily":
        return "You've reached today's limit of questions. Please come back tomorrow."
    return (
        f"You're asking a bit fast. Please wait {max(1, round(retry_after))} seconds and try again."
    )


def handlers(services: Services) -> Sequence[Handler]:
    """Questions; a photo or file in a private chat gets a hint instead."""
    q = Questions(services)
    return [
        CommandHandler("ask", q.on_ask, filters=NEW),
        CommandHandler("start", q.on_deep_link, filters=NEW & deeplink.Opens("question")),
        MessageHandler(NEW & filters.TEXT & ~filters.COMMAND, q.on_text),
        MessageHandler(NEW & filters.ChatType.PRIVATE & ~filters.TEXT, q.on_non_text),
    ]


FEATURE = Feature(handlers, MENU)
