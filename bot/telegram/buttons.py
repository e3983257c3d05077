"""The buttons under an answer: Sources (expand them) and 👍 / 👎 (stored with the answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.telegram.feature import Context, Feature, Handler
from bot.telegram.render import render_sources
from bot.telegram.send import send_html
from bot.telegram.services import Services


def answer_buttons(answer_id: int, with_sources: bool) -> InlineKeyboardMarkup:
    """The row under an answer; the callback data is `ACTION:ANSWER_ID`."""
    row = (
        [InlineKeyboardButton("Sources", callback_data=f"src:{answer_id}")] if with_sources else []
    )
    row += [
        InlineKeyboardButton("👍", callback_data=f"up:{answer_id}"),
        InlineKeyboardButton("👎", callback_data=f"down:{answer_id}"),
    ]
    return InlineKeyboardMarkup([row])


class Buttons:
    """The callback handler, sharing the services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_button(self, update: Update, context: Context) -> None:
        """Sources (sent to the chat the answer was given in) and votes."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        chat = update.effective_chat
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


def handlers(services: Services) -> Sequence[Handler]:
    return [CallbackQueryHandler(Buttons(services).on_button)]


FEATURE = Feature(handlers)
