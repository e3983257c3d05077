"""The telegram phase: many chats asking at once through the real bot and a fake Bot API.

Each simulated user asks their questions one after another (the next once the previous is
answered), all chats at the same time. Reports answered / lost / duplicated / out-of-order,
update-to-reply latency percentiles and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks.measure import peak_rss_mb
from bot.telegram.app import EXIT_OK, build_application, serve
from bot.telegram.services import Services
from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.metrics import percentile
from retrieval.service import Newsdesk
from tests.auxil.fake_bot_api import FakeBotAPI

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = (
    "What did Germany say about Macron's remarks?",
    "What did the White House say about sending troops to Ukraine?",
    "Who is Boris Pistorius?",
    "What did Macron urge allies to do?",
    "Where did Pistorius speak to reporters?",
)


async def _user(
    api: FakeBotAPI, chat_id: int, questions: Sequence[str], deadline: float
) -> list[int]:
    """Ask `questions` in order, each after the previous reply; return the question ids."""
    asked: list[int] = []
    for question in questions:
        qid = api.push_text(chat_id, question)
        asked.append(qid)
        while not api.replies_to(qid):
            if time.monotonic() > deadline:
                return asked
            await asyncio.sleep(0.02)
    return asked


@dataclass
class BenchBot:
    """The real bot polling a fake Bot API; `exit_code` is set once it has stopped."""

    api: FakeBotAPI
    services: Services
    exit_code: int = -1


@contextlib.asynccontextmanager
async def bot_on_fake_api(
    settings: Settings, service: NewsService, **update: Any
) -> AsyncIterator[BenchBot]:
    """Run the bot (extractive, open to all, settings overridden by `update`) against a fake
    Bot API for the body; chat state goes to a temporary directory, not the data dir."""
    with FakeBotAPI() as api, tempfile.TemporaryDirectory(prefix="tg-bench-") as state_dir:
        bench_settings = settings.model_copy(
            update={
                "data_dir": Path(state_dir),
                "telegram_bot_token": SecretStr(api.token),
                "telegram_api_base_url": api.base_url,
                "webhook_url": None,
                "allowed_user_ids": [],
                "allowed_chat_ids": [],
                "llm": "off",
                **update,
            }
        )
        services = Services.create(bench_settings, service)
        services.stream = False
        app = build_application(bench_settings, services)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(app, bench_settings, stop=stop, handle_signals=False))
        bot = BenchBot(api, services)
        try:
            await api.wait_for(lambda: bool(api.calls_of("getUpdates")), 60, "polling")
            yield bot
        finally:
            stop.set()
            bot.exit_code = await task
            services.close()


def quiet_bot_logs() -> None:
    """A line per answer or alert would bury the report."""
    for name in ("bot.telegram", "telegram"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def _run(
    settings: Settings, service: NewsService, chats: int, questions: Sequence[str], limit: float
) -> dict[str, Any]:
    rate = max(settings.rate_per_minute, len(questions) * 2)
    async with bot_on_fake_api(settings, service, rate_per_minute=rate, daily_cap=0) as bot:
        api = bot.api
        started = time.monotonic()
        deadline = started + limit
        asked = await asyncio.gather(
            *(_user(api, 10_000 + c, questions, deadline) for c in range(chats))
        )
        wall = time.monotonic() - started
        await asyncio.sleep(0.5)  # late duplicates would show up here
    code = bot.exit_code
    latencies: list[float] = []
    answered = lost = duplicated = out_of_order = 0
    for ids in asked:
        first_parts: list[tuple[float, int]] = []
        for qid in ids:
            replies = api.replies_to(qid)
            if not replies:
                lost += 1
                continue
            answered += 1
            duplicated += len(replies) > 1
            latencies.append((replies[0].at - api.pushed_at[qid]) * 1000.0)
            first_parts.append((replies[0].at, qid))
        out_of_order += [q for _, q in sorted(first_parts)] != [q for _, q in first_parts]
        lost += len(questions) - len(ids)
    total = chats * len(questions)
    return {
        "chats": chats,
        "questions": total,
        "answered": answered,
        "lost": lost,
        "duplicated": duplicated,
        "chats_out_of_order": out_of_order,
        "latency_ms_p50": round(percentile(latencies, 50), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
        "latency_ms_max": round(max(latencies, default=0.0), 1),
        "wall_s": round(wall, 2),
        "questions_per_s": round(answered / wall, 2) if wall else 0.0,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "bot_exit_code": code,
        "ok": answered == total and not duplicated and not out_of_order and code == EXIT_OK,
    }


def run_telegram_bench(
    settings: Settings,
    service: NewsService,
    *,
    chats: int = 100,
    questions: Sequence[str] = DEFAULT_QUESTIONS,
    time_limit: float = 600.0,
) -> dict[str, Any]:
    """Run `chats` simulated users x `questions` through the real bot (extractive mode).

    `service` should be opened without an LLM (`Newsdesk.open(settings, with_llm=False)`);
    chat state goes to a temporary directory, not the real data dir.
    """
    return asyncio.run(_run(settings, service, chats, list(questions), time_limit))


def format_report(result: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    return (
        f"telegram: {result['chats']} chats x {result['questions'] // max(1, result['chats'])} "
        f"questions: {result['answered']}/{result['questions']} answered, "
        f"{result['lost']} lost, {result['duplicated']} duplicated, "
        f"{result['chats_out_of_order']} chats out of order\n"
        f"  update-to-reply latency p50 {result['latency_ms_p50']:.0f} ms, "
        f"p95 {result['latency_ms_p95']:.0f} ms, max {result['latency_ms_max']:.0f} ms; "
        f"{result['questions_per_s']:.1f} questions/s over {result['wall_s']:.1f} s; "
        f"peak RSS {result['peak_rss_mb']:.0f} MiB"
    )


def phase(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Worker phase `telegram`: 100 chats x 5 questions on the seed index, extractive."""
    quiet_bot_logs()  # 500 "Answered chat ..." lines
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        result = run_telegram_bench(settings, svc)
    finally:
        svc.close()
    result["report"] = format_report(result)
    return result
