"""Live-coverage commands: /latest for everyone; admin-only /follow, /unfollow and /feeds."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

from telegram import Message, Update

from bot.telegram.commands import Commands, Context
from bot.telegram.follower import article_sink
from bot.telegram.render import esc, esc_attr
from bot.telegram.send import reply_text, send_html

log = logging.getLogger(__name__)

LATEST_DEFAULT, LATEST_MAX = 10, 30
NEEDS_LIVE = "Following feeds needs the [live] extra installed."


def render_latest(records: list[Any]) -> str:
    """Numbered newest articles: linked headline, outlet and date (HTML, escaped)."""
    if not records:
        return "The coverage is empty for now: an admin can add articles with /ingest."
    lines = ["<b>Latest articles</b>"]
    for n, rec in enumerate(records, 1):
        title = esc(str(getattr(rec, "title", "") or "Untitled").strip())
        url = str(getattr(rec, "url", "") or "")
        headline = f'<a href="{esc_attr(url)}">{title}</a>' if url.startswith("http") else title
        published = getattr(rec, "published", None)
        meta = [esc(str(getattr(rec, "outlet", "") or ""))]
        meta.append(published.isoformat() if isinstance(published, date) else "")
        shown = ", ".join(m for m in meta if m)
        lines.append(f"{n}. {headline}" + (f" — {shown}" if shown else ""))
    return "\n".join(lines)


class LiveCommands(Commands):
    """The base commands plus the live-coverage ones."""

    async def _reply_html(self, message: Message, html: str) -> None:
        await send_html(message.get_bot(), message.chat_id, html, reply_to=message.message_id)

    async def _admin_message(self, update: Update, command: str) -> Message | None:
        """The message when an admin sent it; strangers get nothing, others a refusal."""
        message = update.message
        if message is None or not self._allowed(update):
            return None
        if not self._admin(update):
            await reply_text(message, f"/{command} is for admins.")
            return None
        return message

    async def on_latest(self, update: Update, context: Context) -> None:
        """/latest [N]: the newest articles in the coverage."""
        message = update.message
        if message is None or not self._allowed(update):
            return
        args = context.args or []
        if args and not args[0].isdigit():
            await reply_text(message, f"Use /latest or /latest N (at most {LATEST_MAX}).")
            return
        n = min(max(int(args[0]) if args else LATEST_DEFAULT, 1), LATEST_MAX)
        latest = getattr(self.services.service, "latest", None)
        if not callable(latest):
            await reply_text(message, "Listing the latest articles is not available here.")
            return
        records = await asyncio.to_thread(latest, n)
        await self._reply_html(message, render_latest(list(records)))

    async def on_follow(self, update: Update, context: Context) -> None:
        """/follow FEED_URL (admins): follow a feed and ingest its items now."""
        message = await self._admin_message(update, "follow")
        if message is None:
            return
        args = context.args or []
        if len(args) != 1:
            await reply_text(message, "Use /follow FEED_URL (an RSS or Atom feed).")
            return
        sink = article_sink(self.services)
        try:
            from retrieval.web import FetchError, afollow_once, follow_feed
        except ImportError as exc:
            log.warning("Feed following unavailable: %s", exc)
            await reply_text(message, NEEDS_LIVE)
            return
        if sink is None:
            await reply_text(message, "Following feeds is not available in this version.")
            return
        url = args[0]
        # hold the round lock from the start, so the background follower cannot take this
        # feed's first items and leave this reply saying "0 new"
        async with self.services.follow_lock:
            try:
                added = await asyncio.to_thread(follow_feed, self.settings, url)
            except FetchError as exc:
                await reply_text(message, f"Cannot follow {url}: {exc.reason}.")
                return
            status = "Following" if added else "Already following"
            await reply_text(message, f"{status} {url}: checking it now…")
            report = await afollow_once(sink, self.settings, [url])
        log.info("An admin followed %s: %d new article(s)", url, len(report.ingested))
        text = report.summary()
        if report.errors:
            text += "\nI will keep trying it; /unfollow stops that."
        await self._reply_html(message, esc(text))

    async def on_unfollow(self, update: Update, context: Context) -> None:
        """/unfollow URL_OR_NUMBER (admins): stop following a feed."""
        message = await self._admin_message(update, "unfollow")
        if message is None:
            return
        args = context.args or []
        if len(args) != 1:
            await reply_text(message, "Use /unfollow FEED_URL or /unfollow N (N from /feeds).")
            return
        try:
            from retrieval.web import unfollow_feed
        except ImportError:
            await reply_text(message, NEEDS_LIVE)
            return
        removed = await asyncio.to_thread(unfollow_feed, self.settings, args[0])
        if removed is None:
            await reply_text(message, f"Not following {args[0]}; /feeds lists the feeds.")
            return
        await reply_text(message, f"Stopped following {removed}.")

    async def on_feeds(self, update: Update, context: Context) -> None:
        """/feeds (admins): followed feeds with last check, last new item and last error."""
        message = await self._admin_message(update, "feeds")
        if message is None:
            return
        try:
            from retrieval.web import list_feeds
        except ImportError:
            await reply_text(message, NEEDS_LIVE)
            return
        feeds = await asyncio.to_thread(list_feeds, self.settings)
        if not feeds:
            await reply_text(message, "No feeds followed. Add one with /follow FEED_URL.")
            return
        blocks = [f"{n}. {esc(f.describe())}" for n, f in enumerate(feeds, 1)]
        await self._reply_html(message, "<b>Followed feeds</b>\n" + "\n\n".join(blocks))
