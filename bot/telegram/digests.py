"""Scheduled digests: /digest daily HH:MM, /digest off, /timezone; sent from the bot process.

A digest is the briefing (`NewsService.brief`) of the articles that arrived since the
chat's last digest, at its time in its own time zone. Nothing is sent when nothing is new.
Each slot is claimed in the subscriptions file before sending, so a digest is never sent
twice for one slot, also across a restart; a slot missed while the bot was down is sent on
start if at most `GRACE` late, else skipped. The scheduler is an asyncio task (no JobQueue
extra needed): it wakes at the next slot, and at least every `TICK` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler

from bot.subscriptions import LOCAL_CHAT, Digest
from bot.telegram.feature import NEW, Context, Feature, Handler
from bot.telegram.render import render_answer
from bot.telegram.send import answer_link, reply_text, send_html
from bot.telegram.services import Services
from retrieval.errors import NewsdeskError

log = logging.getLogger(__name__)

MENU = {  # the commands and their line in the command menu
    "digest": "A daily digest of the new articles",
    "timezone": "This chat's time zone (for digests)",
}

TICK = 30.0  # seconds between checks at most (a schedule set meanwhile is seen by then)
GRACE = timedelta(hours=2)  # a slot missed by less (the bot was down) is still sent
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
USAGE = (
    "Use /digest daily HH:MM [TIME_ZONE] (e.g. /digest daily 07:30 Europe/Berlin) or /digest off."
)


def find_zone(name: str) -> str | None:
    """The IANA time zone called `name` (any case), or None."""
    if name.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    wanted = name.strip().casefold()
    found = next((z for z in available_timezones() if z.casefold() == wanted), None)
    if found is None:
        return None
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return found


def due_slot(d: Digest, now: float) -> str | None:
    """The slot of `d` that is due at `now` (local "YYYY-MM-DDTHH:MM"), or None."""
    local = datetime.fromtimestamp(now, ZoneInfo(d.tz))
    hour, minute = (int(x) for x in d.at.split(":"))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    if local - slot > GRACE:
        return None
    return slot.strftime("%Y-%m-%dT%H:%M")


def next_due(digests: Sequence[Digest], now: float) -> float:
    """Seconds until the next slot of any digest (at most TICK)."""
    wait = TICK
    for d in digests:
        local = datetime.fromtimestamp(now, ZoneInfo(d.tz))
        hour, minute = (int(x) for x in d.at.split(":"))
        slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if slot <= local:
            slot += timedelta(days=1)
        wait = min(wait, (slot - local).total_seconds())
    return max(wait, 0.05)


class Scheduler:
    """The background task that sends each chat its digest on time."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self.services = services
        self.bot = bot
        self.rounds = 0  # checks of the schedules since start
        self.sent = 0  # digests sent since start
        self.skipped = 0  # slots with nothing new
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="newsdesk-digests")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        subs = self.services.subscriptions
        while True:
            try:
                await self.run_due()
            except Exception:  # a failing round must not stop the digests
                log.exception("Digest round failed")
            digests = await asyncio.to_thread(subs.digests)
            await asyncio.sleep(next_due(digests, subs.clock()))

    async def run_due(self) -> None:
        """Send every digest whose slot is due now and not yet handled."""
        subs = self.services.subscriptions
        now = subs.clock()
        for d in await asyncio.to_thread(subs.digests):
            slot = due_slot(d, now) if d.chat_id != LOCAL_CHAT else None
            if slot is not None and await asyncio.to_thread(subs.claim_slot, d.chat_id, slot):
                await self._send(d, slot)
        self.rounds += 1

    async def _send(self, d: Digest, slot: str) -> None:
        s = self.services
        new = await asyncio.to_thread(s.subscriptions.arrived_since, d.since)
        if not new:
            self.skipped += 1
            log.info("Digest for chat %s at %s: nothing new", d.chat_id, slot)
            return
        ids = [doc_id for doc_id, _ in new]
        try:
            answer = await asyncio.to_thread(s.service.digest, ids)
        except NewsdeskError as exc:
            log.warning("No digest for chat %s: %s", d.chat_id, exc)
            return
        day = slot.split("T")[0]
        n = len(ids)
        head = f"<b>Your daily digest</b> — {day}, {n} new article{'s' if n != 1 else ''}"
        try:
            await send_html(self.bot, d.chat_id, f"{head}\n\n{render_answer(answer)}",
                            link=answer_link(answer))  # fmt: skip
        except TelegramError as exc:
            log.warning("Digest to chat %s not sent: %s", d.chat_id, exc)
            return
        self.sent += 1
        await asyncio.to_thread(s.subscriptions.digest_sent, d.chat_id, max(t for _, t in new))


class DigestCommands:
    """/digest and /timezone."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_digest(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None:
            return
        subs, chat_id = self.services.subscriptions, message.chat_id
        args = context.args or []
        if not args:
            d = await asyncio.to_thread(subs.digest, chat_id)
            tz = await asyncio.to_thread(subs.timezone, chat_id)
            text = (
                f"A digest of the new articles comes daily at {d.at} ({d.tz}). "
                "/digest off stops it."
                if d
                else f"No digest yet (time zone {tz}). {USAGE}"
            )
            await reply_text(message, text)
            return
        if args[0].lower() == "off" and len(args) == 1:
            await asyncio.to_thread(subs.set_digest, chat_id, None)
            await reply_text(message, "No more digests. /digest daily HH:MM starts them again.")
            return
        m = _HHMM.match(args[1]) if len(args) in (2, 3) and args[0].lower() == "daily" else None
        if m is None:
            await reply_text(message, USAGE)
            return
        if len(args) == 3:
            zone = find_zone(args[2])
            if zone is None:
                await reply_text(message, unknown_zone(args[2]))
                return
            await asyncio.to_thread(subs.set_timezone, chat_id, zone)
        at = f"{int(m[1]):02d}:{m[2]}"
        await asyncio.to_thread(subs.set_digest, chat_id, at)
        tz = await asyncio.to_thread(subs.timezone, chat_id)
        await reply_text(
            message,
            f"A digest of the new articles will come daily at {at} ({tz}); nothing is sent on "
            "days without news. /timezone changes the time zone, /digest off stops it.",
        )

    async def on_timezone(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None:
            return
        subs, args = self.services.subscriptions, context.args or []
        if not args:
            tz = await asyncio.to_thread(subs.timezone, message.chat_id)
            await reply_text(
                message, f"This chat's time zone is {tz}. /timezone Area/City sets it."
            )
            return
        zone = find_zone(args[0]) if len(args) == 1 else None
        if zone is None:
            await reply_text(message, unknown_zone(" ".join(args)))
            return
        await asyncio.to_thread(subs.set_timezone, message.chat_id, zone)
        await reply_text(message, f"Time zone set to {zone}: digests follow it.")


def unknown_zone(name: str) -> str:
    return (
        f"I don't know the time zone {name!r}. Use an IANA name such as Europe/Berlin, "
        "America/New_York or UTC."
    )


def handlers(services: Services) -> Sequence[Handler]:
    c = DigestCommands(services)
    return [
        CommandHandler("digest", c.on_digest, filters=NEW),
        CommandHandler("timezone", c.on_timezone, filters=NEW),
    ]


FEATURE = Feature(handlers, MENU, background=Scheduler)
