"""The one SQLite helper: versioned migrations, transactions, per-thread connections, WAL."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.telegram.state import StateStore
from retrieval.sqlite import Database
from retrieval.web.state import WebState

V1 = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL  -- a comment; with a semicolon
);
CREATE TABLE IF NOT EXISTS tags (
    note_id INTEGER NOT NULL REFERENCES notes (id),
    tag TEXT NOT NULL DEFAULT 'a;b'
);
"""
V2 = "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;"


def test_migrations_run_once_each_in_order(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    db = Database(path, (V1,))
    assert db.version == 1
    with db.transaction() as conn:
        conn.execute("INSERT INTO notes (id, text) VALUES (1, 'first')")
    db.close()

    db = Database(path, (V1, V2))  # a later release appends a migration
    assert db.version == 2
    assert db.row("SELECT text, pinned FROM notes WHERE id = 1") is not None
    db.close()
    db = Database(path, (V1, V2))  # nothing to do: the ALTER is not run twice
    assert db.version == 2 and db.rows("SELECT id FROM notes")[0]["id"] == 1
    db.close()


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.sqlite3", (V1,))
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("INSERT INTO notes (id, text) VALUES (1, 'half')")
        raise RuntimeError("boom")
    assert db.rows("SELECT * FROM notes") == []
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
        conn.execute("INSERT INTO tags (note_id, tag) VALUES (99, 'x')")  # foreign keys on
    assert db.row("PRAGMA journal_mode")[0] == "wal"  # type: ignore[index]
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        db.conn()


def test_threads_each_get_a_connection_and_readers_do_not_wait(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.sqlite3", (V1,))
    with db.transaction() as conn:
        conn.execute("INSERT INTO notes (id, text) VALUES (0, 'seed')")

    def write(n: int) -> int:
        with db.transaction() as conn:
            conn.execute("INSERT INTO notes (id, text) VALUES (?, ?)", (n, f"note {n}"))
        return id(db.conn())

    with ThreadPoolExecutor(4) as pool:
        conns = set(pool.map(write, range(1, 41)))
    assert len(conns) > 1 and id(db.conn()) not in conns
    assert db.row("SELECT COUNT(*) AS n FROM notes")["n"] == 41  # type: ignore[index]

    # a write transaction held open in one thread does not block a reader in another
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction() as conn:
            conn.execute("INSERT INTO notes (id, text) VALUES (100, 'pending')")
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=hold)
    writer.start()
    try:
        assert holding.wait(10)
        seen = db.row("SELECT COUNT(*) AS n FROM notes")  # the last commit, at once
        assert seen is not None and seen["n"] == 41
    finally:
        release.set()
        writer.join()
    assert db.row("SELECT COUNT(*) AS n FROM notes")["n"] == 42  # type: ignore[index]
    db.close()


def test_both_stores_adopt_files_made_before_versioning(tmp_path: Path) -> None:
    # files written by earlier releases had the tables but no user_version
    legacy = sqlite3.connect(tmp_path / "telegram.sqlite3")
    legacy.execute("CREATE TABLE usage (user_id INTEGER, day TEXT, questions INTEGER,"
                   " PRIMARY KEY (user_id, day))")  # fmt: skip
    legacy.execute("INSERT INTO usage VALUES (7, '2024-03-05', 3)")
    legacy.commit()
    legacy.close()
    store = StateStore.in_data_dir(tmp_path)
    assert store.usage(7, "2024-03-05") == 3
    assert store.history(1, 6) == []  # the other tables were created
    store.close()
    with WebState(tmp_path / "live.sqlite3") as state:
        assert state.add_feed("https://example.org/feed.xml")
        assert [f.url for f in state.feeds()] == ["https://example.org/feed.xml"]
