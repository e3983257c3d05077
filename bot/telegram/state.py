"""Chat state in SQLite under the data dir: answers (history and /sources), feedback, usage.

Every request writes through at once, so a restart keeps everything. The file follows the
thread rules of `retrieval.sqlite.Database`; calls block: async code runs them with
`asyncio.to_thread`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.telegram.limits import utc_day
from retrieval.metrics import percentile
from retrieval.sqlite import Database
from retrieval.types import Answer, Citation, Turn


@dataclass(frozen=True)
class UsageStats:
    """What /stats shows for one day."""

    day: str
    questions: int
    refusals: int
    p95_ms: float
    thumbs_up: int
    thumbs_down: int

    @property
    def refusal_rate(self) -> float:
        return self.refusals / self.questions if self.questions else 0.0


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as kept for /sources and feedback."""

    id: int
    chat_id: int
    question: str
    answer: str
    citations: list[Citation]


_V1 = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    question_message_id INTEGER,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    question TEXT NOT NULL,
    standalone TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    mode TEXT NOT NULL,
    citations TEXT NOT NULL,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_chat ON answers (chat_id, id);
CREATE INDEX IF NOT EXISTS answers_day ON answers (day);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
CREATE TABLE IF NOT EXISTS usage (
    user_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    questions INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
"""
MIGRATIONS = (_V1,)  # append, never edit (retrieval/sqlite.py)


class StateStore:
    """One SQLite file (`telegram.sqlite3` in the data dir), safe to use from threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = Database(path, MIGRATIONS)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> StateStore:
        return cls(Path(data_dir) / "telegram.sqlite3")

    def close(self) -> None:
        self._db.close()

    def record_answer(
        self,
        chat_id: int,
        user_id: int,
        answer: Answer,
        *,
        question_message_id: int | None = None,
        latency_ms: float = 0.0,
    ) -> int:
        """Keep an answer (history, /sources, /stats); return its id for the buttons."""
        now = time.time()
        citations = json.dumps([c.to_json() for c in answer.citations])
        with self._db.transaction() as db:
            cur = db.execute(
                "INSERT INTO answers (chat_id, user_id, question_message_id, ts, day, question,"
                " standalone, answer, refused, mode, citations, latency_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chat_id,
                    user_id,
                    question_message_id,
                    now,
                    utc_day(now),
                    answer.question,
                    answer.standalone_question,
                    answer.answer,
                    int(answer.refused),
                    answer.mode,
                    citations,
                    latency_ms,
                ),
            )
            return int(cur.lastrowid or 0)

    def history(self, chat_id: int, turns: int) -> list[Turn]:
        """The last `turns` exchanges of a chat, oldest first."""
        if turns <= 0:
            return []
        rows = self._db.rows(
            "SELECT question, answer, standalone FROM answers WHERE chat_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (chat_id, turns),
        )
        return [Turn(q, a, s) for q, a, s in reversed(rows)]

    def _stored(self, row: Sequence[Any] | None) -> StoredAnswer | None:
        if row is None:
            return None
        cites = [Citation.from_json(c) for c in json.loads(row[4])]
        return StoredAnswer(int(row[0]), int(row[1]), str(row[2]), str(row[3]), cites)

    def last_answer(self, chat_id: int) -> StoredAnswer | None:
        """The chat's most recent answer (for /sources)."""
        row = self._db.row(
            "SELECT id, chat_id, question, answer, citations FROM answers WHERE chat_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (chat_id,),
        )
        return self._stored(row)

    def get_answer(self, answer_id: int) -> StoredAnswer | None:
        """One answer by id (for the Sources button)."""
        row = self._db.row(
            "SELECT id, chat_id, question, answer, citations FROM answers WHERE id = ?",
            (answer_id,),
        )
        return self._stored(row)

    def record_feedback(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Store 👍 (+1) or 👎 (-1) for an answer; a user's later vote replaces the earlier."""
        with self._db.transaction() as db:
            exists = db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone()
            if exists is None:
                return False
            db.execute(
                "INSERT INTO feedback (answer_id, user_id, vote, ts) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote,"
                " ts = excluded.ts",
                (answer_id, user_id, 1 if vote > 0 else -1, time.time()),
            )
        return True

    def feedback(self, answer_id: int) -> dict[int, int]:
        """Votes on an answer by user id."""
        rows = self._db.rows("SELECT user_id, vote FROM feedback WHERE answer_id = ?", (answer_id,))
        return {int(u): int(v) for u, v in rows}

    def usage(self, user_id: int, day: str) -> int:
        """Questions `user_id` asked on `day` (UTC)."""
        row = self._db.row(
            "SELECT questions FROM usage WHERE user_id = ? AND day = ?", (user_id, day)
        )
        return int(row[0]) if row else 0

    def count_question(self, user_id: int, day: str | None = None) -> int:
        """Count one question for the daily cap; return the day's total."""
        day = day or utc_day()
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO usage (user_id, day, questions) VALUES (?, ?, 1)"
                " ON CONFLICT (user_id, day) DO UPDATE SET questions = questions + 1",
                (user_id, day),
            )
            row = db.execute(
                "SELECT questions FROM usage WHERE user_id = ? AND day = ?", (user_id, day)
            ).fetchone()
        return int(row[0])

    def stats(self, day: str | None = None) -> UsageStats:
        """Questions answered on `day`, refusals, latency p95 and feedback."""
        day = day or utc_day()
        rows = self._db.rows("SELECT refused, latency_ms FROM answers WHERE day = ?", (day,))
        up, down = self._db.rows(
            "SELECT COALESCE(SUM(vote > 0), 0), COALESCE(SUM(vote < 0), 0) FROM feedback"
            " JOIN answers ON answers.id = feedback.answer_id WHERE answers.day = ?",
            (day,),
        )[0]  # an aggregate: always one row
        p95 = percentile((float(r[1]) for r in rows), 95)
        return UsageStats(day, len(rows), sum(int(r[0]) for r in rows), p95, int(up), int(down))
