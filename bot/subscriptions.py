"""What readers subscribed to: topic alerts, what was sent, arrivals and digest schedules.

One SQLite file (`subscriptions.sqlite3` in the data dir) on `retrieval.sqlite.Database`
(its thread rules apply; calls block: async code runs them with `asyncio.to_thread`). The
bot and `newsdesk alert` share it; the terminal user is chat `LOCAL_CHAT`. Everything is
written at once, so caps, what was sent and the digest slots survive a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.sqlite import Database

STATE_FILE = "subscriptions.sqlite3"
LOCAL_CHAT = 0  # the `newsdesk alert` user (Telegram chat ids are never 0)
HOUR = 3600.0

_V1 = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (chat_id, topic COLLATE NOCASE)
);
CREATE TABLE IF NOT EXISTS alert_sent (
    chat_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    story TEXT NOT NULL,            -- the text's fingerprint when known, else the doc id
    sent_at REAL NOT NULL,
    status TEXT NOT NULL,           -- sent | capped (over the hourly cap: not sent, ever)
    PRIMARY KEY (chat_id, doc_id)
);
CREATE INDEX IF NOT EXISTS alert_sent_story ON alert_sent (chat_id, story);
CREATE INDEX IF NOT EXISTS alert_sent_recent ON alert_sent (chat_id, sent_at);
CREATE TABLE IF NOT EXISTS cap_notices (
    chat_id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS arrivals (
    doc_id TEXT PRIMARY KEY,        -- an article the bot stored, first arrival only
    arrived_at REAL NOT NULL,
    alerted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS arrivals_at ON arrivals (arrived_at);
CREATE TABLE IF NOT EXISTS chats (
    chat_id INTEGER PRIMARY KEY,
    tz TEXT,                        -- IANA time zone; NULL: UTC
    digest_at TEXT,                 -- HH:MM in tz; NULL: no digest
    digest_since REAL,              -- the next digest holds what arrived after this
    digest_slot TEXT                -- the last slot handled (local YYYY-MM-DDTHH:MM)
);
"""
MIGRATIONS = (_V1,)  # append, never edit (retrieval/sqlite.py)


@dataclass(frozen=True)
class Alert:
    """One topic a chat is alerted on; `n` is its number in the chat's list (1-based)."""

    id: int
    chat_id: int
    topic: str
    n: int = 0


@dataclass(frozen=True)
class Claim:
    """One alert message to deliver: this article to this chat.

    `story` is the fingerprint of its text when the feed follower knows it (the same story
    under another url has the same one), else the doc id.
    """

    chat_id: int
    doc_id: str
    story: str


@dataclass(frozen=True)
class Digest:
    """A chat's digest schedule."""

    chat_id: int
    at: str  # HH:MM
    tz: str
    since: float
    slot: str  # the last slot handled, "" for none


def topic_key(topic: str) -> str:
    """The form two spellings of one topic share."""
    return " ".join(topic.split()).casefold()


class Subscriptions:
    """The subscriptions file; `clock` (unix seconds) is injectable for the tests."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._db = Database(path, MIGRATIONS)

    @classmethod
    def in_data_dir(cls, data_dir: Path, **kw: Callable[[], float]) -> Subscriptions:
        return cls(Path(data_dir) / STATE_FILE, **kw)

    def close(self) -> None:
        self._db.close()

    # alerts ---------------------------------------------------------------------

    def alerts(self, chat_id: int) -> list[Alert]:
        """A chat's alerts, oldest first, numbered."""
        rows = self._db.rows(
            "SELECT id, topic FROM alerts WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [Alert(int(r[0]), chat_id, str(r[1]), n) for n, r in enumerate(rows, 1)]

    def add_alert(self, chat_id: int, topic: str, limit: int) -> tuple[str, list[Alert]]:
        """Alert `chat_id` on `topic`: "added", "exists" or "full"; and its alerts after."""
        topic = " ".join(topic.split())
        with self._db.transaction() as db:
            have = db.execute("SELECT topic FROM alerts WHERE chat_id = ?", (chat_id,)).fetchall()
            if any(topic_key(r[0]) == topic_key(topic) for r in have):
                outcome = "exists"
            elif limit > 0 and len(have) >= limit:
                outcome = "full"
            else:
                db.execute(
                    "INSERT INTO alerts (chat_id, topic, created_at) VALUES (?, ?, ?)",
                    (chat_id, topic, self.clock()),
                )
                outcome = "added"
        return outcome, self.alerts(chat_id)

    def remove_alert(self, chat_id: int, key: str) -> Alert | None:
        """Remove an alert by its number or its topic; return it, or None if no such one."""
        key = key.strip()
        mine = self.alerts(chat_id)
        gone = next(
            (
                a
                for a in mine
                if (key.isdigit() and a.n == int(key)) or topic_key(key) == topic_key(a.topic)
            ),
            None,
        )
        if gone is not None:
            with self._db.transaction() as db:
                db.execute("DELETE FROM alerts WHERE id = ?", (gone.id,))
        return gone

    def forget_chat(self, chat_id: int) -> None:
        """Drop a chat's alerts and digest (it blocked the bot or was deleted)."""
        with self._db.transaction() as db:
            db.execute("DELETE FROM alerts WHERE chat_id = ?", (chat_id,))
            db.execute("UPDATE chats SET digest_at = NULL WHERE chat_id = ?", (chat_id,))

    def topics(self, chats: Callable[[int], bool] = lambda _: True) -> dict[str, list[Alert]]:
        """Every topic alerted on, with its alerts (of the chats `chats` accepts)."""
        out: dict[str, list[Alert]] = {}
        for r in self._db.rows("SELECT id, chat_id, topic FROM alerts ORDER BY id"):
            if chats(int(r[1])):
                out.setdefault(topic_key(r[2]), []).append(Alert(int(r[0]), int(r[1]), r[2]))
        return out

    # delivery -------------------------------------------------------------------

    def claim(self, wanted: Sequence[Claim], per_hour: int) -> tuple[list[Claim], set[int]]:
        """Take the alerts to send now: none twice for one article or one story, at most
        `per_hour` a chat.

        What is claimed counts as sent (at most once, also across a restart). Alerts over a
        chat's hourly cap are recorded as capped, never sent; their chats are returned too.
        """
        now = self.clock()
        send: list[Claim] = []
        capped: set[int] = set()
        with self._db.transaction() as db:
            counts: dict[int, int] = {}
            for c in wanted:
                if db.execute(
                    "SELECT 1 FROM alert_sent WHERE chat_id = ? AND (doc_id = ? OR story = ?)",
                    (c.chat_id, c.doc_id, c.story),
                ).fetchone():
                    continue
                if c.chat_id not in counts:
                    counts[c.chat_id] = db.execute(
                        "SELECT COUNT(*) FROM alert_sent WHERE chat_id = ? AND status = 'sent'"
                        " AND sent_at > ?",
                        (c.chat_id, now - HOUR),
                    ).fetchone()[0]
                over = per_hour > 0 and counts[c.chat_id] >= per_hour
                db.execute(
                    "INSERT INTO alert_sent (chat_id, doc_id, story, sent_at, status)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (c.chat_id, c.doc_id, c.story, now, "capped" if over else "sent"),
                )
                if over:
                    capped.add(c.chat_id)
                else:
                    counts[c.chat_id] += 1
                    send.append(c)
        return send, capped

    def cap_resets_at(self, chat_id: int) -> float:
        """When the chat may get alerts again (its oldest alert of the last hour + 1 h)."""
        row = self._db.row(
            "SELECT MIN(sent_at) FROM alert_sent WHERE chat_id = ? AND status = 'sent'"
            " AND sent_at > ?",
            (chat_id, self.clock() - HOUR),
        )
        return float(row[0]) + HOUR if row and row[0] is not None else self.clock()

    def note_cap(self, chat_id: int) -> bool:
        """Whether to tell the chat it is over its cap now (once an hour), recording it."""
        now = self.clock()
        with self._db.transaction() as db:
            row = db.execute("SELECT at FROM cap_notices WHERE chat_id = ?", (chat_id,)).fetchone()
            if row is not None and now - float(row[0]) < HOUR:
                return False
            db.execute(
                "INSERT INTO cap_notices (chat_id, at) VALUES (?, ?) ON CONFLICT (chat_id)"
                " DO UPDATE SET at = excluded.at",
                (chat_id, now),
            )
        return True

    # arrivals -------------------------------------------------------------------

    def record_arrivals(self, doc_ids: Iterable[str]) -> None:
        """Note articles the bot stored (an update of a known one is no arrival)."""
        now = self.clock()
        with self._db.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO arrivals (doc_id, arrived_at) VALUES (?, ?)",
                [(d, now) for d in doc_ids],
            )

    def unalerted(self) -> list[str]:
        """Arrivals whose alerts were not dispatched (the bot stopped first)."""
        return [r[0] for r in self._db.rows("SELECT doc_id FROM arrivals WHERE alerted = 0")]

    def mark_alerted(self, doc_ids: Iterable[str]) -> None:
        with self._db.transaction() as db:
            db.executemany(
                "UPDATE arrivals SET alerted = 1 WHERE doc_id = ?", [(d,) for d in doc_ids]
            )

    def arrived_since(self, since: float) -> list[tuple[str, float]]:
        """(doc id, arrival time) of the articles that arrived after `since`, oldest first."""
        rows = self._db.rows(
            "SELECT doc_id, arrived_at FROM arrivals WHERE arrived_at > ? ORDER BY arrived_at",
            (since,),
        )
        return [(str(r[0]), float(r[1])) for r in rows]

    # chats: time zone and digests ---------------------------------------------------

    def timezone(self, chat_id: int) -> str:
        """The chat's IANA time zone ("UTC" until set)."""
        row = self._db.row("SELECT tz FROM chats WHERE chat_id = ?", (chat_id,))
        return str(row[0]) if row and row[0] else "UTC"

    def set_timezone(self, chat_id: int, tz: str) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO chats (chat_id, tz) VALUES (?, ?) ON CONFLICT (chat_id)"
                " DO UPDATE SET tz = excluded.tz",
                (chat_id, tz),
            )

    def set_digest(self, chat_id: int, at: str | None) -> None:
        """Send the chat a digest daily at `at` (HH:MM, its time zone), or none (None).

        A new schedule's first digest holds what arrives from now on.
        """
        with self._db.transaction() as db:
            db.execute("INSERT OR IGNORE INTO chats (chat_id) VALUES (?)", (chat_id,))
            db.execute(
                "UPDATE chats SET digest_since = CASE WHEN digest_at IS NULL"
                " OR digest_since IS NULL THEN ? ELSE digest_since END, digest_at = ?"
                " WHERE chat_id = ?",
                (self.clock(), at, chat_id),
            )

    def digest(self, chat_id: int) -> Digest | None:
        """The chat's digest schedule, or None."""
        return next((d for d in self.digests() if d.chat_id == chat_id), None)

    def digests(self) -> list[Digest]:
        """Every chat's digest schedule."""
        rows = self._db.rows(
            "SELECT chat_id, digest_at, tz, digest_since, digest_slot FROM chats"
            " WHERE digest_at IS NOT NULL ORDER BY chat_id"
        )
        return [
            Digest(int(r[0]), str(r[1]), str(r[2] or "UTC"), float(r[3] or 0.0), str(r[4] or ""))
            for r in rows
        ]

    def claim_slot(self, chat_id: int, slot: str) -> bool:
        """Take a digest slot (local "YYYY-MM-DDTHH:MM"): True once per slot, ever."""
        with self._db.transaction() as db:
            cur = db.execute(
                "UPDATE chats SET digest_slot = ? WHERE chat_id = ? AND digest_at IS NOT NULL"
                " AND (digest_slot IS NULL OR digest_slot < ?)",
                (slot, chat_id, slot),
            )
            return cur.rowcount > 0

    def digest_sent(self, chat_id: int, since: float) -> None:
        """The next digest holds what arrives after `since` (the newest article sent)."""
        with self._db.transaction() as db:
            db.execute("UPDATE chats SET digest_since = ? WHERE chat_id = ?", (since, chat_id))
