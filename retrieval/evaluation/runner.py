"""Run evaluations through the service the bot uses: retrieval rankings and answers."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from retrieval.config import Settings
from retrieval.evaluation.data import (
    EvalDataError,
    EvalQuestion,
    SeedQuestion,
    load_baseline,
    load_questions,
)
from retrieval.evaluation.metrics import RankingScores, score_rankings
from retrieval.ingest import IngestReport
from retrieval.parse import Problem, parse_jsonl
from retrieval.service import Newsdesk
from retrieval.types import Answer, Article

logger = logging.getLogger(__name__)

SYSTEMS: tuple[str, ...] = ("hybrid", "vector", "bm25")


# --- retrieval ------------------------------------------------------------------------------


@dataclass
class RetrievalEval:
    """Scores of every system on the questions that have gold documents."""

    n: int
    systems: dict[str, RankingScores]
    k: int
    index_dir: Path
    ingest: IngestReport | None = None
    without_gold: int = 0
    rankings: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The `--json` schema: {"n": N, "systems": {name: {"hits@1": .., ...}}}."""
        return {"n": self.n, "systems": {k: v.to_json() for k, v in self.systems.items()}}


def default_index_dir(settings: Settings, corpus: Path, *, body_only: bool = False) -> Path:
    """Return the eval index folder for a corpus: one per corpus path, reused across runs."""
    digest = hashlib.sha1(str(corpus.resolve()).encode()).hexdigest()[:8]
    suffix = "-body" if body_only else ""
    return settings.data_dir / "eval" / f"{corpus.stem}-{digest}{suffix}"


def corpus_articles(corpus: Path, *, body_only: bool = False) -> Iterable[Article | Problem]:
    """Parse a .jsonl corpus exactly as `newsdesk ingest` does; optionally drop headlines."""
    for item in parse_jsonl(corpus):
        if body_only and isinstance(item, Article):
            yield dataclasses.replace(item, title="")
        else:
            yield item


def eval_settings(settings: Settings, index_dir: Path) -> Settings:
    """Settings for an eval index: its own data dir and no LLM (retrieval only)."""
    return settings.model_copy(update={"data_dir": index_dir, "chroma_host": None, "llm": "off"})


def _progress(items: Sequence[Any], desc: str, enabled: bool) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm import tqdm

    bar: Iterable[Any] = tqdm(items, desc=desc, unit=" q", file=sys.stderr, leave=False)
    return bar


def run_retrieval_eval(
    settings: Settings,
    corpus: Path,
    questions: Path,
    *,
    baseline: Path | None = None,
    k: int = 10,
    index_dir: Path | None = None,
    limit: int | None = None,
    body_only: bool = False,
    progress: bool = False,
) -> RetrievalEval:
    """Ingest the corpus into its own index (incremental), then rank every gold question."""
    if not corpus.is_file():
        raise EvalDataError(f"Corpus not found: {corpus}")
    if k < 1:
        raise EvalDataError("--k must be at least 1")
    qs = load_questions(questions)
    gold_qs = [q for q in qs if q.gold_doc_ids]
    if limit is not None:
        gold_qs = gold_qs[: max(limit, 0)]
    if not gold_qs:
        raise EvalDataError(f"No question in {questions} has gold_doc_ids")
    base_rankings = load_baseline(baseline) if baseline is not None else None

    index_dir = index_dir or default_index_dir(settings, corpus, body_only=body_only)
    svc = Newsdesk.open(eval_settings(settings, index_dir), with_llm=False)
    try:
        report = svc.ingest_articles(
            corpus_articles(corpus, body_only=body_only), progress=progress
        )
        logger.info("eval index %s: %s", index_dir, report.summary())
        rankings = _rank_all(svc, gold_qs, k, progress)
    finally:
        svc.close()

    gold = {q.qid: q.gold_doc_ids for q in gold_qs}
    systems = {name: score_rankings(r, gold) for name, r in rankings.items()}
    if base_rankings is not None:
        trimmed = {qid: base_rankings[qid][:k] for qid in gold if qid in base_rankings}
        systems["baseline"] = score_rankings(trimmed, gold)
        rankings["baseline"] = trimmed
    return RetrievalEval(
        n=len(gold_qs),
        systems=systems,
        k=k,
        index_dir=index_dir,
        ingest=report,
        without_gold=len(qs) - len([q for q in qs if q.gold_doc_ids]),
        rankings=rankings,
    )


def _rank_all(
    svc: Newsdesk, questions: Sequence[EvalQuestion], k: int, progress: bool
) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {name: {} for name in SYSTEMS}
    retriever = svc.retriever
    retriever.refresh()
    for q in _progress(questions, "questions", progress):
        for name in SYSTEMS:
            out[name][q.qid] = retriever.ranked_docs(
                q.question,
                as_of=q.as_of,
                system=name,  # type: ignore[arg-type]
                k=k,
            )
    return out


def format_retrieval_table(result: RetrievalEval) -> str:
    """Render the systems side by side."""
    lines = [
        f"{result.n} questions with gold documents (documents ranked by best chunk, k={result.k})",
        f"{'system':<10} {'Hits@1':>7} {'Hits@4':>7} {'Hits@10':>8} {'MRR@10':>7}",
    ]
    for name, s in result.systems.items():
        lines.append(
            f"{name:<10} {s.hits.get(1, 0.0):>7.3f} {s.hits.get(4, 0.0):>7.3f} "
            f"{s.hits.get(10, 0.0):>8.3f} {s.mrr:>7.3f}"
        )
    return "\n".join(lines)


# --- answers --------------------------------------------------------------------------------

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def _squash(text: str) -> str:
    return " ".join(text.split())


def missing_groups(answer: str, groups: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The groups none of whose strings the answer contains (any case)."""
    low = answer.lower()
    return [group for group in groups if not any(s.lower() in low for s in group)]


def mentions_all(answer: str, groups: Sequence[Sequence[str]]) -> bool:
    """True when, for every group, the answer contains one of its strings (any case)."""
    return not missing_groups(answer, groups)


@dataclass
class AnswerCheck:
    """What one answer got right and wrong."""

    qid: str
    question: str
    answerable: bool
    refused: bool
    mode: str
    passed: bool | None  # None for unanswerable questions
    citations_valid: bool | None  # None for refusals
    evidence_hit: bool | None  # None when there is no evidence to find
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_answer(q: SeedQuestion, ans: Answer, chunk_texts: dict[str, str]) -> AnswerCheck:
    """Score one answer: mentions, refusal, citation validity and evidence."""
    problems: list[str] = []
    valid: bool | None = None
    hit: bool | None = None
    if not ans.refused:
        numbers = {c.n for c in ans.citations}
        cited = {int(n) for m in _MARKER.finditer(ans.answer) for n in re.findall(r"\d+", m[1])}
        if not ans.citations:
            problems.append("no citations")
        for n in sorted(cited - numbers):
            problems.append(f"[{n}] names no citation")
        for c in ans.citations:
            source = chunk_texts.get(c.chunk_id)
            if source is None:
                problems.append(f"[{c.n}] cites an unknown passage {c.chunk_id}")
            elif not c.quote.strip() or _squash(c.quote) not in _squash(source):
                problems.append(f"[{c.n}] quote is not verbatim in its passage")
        valid = not problems
        if q.answerable and q.evidence:
            texts = [_squash(chunk_texts.get(c.chunk_id, "")) for c in ans.citations]
            hit = any(_squash(e) in t for e in q.evidence for t in texts)
    elif q.answerable and q.evidence:
        hit = False
    passed: bool | None = None
    if q.answerable:
        missing = [] if ans.refused else missing_groups(ans.answer, q.must_mention_any)
        passed = not ans.refused and not missing
        problems += ["does not mention " + " / ".join(group) for group in missing]
    return AnswerCheck(
        qid=q.qid,
        question=q.question,
        answerable=q.answerable,
        passed=passed,
        refused=ans.refused,
        problems=problems,
        mode=ans.mode,
        citations_valid=valid,
        evidence_hit=hit,
    )


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


@dataclass
class AnswersEval:
    """Summary of answer quality on a seed QA set."""

    mode: str
    checks: list[AnswerCheck]

    @property
    def summary(self) -> dict[str, Any]:
        ans = [c for c in self.checks if c.answerable]
        una = [c for c in self.checks if not c.answerable]
        refused = [c for c in self.checks if c.refused]
        answered = [c for c in self.checks if not c.refused]
        with_evidence = [c for c in ans if c.evidence_hit is not None]
        return {
            "mode": self.mode,
            "n": len(self.checks),
            "answerable": len(ans),
            "unanswerable": len(una),
            "pass_rate": _ratio(sum(bool(c.passed) for c in ans), len(ans)),
            "refusal_precision": _ratio(sum(not c.answerable for c in refused), len(refused)),
            "refusal_recall": _ratio(sum(c.refused for c in una), len(una)),
            "citation_validity": _ratio(
                sum(bool(c.citations_valid) for c in answered), len(answered)
            ),
            "evidence_hit": _ratio(
                sum(bool(c.evidence_hit) for c in with_evidence), len(with_evidence)
            ),
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.summary, "questions": [c.to_json() for c in self.checks]}


def run_answers_eval(
    svc: Newsdesk,
    questions: Sequence[SeedQuestion],
    *,
    as_of: date | None = None,
    progress: bool = False,
) -> AnswersEval:
    """Ask every question through the service and check each answer."""
    checks: list[AnswerCheck] = []
    modes: set[str] = set()
    for q in _progress(questions, "answers", progress):
        ans = svc.answer(q.question, as_of=as_of)
        modes.add(ans.mode)
        checks.append(check_answer(q, ans, _chunk_texts(svc, ans)))
    mode = "/".join(sorted(modes)) or ("llm" if svc.llm is not None else "extractive")
    return AnswersEval(mode=mode, checks=checks)


def _chunk_texts(svc: Newsdesk, ans: Answer) -> dict[str, str]:
    """Fetch the stored text of every cited chunk, to check quotes against the source."""
    ids = sorted({c.chunk_id for c in ans.citations})
    if not ids:
        return {}
    got = svc.store.chunks.get(ids=ids, include=["documents"])
    return {cid: doc or "" for cid, doc in zip(got["ids"], got["documents"] or [], strict=False)}


def format_answers_table(result: AnswersEval) -> str:
    """Render the answer summary and each failing question."""
    s = result.summary

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    lines = [
        f"mode: {s['mode']}  ({s['n']} questions: {s['answerable']} answerable, "
        f"{s['unanswerable']} not)",
        f"pass rate (answerable)   {pct(s['pass_rate'])}",
        f"refusal precision        {pct(s['refusal_precision'])}",
        f"refusal recall           {pct(s['refusal_recall'])}",
        f"citation validity        {pct(s['citation_validity'])}",
        f"evidence hit             {pct(s['evidence_hit'])}",
    ]
    for c in result.checks:
        bad = (
            (c.answerable and not c.passed)
            or (not c.answerable and not c.refused)
            or c.citations_valid is False
            or c.evidence_hit is False
        )
        if bad:
            why = "; ".join(c.problems) or ("refused" if c.refused else "answered")
            lines.append(f"  FAIL {c.qid}: {c.question} ({why})")
    return "\n".join(lines)
