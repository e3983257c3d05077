"""Commands: /start, /help, /sources, and the admin-only /stats and /ingest (see live.py)."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from pathlib import Path

from telegram import BotCommand, Update
from telegram.ext import ContextTypes

from bot.telegram.render import esc, render_answer, render_sources
from bot.telegram.send import reply_text, send_html
from bot.telegram.services import Services
from retrieval.config import Settings

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

INGEST_SUFFIXES = (".txt", ".md", ".jsonl")
MAX_UPLOAD = 20 * 1024 * 1024  # the Bot API's getFile limit
FALLBACK_EXAMPLES = ("What did Germany say about Macron's remarks?", "What happened this week?")

COMMANDS = [
    BotCommand("start", "What the coverage holds"),
    BotCommand("help", "How to ask"),
    BotCommand("ask", "Ask a question (in groups)"),
    BotCommand("sources", "Full sources of the last answer"),
    BotCommand("latest", "The newest articles in the coverage"),
    BotCommand("brief", "A briefing: the newest coverage, or /brief TOPIC"),
]
ADMIN_COMMANDS = [
    *COMMANDS,
    BotCommand("ingest", "Ingest a URL or a replied-to file (admins)"),
    BotCommand("follow", "Follow an RSS/Atom feed (admins)"),
    BotCommand("unfollow", "Stop following a feed (admins)"),
    BotCommand("feeds", "Followed feeds and their status (admins)"),
    BotCommand("stats", "Usage today (admins)"),
]

HELP = (
    "<b>How to ask</b>\n"
    "In a private chat, just send your question. In a group, mention me "
    "(@{username} QUESTION), reply to one of my messages, or use /ask QUESTION.\n\n"
    "Every answer quotes the coverage and numbers its sources [n]; "
    "/sources shows them in full. Follow-up questions work.\n\n"
    "<b>Commands</b>\n/start · /help · /ask · /sources · /latest · /brief [topic]"
)
ADMIN_HELP = (
    "\n\n<b>Admins</b>\n/ingest URL (or reply to a file) · /follow FEED_URL · "
    "/unfollow URL_OR_N · /feeds · /stats"
)


class Commands:
    """Command handlers sharing the settings and the services."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings
        self.services = services

    def _allowed(self, update: Update) -> bool:
        user, chat = update.effective_user, update.effective_chat
        if user is None or user.is_bot:
            return False
        return self.services.access.allows(user.id, chat.id if chat else None)

    def _admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and self.services.access.is_admin(user.id)

    async def on_start(self, update: Update, context: Context) -> None:
        """/start and /help: what the coverage holds, two example questions, how to ask."""
        if update.message is None or not self._allowed(update):
            return
        howto = HELP.format(username=esc(context.bot.username))
        if self._admin(update):
            howto += ADMIN_HELP
        if update.message.text and update.message.text.startswith("/help"):
            await send_html(context.bot, update.message.chat_id, howto)
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
        await send_html(context.bot, update.message.chat_id, text)

    async def _examples(self) -> list[str]:
        latest = getattr(self.services.service, "latest", None)
        titles: list[str] = []
        if callable(latest):
            try:
                items = await asyncio.to_thread(latest, 2)
                titles = [str(getattr(a, "title", "")).strip() for a in items]
            except Exception:  # examples are a nicety: never fail /start over them
                log.debug("latest() failed", exc_info=True)
        examples = [f"What does the coverage say about “{t}”?" for t in titles if t][:2]
        return examples + list(FALLBACK_EXAMPLES[: 2 - len(examples)])

    async def on_sources(self, update: Update, context: Context) -> None:
        """/sources: the full sources of this chat's last answer, with quotes."""
        if update.message is None or not self._allowed(update):
            return
        stored = await asyncio.to_thread(self.services.state.last_answer, update.message.chat_id)
        if stored is None:
            await reply_text(update.message, "No answer in this chat yet: ask me something first.")
            return
        await send_html(context.bot, update.message.chat_id, render_sources(stored.citations))

    async def on_brief(self, update: Update, context: Context) -> None:
        """/brief [TOPIC or time phrase]: headlines and leads, cited, newest first."""
        if update.message is None or not self._allowed(update):
            return
        brief = getattr(self.services.service, "brief", None)
        if not callable(brief):
            await reply_text(update.message, "Briefings are not available here.")
            return
        answer = await asyncio.to_thread(brief, " ".join(context.args or []))
        await send_html(context.bot, update.message.chat_id, render_answer(answer))

    async def on_stats(self, update: Update, context: Context) -> None:
        """/stats (admins): questions today, refusal rate, latency p95, feedback."""
        if update.message is None or not self._allowed(update):
            return
        if not self._admin(update):
            await reply_text(update.message, "/stats is for admins.")
            return
        usage = await asyncio.to_thread(self.services.state.stats)
        cov = await asyncio.to_thread(self.services.service.stats)
        await reply_text(
            update.message,
            f"Today ({usage.day} UTC): {usage.questions} questions answered, "
            f"refusal rate {usage.refusal_rate:.0%}, latency p95 {usage.p95_ms / 1000:.2f} s, "
            f"feedback 👍 {usage.thumbs_up} / 👎 {usage.thumbs_down}.\n"
            f"Coverage: {cov.articles:,} articles, {cov.chunks:,} chunks, "
            f"{len(cov.outlets)} outlets.",
        )

    async def on_ingest(self, update: Update, context: Context) -> None:
        """/ingest (admins): reply to an uploaded .txt/.md/.jsonl file, or give a URL."""
        message = update.message
        if message is None or not self._allowed(update):
            return
        if not self._admin(update):
            await reply_text(message, "/ingest is for admins.")
            return
        args = context.args or []
        if args and re.match(r"https?://", args[0]):
            await self._ingest_url(update, args[0])
            return
        doc = message.reply_to_message.document if message.reply_to_message else None
        if doc is None:
            await reply_text(
                message, "Reply /ingest to an uploaded .txt, .md or .jsonl file (or give a URL)."
            )
            return
        name = Path(doc.file_name or "upload.txt").name
        if not name.lower().endswith(INGEST_SUFFIXES):
            await reply_text(message, "I can ingest .txt, .md and .jsonl files.")
            return
        if doc.file_size and doc.file_size > MAX_UPLOAD:
            await reply_text(message, "That file is too large (the limit is 20 MB).")
            return
        uploads = Path(self.settings.data_dir) / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="ingest-", dir=uploads))
        try:
            path = tmp / re.sub(r"[^\w.\-]+", "_", name)
            tg_file = await doc.get_file()
            await tg_file.download_to_drive(path)
            report = await asyncio.to_thread(self.services.service.ingest, [path])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("Ingested upload %s for admin %s", name, message.from_user)
        await reply_text(message, f"Ingested {name}.\n{report.summary()}")

    async def _ingest_url(self, update: Update, url: str) -> None:
        assert update.message is not None
        hook = self.services.ingest_url
        if hook is None:
            await reply_text(update.message, "Ingesting URLs is not available in this version.")
            return
        try:
            report = await hook(url)
        except ImportError as exc:
            log.warning("URL ingest unavailable: %s", exc)
            await reply_text(update.message, "Ingesting URLs needs the [live] extra installed.")
            return
        await reply_text(update.message, f"Result for {url}:\n{report.summary()}")

    async def on_unknown(self, update: Update, context: Context) -> None:
        """An unknown command in a private chat."""
        if update.message is None or not self._allowed(update):
            return
        await reply_text(update.message, "I don't know that command. Try /help.")
