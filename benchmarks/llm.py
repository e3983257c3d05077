"""The llm phase: time to first token, total latency, and the citation check's cost."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from benchmarks import SEED_QA
from retrieval.config import Settings
from retrieval.errors import LLMError
from retrieval.llm.answerer import LLMAnswerer
from retrieval.llm.citations import check_answer
from retrieval.llm.prompts import MAX_PASSAGES, answer_messages, new_fence
from retrieval.service import Newsdesk
from retrieval.types import Passage

CHECK_REPEATS = 50


@dataclass
class LLMBenchResult:
    """Per-answer timings in milliseconds."""

    ttft_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    check_ms: list[float] = field(default_factory=list)  # echo guard + check, per answer
    answer_chars: list[int] = field(default_factory=list)
    passed: int = 0  # answers that survived the check without a fallback
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Medians and maxima, for printing or JSON."""

        def stats(values: Sequence[float]) -> dict[str, float]:
            if not values:
                return {}
            return {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}

        return {
            "answers": len(self.total_ms),
            "passed_check": self.passed,
            "failures": len(self.failures),
            "ttft_ms": stats(self.ttft_ms),
            "total_ms": stats(self.total_ms),
            "check_ms": stats(self.check_ms),
            "answer_chars": stats([float(n) for n in self.answer_chars]),
        }

    def lines(self) -> list[str]:
        """Human-readable lines for the benchmark report."""
        s = self.summary()

        def fmt(key: str) -> str:
            v = s[key]
            return f"median {v['median']:.1f} ms, max {v['max']:.1f} ms" if v else "n/a"

        return [
            f"LLM answers: {s['answers']} ({s['passed_check']} passed the citation check, "
            f"{s['failures']} failed)",
            f"  time to first token: {fmt('ttft_ms')}",
            f"  total latency:       {fmt('total_ms')}",
            f"  citation check:      {fmt('check_ms')} (target < 5 ms)",
        ]


def time_check(
    answerer: LLMAnswerer, text: str, passages: Sequence[Passage], repeats: int = CHECK_REPEATS
) -> float:
    """Return the mean cost in ms of verifying `text` (echo guard included), as answer() does."""
    shown = list(passages)[:MAX_PASSAGES]
    fence = new_fence("|".join(p.chunk_id for p in shown))
    started = time.perf_counter()
    for _ in range(repeats):
        check_answer(text, shown, echo=answerer._echo(shown, fence))
    return (time.perf_counter() - started) * 1000 / repeats


def bench_llm(
    answerer: LLMAnswerer,
    cases: Sequence[tuple[str, Sequence[Passage]]],
    *,
    as_of: date | None = None,
    check_repeats: int = CHECK_REPEATS,
) -> LLMBenchResult:
    """Ask each (question, passages) once; time the model and, separately, the check."""
    result = LLMBenchResult()
    client = answerer._client()
    for question, passages in cases:
        shown = list(passages)[:MAX_PASSAGES]
        fence = new_fence("|".join(p.chunk_id for p in shown))
        messages = answer_messages(question, shown, today=as_of or date.today(), fence=fence)
        try:
            completion = client.complete(messages)
        except LLMError as exc:  # a benchmark reports the model's failures, it goes on
            result.failures.append(f"{question[:60]}: {exc}")
            continue
        if completion.ttft_ms is not None:
            result.ttft_ms.append(completion.ttft_ms)
        result.total_ms.append(completion.total_ms)
        result.answer_chars.append(len(completion.text))
        result.check_ms.append(time_check(answerer, completion.text, shown, check_repeats))
        checked = check_answer(completion.text, shown, echo=answerer._echo(shown, fence))
        result.passed += checked.fallback is None
    return result


def bench_service(
    service: Newsdesk, questions: Sequence[str], *, as_of: date | None = None
) -> LLMBenchResult | None:
    """Benchmark the service's LLM on questions that pass the relevance gate (None: no LLM)."""
    if service.llm is None:
        return None
    cases = []
    for question in questions:
        found = service.retrieve(question, as_of=as_of)
        if found.relevant:
            cases.append((question, found.passages))
    return bench_llm(service.llm, cases, as_of=as_of)


def phase(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Worker phase `llm`: the seed questions through the configured (local) LLM."""
    svc = Newsdesk.open(settings)
    try:
        questions = [json.loads(line)["question"] for line in SEED_QA.open()]
        result = bench_service(svc, questions)
    finally:
        svc.close()
    if result is None:
        return {"report": "LLM: not configured"}
    return {**result.summary(), "report": "\n".join(result.lines())}
