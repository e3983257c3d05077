"""Briefings: /brief [TOPIC or time phrase], the newest (or most relevant) coverage, cited."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from telegram import Update
from telegram.ext import CommandHandler

from bot.telegram.feature import NEW, Context, Feature, Handler
from bot.telegram.render import render_answer
from bot.telegram.send import answer_link, send_html
from bot.telegram.services import Services

MENU = {"brief": "A briefing: the newest coverage, or /brief TOPIC"}


def handlers(services: Services) -> Sequence[Handler]:
    async def on_brief(update: Update, context: Context) -> None:
        """/brief [TOPIC]: headlines with their leads quoted and cited, newest first."""
        message = update.message
        if message is None:
            return
        topic = " ".join(context.args or []) or None
        async with services.slots:
            answer = await asyncio.to_thread(services.service.brief, topic)
        await send_html(context.bot, message.chat_id, render_answer(answer),
                        reply_to=message.message_id, link=answer_link(answer))  # fmt: skip

    return [CommandHandler("brief", on_brief, filters=NEW)]


FEATURE = Feature(handlers, MENU)
