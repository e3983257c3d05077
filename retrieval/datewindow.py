"""Vector search inside a publication-date window without Chroma's metadata filter.

Chroma evaluates a `where` range on `published_ord` over its whole metadata table: on the
RealTime QA index (47k chunks) that made a windowed query 150-480 ms against 10-40 ms
unfiltered, and about half the quiz questions carry a time phrase ("this week"). The registry
the retriever already holds names every live chunk (`chunk_id(doc, version, 0..chunks-1)`) and
its article's date, so a window's chunks are a slice of a date-sorted list, and Chroma is asked
for the nearest among those ids, which is cheap (docs/evaluation.md). A window that admits
most of the index is cheaper still unfiltered: the nearest `2n` chunks, filtered here, hold
the window's nearest `n` whenever at least `n` of them fall inside it; when fewer do, the
ids query answers. Either way only live chunks (the registered versions) come back.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np

from retrieval.store import ArticleRecord, Store, chunk_id

Window = tuple[date, date]
Hit = tuple[str, str, dict[str, Any], float]  # chunk id, text, metadata, cosine distance
# A window holding at least this share of the live chunks is searched unfiltered first.
WIDE_SHARE = 0.5
WIDE_FACTOR = 2  # ... for this many times the results asked for


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
    if len(ids) >= WIDE_SHARE * dates.total:
        allowed = set(ids)
        hits = [h for h in store.query(vector, WIDE_FACTOR * n) if h[0] in allowed]
        if len(hits) >= n:
            return hits[:n]
    return store.query(vector, n, ids=ids)
