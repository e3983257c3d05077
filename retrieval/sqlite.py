"""The SQLite files under the data dir (chat state, feed state): one way to open and use them.

Thread rules, the same for every store built on `Database`:

- Each thread gets its own connection, opened on first use (the event loop's thread, an
  `asyncio.to_thread` worker, an ingest thread). A connection is never used by two threads,
  reads take no lock, and in WAL mode readers never wait for a writer.
- Writes go through `with db.transaction() as conn:`: BEGIN IMMEDIATE, then COMMIT, or
  ROLLBACK when the body raises. One write transaction at a time per `Database` (a Python
  lock: SQLite's own busy handler sleeps in steps of milliseconds, too slow between threads);
  a writer waits up to `BUSY_TIMEOUT_MS` for another process's (or another `Database` of the
  same file's) write, instead of failing: the bot and a `newsdesk` command may share a file.
- Reads (`db.rows`, `db.row`) run in autocommit mode: each statement sees the last commit.
- `close()` closes every thread's connection, from any thread, once no thread uses the file
  any more (closing a connection while its thread runs a statement crashes sqlite3): a
  worker thread that may outlive its caller opens the store itself.

Every connection has foreign keys on and `synchronous=NORMAL` (with WAL a crash of the process
loses nothing committed; a power cut may lose the last commits, never the file). Calls block:
async code runs them with `asyncio.to_thread`.

Schemas are migrations by version: `migrations[0]` brings a new file to version 1, and so on;
`PRAGMA user_version` records the version reached, so a migration runs once per file. Append a
migration to change a schema; never edit one that has shipped. Migration 1 of each store uses
`CREATE ... IF NOT EXISTS`, so files made before versioning are adopted as they are.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 30_000


class Database:
    """One SQLite file: a connection per thread, write transactions, versioned schema."""

    def __init__(self, path: Path, migrations: Sequence[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()  # guards the list of connections, never a query
        self._writing = threading.Lock()  # one write transaction at a time in this process
        self._conns: list[sqlite3.Connection] = []
        self._closed = False
        self.conn().execute("PRAGMA journal_mode=WAL")  # stored in the file
        self._migrate(migrations)

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; rows are `sqlite3.Row`)."""
        if self._closed:
            raise sqlite3.ProgrammingError(f"{self.path.name} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            # check_same_thread=False only so close() may close it from another thread
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self._conns.append(conn)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        self._local.conn = conn
        return conn

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Read: every row of one query."""
        return list(self.conn().execute(sql, params).fetchall())

    def row(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
        """Read: the first row of one query, or None."""
        row: sqlite3.Row | None = self.conn().execute(sql, params).fetchone()
        return row

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on this thread's connection: commit, or roll back on error."""
        conn = self.conn()
        with self._writing:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @property
    def version(self) -> int:
        """The schema version of the file (`PRAGMA user_version`)."""
        return int(self.conn().execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, migrations: Sequence[str]) -> None:
        if self.version >= len(migrations):
            return
        with self.transaction() as conn:
            # re-read under the write lock: another process may have migrated meanwhile
            done = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for version, script in enumerate(migrations[done:], done + 1):
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={version}")

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements (executescript would commit the open transaction)."""
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \t\r\n;"):
                yield buf
            buf = ""
