"""What the bot holds and how to use it: /start, /help, /sources, /latest, unknown commands."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import BotCommand, Message, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.telegram import deeplink
from bot.telegram.feature import NEW, Context, Feature, Handler
from bot.telegram.render import esc, esc_attr, render_sources
from bot.telegram.send import reply_text, send_html
from bot.telegram.services import Services
from retrieval.errors import NewsdeskError

if TYPE_CHECKING:
    from retrieval.store import ArticleRecord

log = logging.getLogger(__name__)

MENU = {  # the commands and their line in the command menu
    "start": "What the coverage holds",
    "help": "How to ask",
    "sources": "Full sources of the last answer",
    "latest": "The newest articles in the coverage",
}

FALLBACK_EXAMPLES = ("What did Germany say about Macron's remarks?", "What happened this week?")
EXAMPLES_SECONDS = 600.0  # /start's example questions are made again after this
LATEST_DEFAULT, LATEST_MAX = 10, 30
EMPTY = "The coverage is empty for now: an admin can add articles with /ingest."

HELP = (
    "<b>How to ask</b>\n"
    "In a private chat, just send your question. In a group, mention me "
    "(@{username} QUESTION), reply to one of my messages, or use /ask QUESTION. "
    "In any chat, type @{username} QUESTION to share a cited answer there.\n\n"
    "Every answer quotes the coverage and numbers its sources [n]; "
    "/sources shows them in full. Follow-up questions work."
)
# What a command takes, for /help (the menus have no room for it)
USAGE = {
    "ask": "QUESTION",
    "latest": "[N]",
    "brief": "[TOPIC]",
    "alert": "TOPIC",
    "unalert": "N",
    "digest": "daily HH:MM | off",
    "timezone": "[Area/City]",
    "ingest": "URL",
    "follow": "FEED_URL",
    "unfollow": "URL_OR_N",
}


def help_text(username: str, commands: Sequence[BotCommand], admin: Sequence[BotCommand]) -> str:
    """How to ask, then every command this user may use (admins see theirs too)."""

    def line(c: BotCommand) -> str:
        usage = f" {USAGE[c.command]}" if c.command in USAGE else ""
        return f"/{c.command}{esc(usage)} — {esc(c.description)}"

    parts = [
        HELP.format(username=esc(username)),
        "<b>Commands</b>\n" + "\n".join(map(line, commands)),
    ]
    if admin:
        parts.append("<b>Admins</b>\n" + "\n".join(map(line, admin)))
    return "\n\n".join(parts)


def render_latest(records: Sequence[ArticleRecord]) -> str:
    """Numbered newest articles: linked headline, outlet and date (HTML, escaped)."""
    if not records:
        return EMPTY
    lines = ["<b>Latest articles</b>"]
    for n, rec in enumerate(records, 1):
        title = esc(rec.title.strip() or "Untitled")
        link = rec.url.startswith("http")
        headline = f'<a href="{esc_attr(rec.url)}">{title}</a>' if link else title
        meta = [esc(rec.outlet), rec.published.isoformat() if rec.published else ""]
        shown = ", ".join(m for m in meta if m)
        lines.append(f"{n}. {headline}" + (f" — {shown}" if shown else ""))
    return "\n".join(lines)


async def reply_html(message: Message, html: str) -> None:
    """An HTML reply quoting `message`, split under Telegram's length limit."""
    await send_html(message.get_bot(), message.chat_id, html, reply_to=message.message_id)


class Info:
    """The information commands, sharing the services."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._examples_cache: tuple[float, list[str]] | None = None  # (until, questions)

    async def on_start(self, update: Update, context: Context) -> None:
        """/start and /help: what the coverage holds, two example questions, how to ask."""
        message, user = update.message, update.effective_user
        if message is None:
            return
        admin = self.services.access.is_admin(user.id if user else None)
        menus = context.bot_data.get("menus", ((), ()))
        howto = help_text(context.bot.username, menus[0], menus[1] if admin else ())
        if message.text and message.text.startswith("/help"):
            await reply_html(message, howto)
            return
        stats = await asyncio.to_thread(self.services.service.stats)
        if stats.articles == 0:
            intro = (
                "I answer questions about news coverage, quoting my sources. "
                "The coverage is empty for now: an admin can add articles with /ingest."
            )
        else:
            outlets = ", ".join(stats.outlets[:5]) + (" …" if len(stats.outlets) > 5 else "")
            span = ""
            if stats.first_published and stats.last_published:
                span = (
                    f", published {stats.first_published.isoformat()} to "
                    f"{stats.last_published.isoformat()}"
                )
            intro = (
                f"I answer questions about the news coverage I hold: {stats.articles:,} "
                f"article{'s' if stats.articles != 1 else ''} from {len(stats.outlets)} "
                f"outlet{'s' if len(stats.outlets) != 1 else ''} ({outlets}){span}. "
                "Every answer quotes its sources."
            )
        examples = "\n".join(f"• {q}" for q in await self._examples())
        text = f"{esc(intro)}\n\n<b>Try</b>\n{esc(examples)}\n\n{howto}"
        await reply_html(message, text)

    async def _examples(self) -> list[str]:
        """Two questions the coverage answers, about its newest articles (cached a while)."""
        now = time.monotonic()
        if self._examples_cache is not None and self._examples_cache[0] > now:
            return self._examples_cache[1]
        found: list[str] = []
        try:
            found = await asyncio.to_thread(self.services.service.examples, 2)
        except NewsdeskError as exc:  # examples are a nicety: /start goes on without them
            log.warning("No example questions for /start: %s", exc)
        examples = found + list(FALLBACK_EXAMPLES[: 2 - len(found)])
        self._examples_cache = (now + EXAMPLES_SECONDS, examples)
        return examples

    async def on_sources(self, update: Update, context: Context) -> None:
        """/sources: the full sources of this chat's last answer, with quotes."""
        if update.message is None:
            return
        stored = await asyncio.to_thread(self.services.state.last_answer, update.message.chat_id)
        if stored is None:
            await reply_text(update.message, "No answer in this chat yet: ask me something first.")
            return
        await send_html(context.bot, update.message.chat_id, render_sources(stored.citations))

    async def on_latest(self, update: Update, context: Context) -> None:
        """/latest [N]: the newest articles in the coverage."""
        message = update.message
        if message is None:
            return
        args = context.args or []
        if args and not args[0].isdigit():
            await reply_text(message, f"Use /latest or /latest N (at most {LATEST_MAX}).")
            return
        n = min(max(int(args[0]) if args else LATEST_DEFAULT, 1), LATEST_MAX)
        records = await asyncio.to_thread(self.services.service.latest, n)
        await reply_html(message, render_latest(records))


async def on_unknown(update: Update, context: Context) -> None:
    """A command no feature handles, in a private chat."""
    if update.message is not None:
        await reply_text(update.message, "I don't know that command. Try /help.")


def unknown_command() -> Handler:
    """The catch-all for commands: registered after every feature's handlers."""
    return MessageHandler(NEW & filters.ChatType.PRIVATE & filters.COMMAND, on_unknown)


def handlers(services: Services) -> Sequence[Handler]:
    info = Info(services)
    return [
        # `/start PAYLOAD` of a deep link is the feature's it opens (questions, alerts)
        CommandHandler(["start", "help"], info.on_start, filters=NEW & ~deeplink.Opens()),
        CommandHandler("sources", info.on_sources, filters=NEW),
        CommandHandler("latest", info.on_latest, filters=NEW),
    ]


FEATURE = Feature(handlers, MENU)
