"""The index phases: ingest throughput and size, then retrieval and answer latency."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from benchmarks.measure import peak_rss_mb
from retrieval.chunking import chunk_text
from retrieval.config import Settings
from retrieval.embedding import make_embedder
from retrieval.ingest import Ingestor, embed_text
from retrieval.metrics import percentile
from retrieval.parse import Problem, iter_paths, parse_file
from retrieval.service import Newsdesk
from retrieval.store import Store
from retrieval.types import Article


def _articles(sources: list[Path], limit: int | None) -> Iterator[Article]:
    items = (
        item
        for f, root in iter_paths([p.resolve() for p in sources])
        for item in parse_file(f, root)
    )
    yield from islice((i for i in items if isinstance(i, Article)), limit)


def ingest_worker(settings: Settings, sources: list[Path], limit: int | None) -> dict[str, Any]:
    """Ingest into settings.data_dir; measure raw embedding on the same chunks first."""
    embedder = make_embedder(settings)
    articles = list(_articles(sources, limit))
    counter = getattr(embedder, "count_tokens", None)
    texts = [
        embed_text(a, c)
        for a in articles
        for c in (chunk_text(a.doc_id, a.text, count=counter) if counter else [])
    ]
    result: dict[str, Any] = {"articles": len(articles), "chunks_planned": len(texts)}
    store = Store(settings, embedder.model_id, embedder.dim)
    already = store.registry()
    if texts and not already:
        sample = texts[: min(len(texts), 2000)]
        t = time.perf_counter()
        embedder.embed(sample)
        result["raw_chunks_per_s"] = len(sample) / (time.perf_counter() - t)
    t = time.perf_counter()
    items: list[Article | Problem] = list(articles)
    report = Ingestor(store, embedder, count_tokens=counter, progress=True).run(items)
    seconds = time.perf_counter() - t
    store.close()
    result.update(
        chunks_written=report.chunks,
        new=report.new,
        unchanged=report.unchanged,
        ingest_seconds=seconds,
        ingest_peak_rss_mb=peak_rss_mb(),
    )
    if report.chunks and "raw_chunks_per_s" in result:
        ingest_rate = report.chunks / seconds
        result["ingest_chunks_per_s"] = ingest_rate
        result["ingest_ratio"] = ingest_rate / result["raw_chunks_per_s"]
    return result


def serve_worker(settings: Settings, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Open the service, warm it up, then time retrieval and full answers per question."""
    t0 = time.perf_counter()
    svc = Newsdesk.open(settings, with_llm=False)
    open_s = time.perf_counter() - t0
    svc.answer("warm up question about the news")
    retrieval_ms: list[float] = []
    answer_ms: list[float] = []
    for q in questions:
        as_of = q.get("as_of")
        when = date.fromisoformat(as_of) if as_of else None
        t = time.perf_counter()
        svc.retrieve(q["question"], as_of=when)
        retrieval_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        svc.answer(q["question"], as_of=when)
        answer_ms.append((time.perf_counter() - t) * 1000)
    stats = svc.stats()
    svc.close()
    return {
        "articles": stats.articles,
        "chunks": stats.chunks,
        "open_seconds": open_s,
        "retrieval_p50_ms": percentile(retrieval_ms, 50),
        "retrieval_p95_ms": percentile(retrieval_ms, 95),
        "answer_p50_ms": percentile(answer_ms, 50),
        "answer_p95_ms": percentile(answer_ms, 95),
        "serve_peak_rss_mb": peak_rss_mb(),
        "questions": len(questions),
    }


def ingest_phase(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Worker phase `ingest --source PATH [--limit N]`."""
    return ingest_worker(settings, args.source, args.limit)


def serve_phase(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Worker phase `serve --questions-json FILE`."""
    questions = json.loads(args.questions_json.read_text()) if args.questions_json else []
    return serve_worker(settings, questions)
