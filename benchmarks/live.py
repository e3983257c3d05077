"""Live phase: one new article ingested while a reader thread keeps asking questions.

    python -m benchmarks.live --data-dir DIR [--questions FILE] [--json-only]

Opens the index in DIR (as the bot does), answers questions in a loop on a reader thread,
ingests one new one-chunk article meanwhile (--repeat times, a new article each time) and
prints one JSON object: the ingest time of each article, reader latency before and during the
ingests (p50 / p95 / max), peak RSS before and after. The articles are removed again
afterwards (unless --keep), so the index is left as it was and runs can be repeated.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import RTQA, SEED_QA
from benchmarks.measure import peak_rss_mb
from retrieval.config import Settings
from retrieval.dates import parse_date
from retrieval.evaluation.data import question_text
from retrieval.metrics import percentile
from retrieval.service import Newsdesk
from retrieval.types import Article

LIVE_PREFIX = "bench_live_"


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "max_ms": round(max(values), 1),
    }


def load_questions(path: Path, n: int) -> list[tuple[str, date | None]]:
    """(question, as-of date) pairs from RealTime QA or seed QA lines."""
    out: list[tuple[str, date | None]] = []
    for lineno, line in enumerate(path.open(encoding="utf-8"), 1):
        rec = json.loads(line)
        out.append((question_text(rec, path, lineno), parse_date(rec.get("question_date"))))
        if len(out) >= n:
            break
    return out


def new_article(n: int, stamp: str) -> Article:
    """A short article that did not exist before (one chunk)."""
    text = (
        f"Keepers at the Riga zoo said on Tuesday that a herd of zebras crossed the frozen "
        f"Daugava river at dawn (report {stamp}). Nobody was hurt, and the animals were led "
        "back by noon, the zoo's director told reporters."
    )
    return Article(
        doc_id=f"{LIVE_PREFIX}{n}",
        title="Zebras cross the Daugava",
        text=text,
        source=f"bench://live/{stamp}",
        outlet="bench",
        published=date.today(),
        url="",
    )


class Reader(threading.Thread):
    """Asks questions back to back, recording when each started and how long it took."""

    def __init__(self, svc: Newsdesk, questions: list[tuple[str, date | None]]) -> None:
        super().__init__(daemon=True)
        self.svc = svc
        self.questions = questions
        self.samples: list[tuple[float, float]] = []  # (start, end) perf_counter seconds
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            question, as_of = self.questions[i % len(self.questions)]
            i += 1
            t = time.perf_counter()
            try:
                self.svc.answer(question, as_of=as_of)
            except Exception as exc:  # counted and reported: a reader must never see one
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.samples.append((t, time.perf_counter()))

    def latencies(self, spans: list[tuple[float, float]]) -> list[float]:
        """Latency (ms) of the questions that overlapped one of the (start, end) spans."""
        return [
            (b - a) * 1000
            for a, b in self.samples
            if any(b >= start and a <= end for start, end in spans)
        ]


def remove_articles(svc: Newsdesk) -> None:
    """Take the bench articles out the way an ingest would (registry, publish, chunks)."""
    ours = [d for d in svc.retriever.registry if d.startswith(LIVE_PREFIX)]
    if ours:
        with svc.store.writing():
            svc.store.delete_records(ours)
            svc.retriever.publish()
            svc.store.delete_chunks_of(ours)


def run(settings: Settings, questions: list[tuple[str, date | None]], args: Any) -> dict[str, Any]:
    t = time.perf_counter()
    svc = Newsdesk.open(settings, with_llm=False)
    open_s = time.perf_counter() - t
    spans: list[tuple[float, float]] = []
    new = 0
    try:
        remove_articles(svc)  # left by an interrupted run
        for q, as_of in questions[:3]:
            svc.answer(q, as_of=as_of)  # warm up
        serve_rss = peak_rss_mb()
        stats = svc.stats()
        reader = Reader(svc, questions)
        reader.start()
        time.sleep(args.before_seconds)
        first = time.perf_counter()
        for n in range(args.repeat):
            start = time.perf_counter()
            new += svc.ingest_articles([new_article(n, str(time.time_ns()))]).new
            spans.append((start, time.perf_counter()))
            time.sleep(args.between_seconds)
        time.sleep(args.after_seconds)
        reader.stop.set()
        reader.join()
        ingest_rss = peak_rss_mb()
        found = svc.retriever.search("zebras crossed the Daugava", system="bm25")
        visible = bool(found) and found[0].meta.doc_id.startswith(LIVE_PREFIX)
        if not args.keep:
            remove_articles(svc)
    finally:
        svc.close()
    seconds = [b - a for a, b in spans]
    return {
        "data_dir": str(settings.data_dir),
        "articles": stats.articles,
        "chunks": stats.chunks,
        "open_seconds": round(open_s, 2),
        "ingest_seconds": [round(x, 3) for x in seconds],
        "ingest_median_seconds": round(statistics.median(seconds), 3),
        "ingest_new": new,
        "new_article_found": visible,
        "reader_before": _summary(reader.latencies([(0.0, first)])),
        "reader_during": _summary(reader.latencies(spans)),
        "reader_errors": reader.errors[:5],
        "serve_peak_rss_mb": round(serve_rss),
        "ingest_peak_rss_mb": round(ingest_rss),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def phase(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """The `live` phase of `python -m benchmarks`, with `python -m benchmarks.live`'s defaults."""
    if args.questions_json is None:
        raise SystemExit("the live phase needs --questions-json")
    qs = json.loads(Path(args.questions_json).read_text(encoding="utf-8"))
    questions = [(str(q["question"]), parse_date(q.get("as_of"))) for q in qs]
    opts = build_parser().parse_args(["--data-dir", str(settings.data_dir)])
    return run(settings, questions, opts)


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `python -m benchmarks.live`; the runner's phase takes their defaults."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.live", description=__doc__)
    p.add_argument("--data-dir", type=Path, required=True, help="an index built by newsdesk")
    p.add_argument("--questions", type=Path, default=None, help="RealTime QA or seed QA jsonl")
    p.add_argument("--n-questions", type=int, default=40)
    p.add_argument("--before-seconds", type=float, default=3.0)
    p.add_argument("--after-seconds", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=3, help="articles ingested, one at a time")
    p.add_argument("--between-seconds", type=float, default=1.0)
    p.add_argument("--keep", action="store_true", help="leave the new article in the index")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m benchmarks.live`."""
    args = build_parser().parse_args(argv)
    env_file = os.environ.get("NEWSDESK_ENV_FILE", ".env") or None
    settings = Settings(_env_file=env_file, data_dir=args.data_dir, llm="off")
    rtqa = RTQA / "questions_dev.jsonl"
    path = args.questions or (rtqa if rtqa.is_file() else SEED_QA)
    questions = load_questions(path, args.n_questions)
    print(json.dumps(run(settings, questions, args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
