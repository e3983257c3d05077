"""Whole-article BM25 rebuilt from stored chunks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from retrieval.doc_bm25 import DocBM25, rebuild_text

TEXT = "Ferry workers walked out. The union wants more pay. Buses replaced the ferries."


def _chunk(
    doc_id: str, index: int, start: int, end: int, published: str = ""
) -> tuple[str, str, dict[str, Any]]:
    meta = {"doc_id": doc_id, "chunk": index, "start": start, "end": end, "title": "",
            "published": published}  # fmt: skip
    return f"{doc_id}::{index}", TEXT[start:end], meta


def test_rebuild_text_drops_overlap() -> None:
    # Chunks [0, 50) and [26, 79) overlap by one sentence; out of order on purpose.
    pieces = [(1, 26, 79, TEXT[26:79]), (0, 0, 50, TEXT[0:50])]
    assert rebuild_text(pieces) == TEXT[0:50] + " " + TEXT[50:79]


def test_top_save_load_and_window(tmp_path: Path) -> None:
    chunks = [
        _chunk("strike", 0, 0, 50, "2022-06-13"),
        _chunk("strike", 1, 26, 79, "2022-06-13"),
        _chunk("other", 0, 51, 79, "2021-01-01"),
    ]
    docs = DocBM25.build(chunks)
    assert docs is not None
    assert docs.top("workers pay", 5) == ["strike"]
    assert set(docs.top("ferry", 5)) == {"strike", "other"}  # stemmed: ferries -> ferri
    assert docs.top("zebras", 5) == []
    docs.save(tmp_path / "docs")
    loaded = DocBM25.load(tmp_path / "docs")
    assert loaded is not None
    assert loaded.top("workers pay", 5) == ["strike"]
    assert loaded.top("buses", 5, window=(date(2020, 1, 1), date(2021, 6, 1))) == ["other"]
    assert DocBM25.load(tmp_path / "missing") is None
    assert DocBM25.build([]) is None
