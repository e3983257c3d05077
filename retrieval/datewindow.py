"""Vector search inside a publication-date window without Chroma's metadata filter.

Chroma evaluates a `where` range on `published_ord` over its whole metadata table: on the
RealTime QA index (47k chunks) that made a windowed query 150-480 ms against 10-40 ms
unfiltered, and about half the quiz questions carry a time phrase ("this week"). The registry
the retriever already holds names every live chunk (`chunk_id(doc, version, 0..chunks-1)`) and
its article's date, so a window's chunks are a slice of a date-sorted list, searched one of
three ways (measured in docs/evaluation.md):
- most of the index: unfiltered, for the nearest `2n`, filtered here; they hold the window's
  nearest `n` whenever at least `n` of them fall inside it, and when fewer do, as below;
- in between: Chroma's search among those ids;
- a few chunks: their stored vectors, ranked here exactly.
Either way only live chunks (the registered versions) come back.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import date

import numpy as np

from retrieval.store import ArticleRecord, Store, chunk_id
from retrieval.types import ChunkMeta

Window = tuple[date, date]
Hit = tuple[str, str, ChunkMeta, float]  # chunk id, text, metadata, cosine distance
# A window holding at least this share of the live chunks is searched unfiltered first.
WIDE_SHARE = 0.5
WIDE_FACTOR = 2  # ... for this many times the results asked for
# A window of at most this many times the results asked for is ranked here, exactly, from the
# stored vectors: Chroma's id-filtered search is slowest when few ids are allowed (50-110 ms
# for 57 chunks, 10 ms read and ranked here; even at about 250 chunks).
SMALL_FACTOR = 2


class ChunkDates:
    """Every live chunk id in publication-date order (undated articles are in no window)."""

    def __init__(self, registry: Mapping[str, ArticleRecord]) -> None:
        rows = sorted(
            (r.published.toordinal(), r.doc_id, r.version, r.chunks)
            for r in registry.values()
            if r.published is not None
        )
        self._ords: list[int] = []
        self._ids: list[str] = []
        for ordinal, doc_id, version, chunks in rows:
            self._ords.extend([ordinal] * chunks)
            self._ids.extend(chunk_id(doc_id, version, i) for i in range(chunks))
        self.total = sum(r.chunks for r in registry.values())

    def inside(self, window: Window) -> list[str]:
        """The ids of the live chunks published inside the (inclusive) window."""
        lo = bisect.bisect_left(self._ords, window[0].toordinal())
        hi = bisect.bisect_right(self._ords, window[1].toordinal())
        return self._ids[lo:hi]


def nearest(
    store: Store, vector: np.ndarray, n: int, window: Window, dates: ChunkDates
) -> list[Hit]:
    """The n nearest live chunks published inside `window` (as a `where` filter would find)."""
    ids = dates.inside(window)
    if not ids:
        return []
    if len(ids) <= SMALL_FACTOR * n:
        return _exact(store, vector, n, ids)
    if len(ids) >= WIDE_SHARE * dates.total:
        allowed = set(ids)
        hits = [h for h in store.query(vector, WIDE_FACTOR * n) if h[0] in allowed]
        if len(hits) >= n:
            return hits[:n]
    return store.query(vector, n, ids=ids)


def _exact(store: Store, vector: np.ndarray, n: int, ids: list[str]) -> list[Hit]:
    """The n nearest of a few chunks by exact cosine (stored vectors are unit length)."""
    rows = store.get_chunks(ids, embeddings=True)
    if not rows:
        return []
    sims = np.asarray([row[3] for row in rows], dtype=np.float32) @ vector
    order = np.argsort(-sims, kind="stable")[:n]
    return [(rows[i][0], rows[i][1], rows[i][2], 1.0 - float(sims[i])) for i in order]
