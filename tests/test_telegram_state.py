"""SQLite chat state, limits, access and log redaction (units with real SQLite and logging)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from bot.logsetup import REDACTED, install_redaction
from bot.telegram.access import Access
from bot.telegram.limits import Limits, TokenBucket
from bot.telegram.state import StateStore
from retrieval.config import Settings
from retrieval.types import Answer, Citation


def _answer(q: str, refused: bool = False) -> Answer:
    cite = Citation(1, "d", "d:0", "T", "O", date(2024, 3, 5), "https://e.org", "quote.")
    return Answer(q, f"answer to {q} [1]", refused, "extractive", [] if refused else [cite])


def test_state_survives_reopen(tmp_path: Path) -> None:
    store = StateStore.in_data_dir(tmp_path)
    a1 = store.record_answer(1, 10, _answer("first"), question_message_id=5, latency_ms=100)
    store.record_answer(1, 10, _answer("second", refused=True), latency_ms=300)
    store.record_answer(2, 20, _answer("other chat"))
    assert store.record_feedback(a1, 10, +1)
    assert not store.record_feedback(999, 10, +1)
    store.count_question(10, "2024-03-05")
    store.close()

    store = StateStore.in_data_dir(tmp_path)
    hist = store.history(1, 6)
    assert [t.question for t in hist] == ["first", "second"]
    assert store.history(1, 1)[0].question == "second"
    last = store.last_answer(1)
    assert last is not None and last.question == "second" and last.citations == []
    got = store.get_answer(a1)
    assert got is not None and got.citations[0].published == date(2024, 3, 5)
    assert store.feedback(a1) == {10: 1}
    store.record_feedback(a1, 10, -1)
    assert store.feedback(a1) == {10: -1}
    assert store.usage(10, "2024-03-05") == 1
    stats = store.stats()
    assert stats.questions == 3 and stats.refusals == 1 and stats.thumbs_down == 1
    assert stats.p95_ms == 300
    store.close()


def test_token_bucket_and_daily_cap() -> None:
    now = [0.0]
    bucket = TokenBucket(3, clock=lambda: now[0])
    assert [bucket.take(1) for _ in range(3)] == [0, 0, 0]
    assert bucket.take(1) == pytest.approx(20.0)
    assert bucket.take(2) == 0  # another user has their own bucket
    now[0] += 20.0
    assert bucket.take(1) == 0

    counts: dict[int, int] = {}
    limits = Limits(100, 2, lambda uid, day: counts.get(uid, 0), clock=lambda: now[0])
    assert limits.check(1).ok
    counts[1] = 2
    verdict = limits.check(1)
    assert not verdict.ok and verdict.reason == "daily"
    assert limits.should_warn(1) and not limits.should_warn(1)
    now[0] += 31.0
    assert limits.should_warn(1)


def test_access_lists(tmp_path: Path) -> None:
    open_access = Access.from_settings(Settings(_env_file=None, data_dir=tmp_path))
    assert open_access.allows(1, 1) and not open_access.is_admin(1)
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        allowed_user_ids=[5, 6],
        allowed_chat_ids=[-100],
        admin_ids=[9],
    )
    access = Access.from_settings(settings)
    assert access.allows(5, 5) and access.allows(6, -200)
    assert access.allows(7, -100)  # any member of an allowed group
    assert not access.allows(7, 7) and not access.allows(None, None)
    assert access.allows(9, 9) and access.is_admin(9) and not access.is_admin(5)


def test_redaction_covers_messages_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    token = "987654:SECRET-redaction-token"
    install_redaction(token)
    log = logging.getLogger("httpx")  # a child logger: the factory sees it too
    with caplog.at_level(logging.INFO):
        log.warning("HTTP Request: POST https://x/bot%s/getMe", token)
        try:
            raise RuntimeError(f"failed https://x/bot{token}/sendMessage")
        except RuntimeError:
            logging.getLogger("bot.test").exception("boom")
    text = caplog.text
    assert token not in text
    assert REDACTED in text and "Traceback" in text
