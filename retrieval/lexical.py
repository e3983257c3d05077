"""Persistent BM25 (Tantivy) over chunks and whole articles, kept in step with the Chroma registry.

Two Tantivy indexes under DATA_DIR/lexical/<collection>/: `chunks` (each chunk with its
headline) and `articles` (the headline and the article rebuilt from its chunks). Two indexes,
because Tantivy keeps BM25 statistics (document count, average length) per index. Scoring a
whole article catches questions whose words are spread over several chunks: on RealTime QA dev
it adds 0.04-0.07 MRR@10 to chunk BM25 (docs/evaluation.md).

The index is derived from Chroma: `sync(registry)` makes it hold exactly the registered version
of every article, rewriting only the articles that differ, so adding one article costs that
article. A state file says which registry fingerprint the index matches; before writing, the
articles about to change are recorded there as pending, so a process killed mid-write leaves
a state the next sync repairs. Tantivy commits are atomic and a `Searcher` is a snapshot: a
search that holds one never sees a half-applied write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import tantivy

from retrieval.lexical_search import TOKENIZER, LexicalView, analyzer, schema
from retrieval.memory import trim
from retrieval.types import ChunkMeta

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_WRITER_HEAP = 32_000_000  # bytes; Tantivy flushes a segment when it is full
_LOAD_BATCH = 200  # articles read back from Chroma at a time

# (chunk id, text, metadata) of stored chunks, for a list of doc ids.
ChunkLoader = Callable[[Sequence[str]], Iterable[tuple[str, str, ChunkMeta]]]


def rebuild_text(pieces: Iterable[tuple[int, int, int, str]]) -> str:
    """Join (index, start, end, text) chunks of one article, dropping the overlapping starts."""
    out: list[str] = []
    prev_end = -1
    for _index, start, end, text in sorted(pieces):
        if prev_end > start:
            text = text[prev_end - start :]
        if text:
            out.append(text)
        prev_end = max(prev_end, end)
    return " ".join(out)


class LexicalIndex:
    """The on-disk lexical index of one collection; `view()` is what searches use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer at a time in this process
        self._analyzer = analyzer()
        self._schema = schema()
        self._indexes: dict[str, Any] = {}
        self._versions: dict[str, str] | None = None
        self._generation = -1
        self._state: dict[str, Any] = {}
        with self._writing() as state:
            fresh = not state.get("schema")
            if fresh:
                shutil.rmtree(path, ignore_errors=True)  # none yet, or another schema
            try:
                self._open()
            except (OSError, ValueError) as exc:  # a damaged index is rebuilt, never trusted
                logger.warning("rebuilding the lexical index %s: %s", path, exc)
                shutil.rmtree(path, ignore_errors=True)
                fresh = True
                self._open()
            if fresh:
                self._write_state("", [])
            self._reload()

    def _open(self) -> None:
        self._indexes = {}
        for name in ("chunks", "articles"):
            (self.path / name).mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(self._schema, str(self.path / name))
            index.register_tokenizer(TOKENIZER, self._analyzer)
            index.config_reader("manual")  # snapshots change only when we publish one
            self._indexes[name] = index

    def _new_view(self) -> LexicalView:
        return LexicalView(
            self._schema,
            self._analyzer,
            self._indexes["chunks"].searcher(),
            self._indexes["articles"].searcher(),
        )

    def view(self) -> LexicalView:
        """The latest snapshot this process has loaded."""
        return self._view

    # --- state file --------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state = json.loads((self.path / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("schema") != SCHEMA_VERSION:
            return None
        return state

    def _write_state(self, fingerprint: str, pending: Sequence[str]) -> None:
        generation = self._state_generation() + 1
        state = {
            "schema": SCHEMA_VERSION,
            "fingerprint": fingerprint,
            "pending": list(pending),
            "generation": generation,
        }
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / "state.json.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / "state.json")
        self._state = state

    @contextlib.contextmanager
    def _writing(self) -> Iterator[dict[str, Any]]:
        """One writer: a thread lock here, a file lock against other processes."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Beside the index, not in it: a rebuild removes the index folder.
            lock = self.path.parent / f"{self.path.name}.lock"
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # a writer may wait for a writer
                # Another process sharing the data dir may have written since we looked.
                self._state = self._read_state() or {}
                yield self._state
            finally:
                os.close(fd)

    # --- sync --------------------------------------------------------------------------------

    def sync(self, registry: Mapping[str, str], fingerprint: str, load: ChunkLoader) -> bool:
        """Make the index hold exactly `registry` (doc id -> version); return whether it wrote.

        Only articles whose version differs (or that a killed write left pending) are
        rewritten; `load` reads their chunks back from Chroma.
        """
        with self._writing() as state:
            pending = [str(d) for d in state.get("pending", [])]
            if state.get("fingerprint") == fingerprint and not pending:
                if state.get("generation") != self._generation:
                    self._reload()
                # The state vouches that the index holds exactly this: no need to list it.
                self._versions = dict(registry)
                return False
            current = self._current_versions()
            todo = sorted(
                d for d, v in registry.items() if current.get(d) != v or d in set(pending)
            )
            gone = sorted(d for d in current.keys() | set(pending) if d not in registry)
            if not todo and not gone:
                self._write_state(fingerprint, [])
                self._generation = self._state_generation()
                return False
            if len(todo) + len(gone) > 100:
                logger.info("lexical index: writing %d articles, removing %d", len(todo), len(gone))
            self._write_state("", todo + gone)
            self._apply(todo, gone, registry, load)
            if len(todo) > _LOAD_BATCH:
                trim()  # the chunks read back and the writers' buffers are gone now
            versions = {d: v for d, v in current.items() if d not in gone}
            versions.update((d, registry[d]) for d in todo)
            self._write_state(fingerprint, [])
            self._reload()
            self._versions = versions
            logger.debug("lexical index: %d articles written, %d removed", len(todo), len(gone))
            return True

    def _state_generation(self) -> int:
        return int(self._state.get("generation", 0))

    def _current_versions(self) -> dict[str, str]:
        """What the committed index holds (enumerated once, then kept up to date)."""
        if self._versions is None or self._generation != self._state_generation():
            self._reload()
            self._versions = self._view.versions()
        return self._versions

    def _reload(self) -> None:
        for index in self._indexes.values():
            index.reload()
        self._view = self._new_view()
        self._generation = self._state_generation()

    def _apply(
        self,
        todo: Sequence[str],
        gone: Sequence[str],
        registry: Mapping[str, str],
        load: ChunkLoader,
    ) -> None:
        writers = [
            self._indexes[name].writer(heap_size=_WRITER_HEAP, num_threads=1)
            for name in ("chunks", "articles")
        ]
        chunks_w, articles_w = writers
        try:
            for doc_id in [*gone, *todo]:
                for w in writers:
                    w.delete_documents_by_term("doc_id", doc_id)
            for start in range(0, len(todo), _LOAD_BATCH):
                for chunk_docs, article_doc in _documents(
                    todo[start : start + _LOAD_BATCH], registry, load
                ):
                    for doc in chunk_docs:
                        chunks_w.add_document(doc)
                    articles_w.add_document(article_doc)
            # Chunks first: an article's record never claims chunks that are not committed.
            chunks_w.commit()
            articles_w.commit()
        except BaseException:
            for w in writers:
                with contextlib.suppress(Exception):
                    w.rollback()
            raise
        finally:
            # Let merges finish before the writer goes: dropping it would abandon them and
            # leave one segment per commit.
            for w in writers:
                with contextlib.suppress(Exception):
                    w.wait_merging_threads()

    def close(self) -> None:
        self._view = None  # type: ignore[assignment]
        self._indexes.clear()


def _documents(
    batch: Sequence[str], registry: Mapping[str, str], load: ChunkLoader
) -> Iterator[tuple[list[tantivy.Document], tantivy.Document]]:
    """Tantivy documents of each article: its chunks, and the whole article rebuilt from them.

    An article gets its record even without chunks, so the index lists every registered one.
    """
    rows: dict[str, list[tuple[str, str, ChunkMeta]]] = defaultdict(list)
    for cid, text, meta in load(batch):
        if registry.get(meta.doc_id) == meta.version:
            rows[meta.doc_id].append((cid, text, meta))
    for doc_id in batch:
        version, chunks = registry[doc_id], rows.get(doc_id, [])
        first = chunks[0][2] if chunks else None
        title = first.title if first else ""
        published = first.published_ord if first else -1
        fields = {"doc_id": doc_id, "version": version, "published_ord": published}
        docs = [
            tantivy.Document(text=f"{title}\n{text}" if title else text, chunk_id=cid, **fields)
            for cid, text, _ in chunks
        ]
        body = rebuild_text((m.chunk, m.start, m.end, t) for _, t, m in chunks)
        yield docs, tantivy.Document(text=f"{title}\n\n{body}", **fields)
