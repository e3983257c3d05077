"""Topic alerts: /alert TOPIC, /alerts, /unalert N, deep links, and their delivery.

Articles the bot stores (/ingest, /follow, the feed follower) are announced on
`services.arrivals`; the sender matches them against every chat's topics (bot/alerts.py)
and sends one message per article and chat: headline, outlet, date, the lead quoted, the
link as the preview, and a button to stop that alert. Sends are spaced evenly at
ALERTS_PER_SECOND and go through the Application's rate limiter too (Telegram's flood
limits, 429 retries); a chat over its hourly cap is told so once an hour. Claims are
written before sending: an alert is sent at most once, also across a restart (arrivals
whose alerts were not dispatched are picked up at the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import alerts
from bot.subscriptions import LOCAL_CHAT, Alert
from bot.telegram import deeplink
from bot.telegram.feature import NEW, Context, Feature, Handler
from bot.telegram.info import reply_html
from bot.telegram.render import esc, esc_attr
from bot.telegram.send import reply_text, send_html
from bot.telegram.services import Services

log = logging.getLogger(__name__)

MENU = {  # the commands and their line in the command menu
    "alert": "Be told when news on a topic arrives",
    "alerts": "This chat's topic alerts",
    "unalert": "Stop a topic alert",
}

STOP_GRACE = 10.0  # seconds a delivery in progress may take when the bot stops
# Alerts leave evenly spaced, below Telegram's ~30 messages a second to different chats: the
# Application's rate limiter lets a burst of 30 through at once, and answers need room too.
ALERTS_PER_SECOND = 25
EXAMPLE = "/alert Elm River flooding"


def render_alert(d: alerts.Delivery) -> str:
    """The alert message (HTML): topic, linked headline, outlet and date, the lead quoted."""
    a = d.article
    title = esc(a.title.strip() or "Untitled")
    head = f'<a href="{esc_attr(a.url)}">{title}</a>' if a.url.startswith("http") else title
    meta = ", ".join(
        p for p in (esc(a.outlet), a.published.isoformat() if a.published else "") if p
    )
    lead = " ".join(a.quote.split())
    return (
        f"🔔 <b>{esc(d.topic)}</b>\n{head}" + (f" — {meta}" if meta else "")
        + f"\n<blockquote>{esc(lead)}</blockquote>"
    )  # fmt: skip


def stop_button(alert_id: int, topic: str) -> InlineKeyboardMarkup:
    label = f"Stop alerts on {topic}"
    label = label if len(label) <= 40 else label[:39] + "…"
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"unalert:{alert_id}")]]
    )


class Pacer:
    """Space out calls: at most `per_second` a second, evenly, whoever calls."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        at = max(now, self._next)
        self._next = at + self.interval  # no await in between: the turns are taken in order
        await asyncio.sleep(at - now)


class Sender:
    """The background task that turns arrivals into alert messages."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self.services = services
        self.bot = bot
        self.pacer = Pacer(ALERTS_PER_SECOND)
        self.delivered = 0  # messages sent since start (for the tests and the bench)
        self.batches = 0  # batches of arrivals dealt with since start
        self._task: asyncio.Task[None] | None = None
        self._busy = asyncio.Event()
        self._busy.set()  # set while idle

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="newsdesk-alerts")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._busy.wait(), grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        subs = self.services.subscriptions
        left = await asyncio.to_thread(subs.unalerted)  # the bot stopped before these
        if left:
            await self.deliver(left)
        queue = self.services.arrivals
        while True:
            batch = await queue.get()
            while not queue.empty():  # what arrived meanwhile goes in the same round
                batch += queue.get_nowait()
            await self.deliver(batch)

    async def deliver(self, doc_ids: Sequence[str]) -> None:
        """Match and send the alerts of these new articles; never raises."""
        self._busy.clear()
        try:
            s = self.services
            plan = await asyncio.to_thread(
                alerts.plan, s.service, s.subscriptions, s.settings, list(doc_ids),
                chats=lambda chat_id: chat_id != LOCAL_CHAT,
            )  # fmt: skip
            await asyncio.gather(
                *(self._send(d) for d in plan.deliveries),
                *(self._over_cap(chat_id) for chat_id in plan.capped),
            )
            await asyncio.to_thread(s.subscriptions.mark_alerted, doc_ids)
        except Exception:
            log.exception("Alert delivery failed for %d article(s)", len(doc_ids))
        finally:
            self.batches += 1
            self._busy.set()

    async def _send(self, d: alerts.Delivery) -> None:
        subs = self.services.subscriptions
        markup = stop_button(d.alert_id, d.topic)
        await self.pacer.wait()
        try:
            await send_html(self.bot, d.chat_id, render_alert(d), markup=markup, link=d.article.url)
            self.delivered += 1
        except (Forbidden, BadRequest) as exc:
            if isinstance(exc, Forbidden) or "chat not found" in exc.message.lower():
                log.info("Chat %s is gone (%s): dropping its alerts", d.chat_id, exc)
                await asyncio.to_thread(subs.forget_chat, d.chat_id)
            else:
                log.warning("Alert to chat %s not sent: %s", d.chat_id, exc)
        except TelegramError as exc:  # claimed already: never sent twice, so not retried
            log.warning("Alert to chat %s not sent: %s", d.chat_id, exc)

    async def _over_cap(self, chat_id: int) -> None:
        subs = self.services.subscriptions
        if not await asyncio.to_thread(subs.note_cap, chat_id):
            return
        resets = await asyncio.to_thread(subs.cap_resets_at, chat_id)
        tz = await asyncio.to_thread(subs.timezone, chat_id)
        when = datetime.fromtimestamp(resets, ZoneInfo(tz)).strftime("%H:%M")
        text = (
            f"This chat has had {self.services.settings.alerts_per_hour} alerts in the last "
            f"hour, the most it gets. Matching articles are skipped until {when} ({tz}); "
            "/latest shows the newest, /alerts your topics."
        )
        with contextlib.suppress(TelegramError):
            await self.bot.send_message(chat_id, text)


class AlertCommands:
    """The /alert, /alerts and /unalert handlers."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_alert(self, update: Update, context: Context) -> None:
        """/alert TOPIC: be told when an article about TOPIC arrives."""
        if update.message is not None:
            await self.add(update.message, " ".join(context.args or []))

    async def on_deep_link(self, update: Update, context: Context) -> None:
        """`t.me/BOT?start=a…`: the chat opens on an alert topic; set it."""
        link = deeplink.payload_of(update.message) if update.message else None
        if update.message is not None and link is not None:
            await self.add(update.message, link.text)

    async def add(self, message: Message, topic: str) -> None:
        subs, limit = self.services.subscriptions, self.services.settings.max_alerts
        try:
            topic = alerts.check_topic(topic)
        except ValueError as exc:
            mine = await asyncio.to_thread(subs.alerts, message.chat_id)
            await reply_text(
                message, str(exc) + (f"\n\nYour alerts:\n{alerts.alert_list(mine)}" if mine else "")
            )
            return
        outcome, mine = await asyncio.to_thread(subs.add_alert, message.chat_id, topic, limit)
        if outcome == "full":
            text = (
                f"This chat has {len(mine)} alerts, the most it may have. Remove one with "
                f"/unalert N first:\n{alerts.alert_list(mine)}"
            )
        elif outcome == "exists":
            text = f"You already have an alert on “{topic}”. /alerts lists them."
        else:
            text = (
                f"I'll tell you when an article about “{topic}” arrives "
                f"(alert {len(mine)} of {limit}). /alerts lists them, /unalert {len(mine)} "
                "stops this one."
            )
        await reply_text(message, text)

    async def on_alerts(self, update: Update, context: Context) -> None:
        """/alerts: this chat's topics, numbered."""
        message = update.message
        if message is None:
            return
        mine = await asyncio.to_thread(self.services.subscriptions.alerts, message.chat_id)
        if not mine:
            await reply_text(message, f"No alerts yet. Set one with /alert TOPIC, e.g. {EXAMPLE}")
            return
        lines = "\n".join(f"{a.n}. {esc(a.topic)}" for a in mine)
        limit = self.services.settings.max_alerts
        await reply_html(
            message, f"<b>Alerts</b> ({len(mine)} of {limit})\n{lines}\n\n/unalert N stops one."
        )

    async def on_unalert(self, update: Update, context: Context) -> None:
        """/unalert N (or TOPIC): stop an alert."""
        message = update.message
        if message is None:
            return
        key = " ".join(context.args or [])
        if not key:
            await reply_text(message, "Use /unalert N (N from /alerts) or /unalert TOPIC.")
            return
        gone = await asyncio.to_thread(
            self.services.subscriptions.remove_alert, message.chat_id, key
        )
        await reply_text(message, self._stopped(gone, key))

    async def on_stop_button(self, update: Update, context: Context) -> None:
        """The "Stop alerts on …" button under an alert."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or query.data is None or chat is None:
            return
        alert_id = int(query.data.partition(":")[2])
        subs = self.services.subscriptions
        mine: list[Alert] = await asyncio.to_thread(subs.alerts, chat.id)
        alert = next((a for a in mine if a.id == alert_id), None)
        gone = await asyncio.to_thread(subs.remove_alert, chat.id, str(alert.n)) if alert else None
        await query.answer(self._stopped(gone, "that alert"))

    @staticmethod
    def _stopped(gone: Alert | None, key: str) -> str:
        if gone is None:
            return f"No alert {key} in this chat; /alerts lists them."
        return f"Stopped alerts on “{gone.topic}”."


def handlers(services: Services) -> Sequence[Handler]:
    c = AlertCommands(services)
    return [
        CommandHandler("alert", c.on_alert, filters=NEW),
        CommandHandler("alerts", c.on_alerts, filters=NEW),
        CommandHandler("unalert", c.on_unalert, filters=NEW),
        CommandHandler("start", c.on_deep_link, filters=NEW & deeplink.Opens("alert")),
        CallbackQueryHandler(c.on_stop_button, pattern=r"^unalert:\d+$"),
    ]


FEATURE = Feature(handlers, MENU, background=Sender)
