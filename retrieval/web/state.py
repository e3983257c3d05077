"""What the follower remembers between runs: feeds, seen items and stored stories (SQLite)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from retrieval.config import Settings
from retrieval.sqlite import Database

STATE_FILE = "live.sqlite3"
MAX_ATTEMPTS = 3  # an item that failed for a passing reason is retried this many polls

_V1 = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    etag TEXT,
    last_modified TEXT,
    added_at TEXT NOT NULL,
    last_check TEXT,
    last_new_at TEXT,
    last_new_title TEXT,
    last_error TEXT,
    last_error_at TEXT,
    items_ingested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feed_items (
    feed_url TEXT NOT NULL,
    item_id TEXT NOT NULL,
    link TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,          -- ingested | duplicate | failed | retry
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (feed_url, item_id)
);
CREATE TABLE IF NOT EXISTS stories (
    doc_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stories_fingerprint ON stories (fingerprint);
"""
MIGRATIONS = (_V1,)  # append, never edit (retrieval/sqlite.py)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class FeedInfo:
    """One followed feed, as `newsdesk feeds` and `/feeds` show it."""

    url: str
    title: str
    added_at: str
    last_check: str | None
    last_new_at: str | None
    last_new_title: str | None
    last_error: str | None
    last_error_at: str | None
    items_ingested: int
    etag: str | None = None
    last_modified: str | None = None

    def describe(self) -> str:
        """Return a short multi-line description for a terminal or a chat."""
        lines = [self.title or self.url]
        if self.title:
            lines.append(f"  {self.url}")
        lines.append(f"  last check: {_show(self.last_check) or 'never'}")
        new = _show(self.last_new_at) or "none yet"
        if self.last_new_title:
            new += f" ({self.last_new_title})"
        lines.append(f"  last new item: {new}; {self.items_ingested} ingested in all")
        if self.last_error:
            lines.append(f"  last error: {self.last_error} ({_show(self.last_error_at)})")
        return "\n".join(lines)


def _show(stamp: str | None) -> str:
    """Show a stored UTC timestamp as "2024-03-14 06:15 UTC"."""
    return stamp[:16].replace("T", " ") + " UTC" if stamp else ""


class WebState:
    """The follower's SQLite file under the data dir (thread rules: retrieval/sqlite.py).

    Use it as a context manager (`with WebState.open(settings) as state:`) so its connections
    are closed when done; the bot and a `newsdesk` command may have the file open at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = Database(path, MIGRATIONS)

    @classmethod
    def open(cls, settings: Settings) -> WebState:
        return cls(Path(settings.data_dir) / STATE_FILE)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> WebState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # feeds -----------------------------------------------------------------

    def add_feed(self, url: str) -> bool:
        """Follow a feed; return False when it was followed already."""
        with self._db.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO feeds (url, added_at) VALUES (?, ?)", (url, now_iso())
            )
            return cur.rowcount > 0

    def remove_feed(self, url: str) -> bool:
        """Stop following a feed and forget its items; return False when it was not followed."""
        with self._db.transaction() as db:
            cur = db.execute("DELETE FROM feeds WHERE url = ?", (url,))
            db.execute("DELETE FROM feed_items WHERE feed_url = ?", (url,))
            return cur.rowcount > 0

    def feeds(self) -> list[FeedInfo]:
        """Return the followed feeds, oldest first."""
        rows = self._db.rows("SELECT * FROM feeds ORDER BY added_at, url")
        return [FeedInfo(**dict(r)) for r in rows]

    def feed(self, url: str) -> FeedInfo | None:
        row = self._db.row("SELECT * FROM feeds WHERE url = ?", (url,))
        return FeedInfo(**dict(row)) if row else None

    def record_check(
        self,
        url: str,
        *,
        error: str | None = None,
        title: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        save_validators: bool = False,
        new_items: int = 0,
        last_new_title: str | None = None,
    ) -> None:
        """Record one poll of a feed: time, error (or success), validators, new items."""
        ts = now_iso()
        with self._db.transaction() as db:
            db.execute("INSERT OR IGNORE INTO feeds (url, added_at) VALUES (?, ?)", (url, ts))
            db.execute("UPDATE feeds SET last_check = ? WHERE url = ?", (ts, url))
            if error is not None:
                db.execute(
                    "UPDATE feeds SET last_error = ?, last_error_at = ? WHERE url = ?",
                    (error, ts, url),
                )
            else:
                db.execute("UPDATE feeds SET last_error = NULL WHERE url = ?", (url,))
            if title:
                db.execute("UPDATE feeds SET title = ? WHERE url = ?", (title, url))
            if save_validators:
                db.execute(
                    "UPDATE feeds SET etag = ?, last_modified = ? WHERE url = ?",
                    (etag, last_modified, url),
                )
            if new_items:
                db.execute(
                    "UPDATE feeds SET last_new_at = ?, last_new_title = ?, "
                    "items_ingested = items_ingested + ? WHERE url = ?",
                    (ts, last_new_title, new_items, url),
                )

    # feed items ------------------------------------------------------------

    def unseen(self, feed_url: str, item_ids: Iterable[str]) -> set[str]:
        """Return the ids still to fetch: never seen, or failed for a passing reason."""
        ids = list(item_ids)
        done = {
            r["item_id"]
            for r in self._db.rows(
                "SELECT item_id FROM feed_items WHERE feed_url = ? "
                "AND (status != 'retry' OR attempts >= ?)",
                (feed_url, MAX_ATTEMPTS),
            )
        }
        return {i for i in ids if i not in done}

    def mark_items(self, feed_url: str, items: Iterable[tuple[str, str, str, str]]) -> None:
        """Remember items as (item_id, link, status, reason); a retry counts an attempt."""
        ts = now_iso()
        with self._db.transaction() as db:
            for item_id, link, status, reason in items:
                db.execute(
                    "INSERT INTO feed_items (feed_url, item_id, link, status, reason, seen_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (feed_url, item_id) DO UPDATE SET "
                    "status = excluded.status, reason = excluded.reason, "
                    "attempts = feed_items.attempts + 1, seen_at = excluded.seen_at",
                    (feed_url, item_id, link, status, reason, ts),
                )

    # stories (content fingerprints) -------------------------------------------

    def story_for_fingerprint(self, fp: str) -> tuple[str, str] | None:
        """Return (doc_id, url) of the story already stored with this fingerprint."""
        sql = "SELECT doc_id, url FROM stories WHERE fingerprint = ? ORDER BY first_seen LIMIT 1"
        row = self._db.row(sql, (fp,))
        return (row["doc_id"], row["url"]) if row else None

    def fingerprints(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """The fingerprint of each stored story among `doc_ids` (unknown ones are left out)."""
        ids = list(doc_ids)
        out: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" * len(part))
            rows = self._db.rows(
                f"SELECT doc_id, fingerprint FROM stories WHERE doc_id IN ({marks})", part
            )
            out.update((r["doc_id"], r["fingerprint"]) for r in rows)
        return out

    def remember_story(self, doc_id: str, url: str, fp: str, title: str) -> None:
        """Record the fingerprint of a stored story (a changed story gets its new print)."""
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO stories (doc_id, url, fingerprint, title, first_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (doc_id) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, url = excluded.url, title = excluded.title",
                (doc_id, url, fp, title, now_iso()),
            )

    def forget_stories(self, doc_ids: Iterable[str]) -> None:
        """Forget fingerprints of stories whose ingest failed, so a later copy is not dropped."""
        with self._db.transaction() as db:
            db.executemany("DELETE FROM stories WHERE doc_id = ?", [(d,) for d in doc_ids])
