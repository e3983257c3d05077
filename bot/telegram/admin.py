"""Admin commands: /ingest (a file or a URL), /follow, /unfollow, /feeds, /stats.

Every handler here carries `admin_only(access)` in its filters; an allowed user who is not
an admin falls through to the refusal at the end of the list ("/stats is for admins.").
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from telegram import Message, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.telegram.access import admin_only
from bot.telegram.feature import NEW, Context, Feature, Handler
from bot.telegram.info import reply_html
from bot.telegram.render import esc
from bot.telegram.send import reply_text
from bot.telegram.services import Services

try:
    from retrieval import web
except ImportError:  # the [live] extra (httpx, trafilatura, feedparser) is not installed
    web = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

INGEST_SUFFIXES = (".txt", ".md", ".jsonl")
MAX_UPLOAD = 20 * 1024 * 1024  # the Bot API's getFile limit
NEEDS_LIVE = "Following feeds needs the [live] extra installed."
MENU = {  # the admin commands and their line in admins' command menu
    "ingest": "Ingest a URL or a replied-to file (admins)",
    "follow": "Follow an RSS/Atom feed (admins)",
    "unfollow": "Stop following a feed (admins)",
    "feeds": "Followed feeds and their status (admins)",
    "stats": "Usage today (admins)",
}


class Admin:
    """The admin handlers, sharing the services."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings

    async def on_stats(self, update: Update, context: Context) -> None:
        """/stats: questions today, refusal rate, latency p95, feedback."""
        if update.message is None:
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
        """/ingest: reply to an uploaded .txt/.md/.jsonl file, or give a URL."""
        message = update.message
        if message is None:
            return
        args = context.args or []
        if args and re.match(r"https?://", args[0]):
            await self._ingest_url(message, args[0])
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
        await self.services.announce(report.stored)
        log.info("Ingested upload %s for admin %s", name, message.from_user)
        await reply_text(message, f"Ingested {name}.\n{report.summary()}")

    async def _ingest_url(self, message: Message, url: str) -> None:
        if web is None:
            await reply_text(message, "Ingesting URLs needs the [live] extra installed.")
            return
        done = await web.ingest_urls(self.services.service, self.settings, [url])
        await reply_text(message, f"Result for {url}:\n{done.summary()}")
        if done.report is not None:
            await self.services.announce(done.report.stored)

    async def _feed_argument(
        self, update: Update, context: Context, usage: str
    ) -> tuple[Message, str] | None:
        """The message and its one argument; else the usage (or what is missing) is replied."""
        message, args = update.message, context.args or []
        if message is None:
            return None
        if len(args) != 1:
            await reply_text(message, usage)
            return None
        if web is None:
            await reply_text(message, NEEDS_LIVE)
            return None
        return message, args[0]

    async def on_follow(self, update: Update, context: Context) -> None:
        """/follow FEED_URL: follow a feed and ingest its items now."""
        got = await self._feed_argument(
            update, context, "Use /follow FEED_URL (an RSS or Atom feed)."
        )
        if got is None or web is None:
            return
        message, url = got
        # hold the round lock from the start, so the background follower cannot take this
        # feed's first items and leave this reply saying "0 new"
        async with self.services.follow_lock:
            try:
                added = await asyncio.to_thread(web.follow_feed, self.settings, url)
            except web.FetchError as exc:
                await reply_text(message, f"Cannot follow {url}: {exc.reason}.")
                return
            status = "Following" if added else "Already following"
            await reply_text(message, f"{status} {url}: checking it now…")
            report = await web.follow_once(self.services.service, self.settings, [url])
        await self.services.announce(report.stored)
        log.info("An admin followed %s: %d new article(s)", url, len(report.ingested))
        text = report.summary()
        if report.errors:
            text += "\nI will keep trying it; /unfollow stops that."
        await reply_html(message, esc(text))

    async def on_unfollow(self, update: Update, context: Context) -> None:
        """/unfollow URL_OR_NUMBER: stop following a feed."""
        usage = "Use /unfollow FEED_URL or /unfollow N (N from /feeds)."
        got = await self._feed_argument(update, context, usage)
        if got is None or web is None:
            return
        message, key = got
        removed = await asyncio.to_thread(web.unfollow_feed, self.settings, key)
        if removed is None:
            await reply_text(message, f"Not following {key}; /feeds lists the feeds.")
            return
        await reply_text(message, f"Stopped following {removed}.")

    async def on_feeds(self, update: Update, context: Context) -> None:
        """/feeds: followed feeds with last check, last new item and last error."""
        message = update.message
        if message is None:
            return
        if web is None:
            await reply_text(message, NEEDS_LIVE)
            return
        feeds = await asyncio.to_thread(web.list_feeds, self.settings)
        if not feeds:
            await reply_text(message, "No feeds followed. Add one with /follow FEED_URL.")
            return
        blocks = [f"{n}. {esc(f.describe())}" for n, f in enumerate(feeds, 1)]
        await reply_html(message, "<b>Followed feeds</b>\n" + "\n\n".join(blocks))

    async def on_document(self, update: Update, context: Context) -> None:
        """A file sent to the bot by an admin: say how to ingest it."""
        if update.message is not None:
            await reply_text(
                update.message, "Reply /ingest to this file to add it to the coverage."
            )


async def refuse(update: Update, context: Context) -> None:
    """An admin command from an allowed user who is not an admin."""
    message = update.message
    if message is None or not message.text:
        return
    command = message.text.split()[0].lstrip("/").split("@")[0].lower()
    await reply_text(message, f"/{command} is for admins.")


def handlers(services: Services) -> Sequence[Handler]:
    a = Admin(services)
    admins = NEW & admin_only(services.access)
    return [
        CommandHandler("stats", a.on_stats, filters=admins),
        CommandHandler("ingest", a.on_ingest, filters=admins),
        CommandHandler("follow", a.on_follow, filters=admins),
        CommandHandler("unfollow", a.on_unfollow, filters=admins),
        CommandHandler("feeds", a.on_feeds, filters=admins),
        MessageHandler(admins & filters.ChatType.PRIVATE & filters.Document.ALL, a.on_document),
        CommandHandler(list(MENU), refuse, filters=NEW),
    ]


FEATURE = Feature(handlers, admin_menu=MENU)
