"""The alerts phase: one article arrives, 1,000 chats subscribed to its topic hear of it.

The real bot (its alert sender, the Application's AIORateLimiter) against the fake Bot API.
Reports notified / lost / duplicated, the time from arrival to the last alert, and the most
alert messages sent in any one second: Telegram allows about 30 a second to different chats;
the sender spaces alerts at 25 a second (bot/telegram/alerts.py, leaving room for answers),
so 1,000 alerts take some 40 s.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any

from benchmarks.measure import peak_rss_mb
from benchmarks.telegram import bot_on_fake_api, quiet_bot_logs
from bot.telegram.app import EXIT_OK
from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.service import Newsdesk
from tests.auxil.fake_bot_api import FakeBotAPI

TOPIC = "Macron and troops for Ukraine"
TELEGRAM_LIMIT = 30  # messages a second to different chats


def _alerts(api: FakeBotAPI) -> list[Any]:
    return [m for m in api.messages() if m.text.startswith("🔔")]


async def _run(
    settings: Settings, service: NewsService, doc_id: str, chats: int, limit: float
) -> dict[str, Any]:
    ids = [30_000 + c for c in range(chats)]
    async with bot_on_fake_api(settings, service, alerts_per_hour=0) as bot:
        api, subs = bot.api, bot.services.subscriptions
        for chat_id in ids:
            await asyncio.to_thread(subs.add_alert, chat_id, TOPIC, 10)
        started = time.monotonic()
        await bot.services.announce([doc_id])
        deadline = started + limit
        while len(_alerts(api)) < chats and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        took = time.monotonic() - started
        await asyncio.sleep(1.0)  # late duplicates would show up here
    code = bot.exit_code
    sent = _alerts(api)
    per_chat = Counter(m.chat_id for m in sent)
    notified = sum(1 for c in ids if per_chat[c] >= 1)
    return {
        "chats": chats,
        "notified": notified,
        "lost": chats - notified,
        "duplicated": sum(1 for c in ids if per_chat[c] > 1),
        "seconds": round(took, 2),
        "alerts_per_s": round(len(sent) / took, 1) if took else 0.0,
        "peak_per_second": _peak_per_second([m.at for m in sent]),
        "telegram_limit_per_s": TELEGRAM_LIMIT,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "bot_exit_code": code,
        "ok": notified == chats and len(sent) == chats and code == EXIT_OK,
    }


def _peak_per_second(times: list[float]) -> int:
    """The most messages sent within any one-second window."""
    times = sorted(times)
    peak, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def run_alerts_bench(
    settings: Settings, service: NewsService, doc_id: str, *, chats: int = 1000,
    time_limit: float = 600.0,
) -> dict[str, Any]:  # fmt: skip
    """Subscribe `chats` chats to TOPIC, announce `doc_id` as newly stored, time the alerts.

    Chat state and subscriptions go to a temporary directory, not the real data dir.
    """
    return asyncio.run(_run(settings, service, doc_id, chats, time_limit))


def format_report(r: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    delivered = f"{r['notified']} notified, {r['lost']} lost, {r['duplicated']} duplicated"
    return (
        f"alerts: 1 matching article, {r['chats']} subscribed chats: {delivered}\n"
        f"  {r['seconds']:.1f} s from arrival to the last alert: {r['alerts_per_s']:.1f}/s "
        f"(Telegram allows about {r['telegram_limit_per_s']}/s; the most in any 1 s window: "
        f"{r['peak_per_second']}); "
        f"peak RSS {r['peak_rss_mb']:.0f} MiB"
    )


def phase(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Worker phase `alerts`: the newest article of the index plays the new arrival."""
    quiet_bot_logs()
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        newest = svc.latest(1)
        if not newest:
            raise SystemExit("the alerts phase needs an index with a dated article")
        result = run_alerts_bench(settings, svc, newest[0].doc_id)
    finally:
        svc.close()
    result["report"] = format_report(result)
    return result
