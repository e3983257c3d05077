"""Update handlers: questions (private, mention, reply, /ask), commands, buttons, errors."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import Conflict, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.telegram.live import LiveCommands
from bot.telegram.render import render_answer, render_sources
from bot.telegram.send import StreamPreview, reply_text, send_html, stream_answer, typing
from bot.telegram.services import Services
from retrieval.config import Settings
from retrieval.errors import NewsdeskError
from retrieval.types import Answer

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."
NON_TEXT = "Send me a question as text, and I'll answer from the news coverage I have."
Context = ContextTypes.DEFAULT_TYPE


class Handlers:
    """Every handler of the bot, sharing the settings and the services."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings
        self.services = services
        self.commands = LiveCommands(settings, services)

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers and the one error handler to `app`."""
        new = filters.UpdateType.MESSAGE  # edited messages are ignored
        cmd = self.commands
        app.add_handler(CommandHandler("ask", self.on_ask, filters=new))
        app.add_handler(CommandHandler(["start", "help"], cmd.on_start, filters=new))
        app.add_handler(CommandHandler("sources", cmd.on_sources, filters=new))
        app.add_handler(CommandHandler("stats", cmd.on_stats, filters=new))
        app.add_handler(CommandHandler("ingest", cmd.on_ingest, filters=new))
        app.add_handler(CommandHandler("latest", cmd.on_latest, filters=new))
        app.add_handler(CommandHandler("brief", cmd.on_brief, filters=new))
        app.add_handler(CommandHandler("follow", cmd.on_follow, filters=new))
        app.add_handler(CommandHandler("unfollow", cmd.on_unfollow, filters=new))
        app.add_handler(CommandHandler("feeds", cmd.on_feeds, filters=new))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, self.on_text))
        private = new & filters.ChatType.PRIVATE
        app.add_handler(MessageHandler(private & filters.COMMAND, cmd.on_unknown))
        app.add_handler(MessageHandler(private & ~filters.TEXT, self.on_non_text))
        app.add_error_handler(self.on_error)

    # -- questions -------------------------------------------------------------------------
    async def on_text(self, update: Update, context: Context) -> None:
        """Private chats: every text is a question. Groups: only mentions and replies to us."""
        message, chat = update.message, update.effective_chat
        if message is None or chat is None or message.text is None or _from_bot(update):
            return
        if chat.type == ChatType.PRIVATE:
            await self.ask(update, context, message.text)
            return
        question = _addressed_question(message, context.bot.username, context.bot.id)
        if question is not None:
            await self.ask(update, context, question)

    async def on_ask(self, update: Update, context: Context) -> None:
        """`/ask QUESTION` (in groups too)."""
        if update.message is None or _from_bot(update):
            return
        question = " ".join(context.args or [])
        if not question.strip() and update.message.reply_to_message is not None:
            question = update.message.reply_to_message.text or ""
        await self.ask(update, context, question)

    async def on_non_text(self, update: Update, context: Context) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if update.message is None or chat is None or _from_bot(update):
            return
        if not self.services.access.allows(user.id if user else None, chat.id):
            return
        if update.message.document is not None and self.services.access.is_admin(
            user.id if user else None
        ):
            await reply_text(
                update.message, "Reply /ingest to this file to add it to the coverage."
            )
            return
        await reply_text(update.message, NON_TEXT)

    async def ask(self, update: Update, context: Context, question: str) -> None:
        """Gate a question (access, length, limits), answer it in chat order, deliver it."""
        message, chat, user = update.message, update.effective_chat, update.effective_user
        if message is None or chat is None or user is None:
            return
        services = self.services
        if not services.access.allows(user.id, chat.id):
            log.info("Ignored a message from user %s in chat %s: not allowed", user.id, chat.id)
            return
        started = time.monotonic()
        question = " ".join(question.split())
        if not question:
            await reply_text(message, "Ask me a question, e.g. /ask What happened this week?")
            return
        limit = self.settings.max_question_chars
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
                await reply_text(message, _limit_message(verdict.reason, verdict.retry_after))
            return
        # Take the chat's lock before any await: tasks reach it in update order, and
        # asyncio.Lock serves waiters first come, first served, so one chat stays in order.
        async with services.chat_lock(chat.id):
            await asyncio.to_thread(services.state.count_question, user.id)
            await self._answer(context, chat, user.id, message, question, started)

    async def _answer(
        self, context: Context, chat: Chat, user_id: int, message: Message, question: str,
        started: float,
    ) -> None:  # fmt: skip
        services, bot = self.services, context.bot
        history = await asyncio.to_thread(
            services.state.history, chat.id, self.settings.history_turns
        )
        preview: StreamPreview | None = None
        async with services.slots, typing(bot, chat.id):
            answer: Answer
            if services.stream and chat.type == ChatType.PRIVATE:
                preview = StreamPreview(bot, chat.id, message.message_id)
                answer = await stream_answer(preview, services.service.astream(question, history))
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
            markup=_buttons(answer_id, bool(answer.citations) and not answer.refused),
            preview=preview.message if preview else None,
        )
        log.info(
            "Answered chat %s in %.0f ms (%s, %d sources%s)",
            chat.id,
            latency_ms,
            answer.mode,
            len(answer.citations),
            ", refused" if answer.refused else "",
        )

    # -- buttons -------------------------------------------------------------------------
    async def on_button(self, update: Update, context: Context) -> None:
        """Sources (expand them) and 👍 / 👎 (stored with the answer id)."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        chat = update.effective_chat
        if not self.services.access.allows(query.from_user.id, chat.id if chat else None):
            await query.answer()
            return
        action, _, raw_id = query.data.partition(":")
        answer_id = int(raw_id) if raw_id.isdigit() else -1
        state = self.services.state
        if action == "src":
            stored = await asyncio.to_thread(state.get_answer, answer_id)
            await query.answer()
            if stored is not None and chat is not None and stored.chat_id == chat.id:
                await send_html(context.bot, chat.id, render_sources(stored.citations))
            return
        if action in {"up", "down"}:
            vote = 1 if action == "up" else -1
            ok = await asyncio.to_thread(state.record_feedback, answer_id, query.from_user.id, vote)
            await query.answer("Thanks for the feedback." if ok else "That answer is gone.")
            return
        await query.answer()

    # -- errors --------------------------------------------------------------------------
    async def on_error(self, update: object, context: Context) -> None:
        """The one error handler: the traceback to the log, a short apology to the chat."""
        err = context.error
        if isinstance(err, Conflict):
            log.error("409 Conflict from the Bot API: another process uses this bot token.")
            return
        if update is None and isinstance(err, NetworkError):
            log.warning("Bot API request failed (will retry): %s", err)
            return
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("Error while handling update %s", update_id, exc_info=err)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        if not self.services.access.allows(user.id if user else None, update.effective_chat.id):
            return
        text = err.user_message if isinstance(err, NewsdeskError) else APOLOGY
        try:
            await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError as exc:
            log.warning("Could not send the apology to chat %s: %s", update.effective_chat.id, exc)


def _from_bot(update: Update) -> bool:
    user = update.effective_user
    return user is None or user.is_bot


def _addressed_question(message: Message, username: str, bot_id: int) -> str | None:
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


def _buttons(answer_id: int, with_sources: bool) -> InlineKeyboardMarkup:
    row = (
        [InlineKeyboardButton("Sources", callback_data=f"src:{answer_id}")] if with_sources else []
    )
    row += [
        InlineKeyboardButton("👍", callback_data=f"up:{answer_id}"),
        InlineKeyboardButton("👎", callback_data=f"down:{answer_id}"),
    ]
    return InlineKeyboardMarkup([row])


def _limit_message(reason: str, retry_after: float) -> str:
    if reason == "daily":
        return "You've reached today's limit of questions. Please come back tomorrow."
    return (
        f"You're asking a bit fast. Please wait {max(1, round(retry_after))} seconds and try again."
    )
