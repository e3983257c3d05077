"""`newsdesk eval answers` on RealTime QA: answerable, off-topic and removed-article sets."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.config import Settings
from retrieval.evaluation.data import EvalDataError, load_baseline
from retrieval.evaluation.quiz import (
    PARTS,
    QuizCheck,
    QuizQuestion,
    held_out_weeks,
    load_quiz,
    refusal_scores,
    score_quiz,
    select_part,
    summarize,
)
from retrieval.evaluation.runner import _progress, corpus_articles, default_index_dir, eval_settings
from retrieval.service import Newsdesk

logger = logging.getLogger(__name__)

SETS = ("answerable", "off-topic", "removed")


@dataclass
class QuizEval:
    """Checks per set, and the weeks that were held out from tuning."""

    checks: dict[str, list[QuizCheck]]
    held_out: list[str]
    index_dir: Path
    parts: Sequence[str] = PARTS
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Per part (held-out, tuning, all) and set: the rates; plus refusal scores."""
        held = set(self.held_out)
        out: dict[str, Any] = {"held_out_weeks": self.held_out, "parts": {}}
        for part in self.parts:
            sets = {
                name: [c for c in cs if part == "all" or (c.week in held) == (part == "held-out")]
                for name, cs in self.checks.items()
            }
            row: dict[str, Any] = {name: summarize(cs) for name, cs in sets.items() if cs}
            if sets.get("answerable") and sets.get("off-topic"):
                row["refusal"] = refusal_scores(sets["answerable"], sets["off-topic"])
            out["parts"][part] = row
        return out


def run_quiz_eval(
    settings: Settings,
    corpus: Path,
    questions: Path,
    *,
    seeds: Path,
    baseline: Path | None = None,
    index_dir: Path | None = None,
    weeks: str = "all",
    sets: Sequence[str] = SETS,
    limit: int | None = None,
    details: Path | None = None,
    progress: bool = False,
) -> QuizEval:
    """Ask every quiz question through the service as of its date and score the answers."""
    if not corpus.is_file():
        raise EvalDataError(f"Corpus not found: {corpus}")
    unknown = set(sets) - set(SETS)
    if unknown:
        raise EvalDataError(f"unknown set {sorted(unknown)[0]!r}; choose from {', '.join(SETS)}")
    every = load_quiz(questions)
    qs = select_part(every, weeks)[: limit if limit is not None else None]
    if not qs:
        raise EvalDataError(f"No question of {questions} has an answer_text in those weeks")
    if "removed" in sets and baseline is None:
        raise EvalDataError("the removed set needs --baseline (the web-search results)")
    index_dir = index_dir or default_index_dir(settings, corpus)
    checks: dict[str, list[QuizCheck]] = {}
    if "answerable" in sets or "removed" in sets:
        svc = Newsdesk.open(eval_settings(settings, index_dir), with_llm=False)
        try:
            svc.ingest_articles(corpus_articles(corpus), progress=progress)
            if "answerable" in sets:
                checks["answerable"] = _ask_all(svc, qs, {}, "answerable", progress)
            if "removed" in sets and baseline is not None:
                found = load_baseline(baseline)
                removed = {q.qid: set(q.gold_doc_ids) | set(found.get(q.qid, [])) for q in qs}
                checks["removed"] = _ask_all(svc, qs, removed, "removed", progress)
        finally:
            svc.close()
    if "off-topic" in sets:
        seed_dir = index_dir.parent / f"{index_dir.name}-seed-only"
        svc = Newsdesk.open(eval_settings(settings, seed_dir), with_llm=False)
        try:
            svc.ingest([seeds])
            checks["off-topic"] = _ask_all(svc, qs, {}, "off-topic", progress)
        finally:
            svc.close()
    if details is not None:
        with details.open("w", encoding="utf-8") as out:
            for name, cs in checks.items():
                for c in cs:
                    out.write(json.dumps({"set": name, **c.to_json()}, ensure_ascii=False) + "\n")
    held = sorted(held_out_weeks(q.week for q in every))
    parts = PARTS if weeks == "all" else (weeks,)
    return QuizEval(checks, held, index_dir, parts)


def _ask_all(
    svc: Newsdesk,
    qs: Sequence[QuizQuestion],
    exclude: dict[str, set[str]],
    name: str,
    progress: bool,
) -> list[QuizCheck]:
    out: list[QuizCheck] = []
    for q in _progress(qs, name, progress):
        ans, result = svc.answer_traced(
            q.question, as_of=q.as_of, exclude=frozenset(exclude.get(q.qid, ()))
        )
        out.append(score_quiz(q, ans, result.passages, result.reason))
    return out


def format_quiz_table(result: QuizEval) -> str:
    """Render recall, exclusivity, ceiling, declines and latency per part and set."""
    s = result.summary()
    lines = [
        f"held-out weeks (reported): {', '.join(s['held_out_weeks'])}; the others tune",
        f"{'part':<9} {'set':<11} {'n':>4} {'recall':>7} {'exclus.':>7} {'ceiling':>7} "
        f"{'declined':>8} {'tentat.':>7} {'p50 ms':>7} {'p95 ms':>7}",
    ]
    for part, row in s["parts"].items():
        for name in SETS:
            r = row.get(name)
            if r is None:
                continue
            lines.append(
                f"{part:<9} {name:<11} {r['n']:>4} {r['answer_recall']:>7.3f} "
                f"{r['exclusive_recall']:>7.3f} {r['ceiling']:>7.3f} {r['declined']:>8.3f} "
                f"{r['tentative']:>7.3f} {r['p50_ms']:>7.0f} {r['p95_ms']:>7.0f}"
            )
        answerable = row.get("answerable")
        if answerable and answerable["recall_tentative"] is not None:
            lines.append(
                f"{part:<9} answerable recall: confident answers "
                f"{answerable['recall_confident']}, tentative ones "
                f"{answerable['recall_tentative']}"
            )
        ref = row.get("refusal")
        if ref:
            lines.append(
                f"{part:<9} refusals (answerable vs off-topic): precision "
                f"{ref['refusal_precision']}, recall {ref['refusal_recall']}"
            )
    return "\n".join(lines)
