"""Answer-level scores on news-quiz questions (RealTime QA): recall, exclusivity, ceiling.

A question is answered when its normalised `answer_text` occurs in the answer or its quotes
(case, quote marks, possessives and punctuation folded: ALCE's "EM recall"); exclusively
when none of the other choices occurs too; the ceiling asks the same of the passages the
answerer was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from retrieval.dates import parse_date
from retrieval.evaluation.data import (
    EvalDataError,
    _records,
    _str_list,
    question_text,
)
from retrieval.metrics import percentile
from retrieval.text import fold, occurs
from retrieval.types import Answer, Passage

PARTS = ("held-out", "tuning", "all")


@dataclass(frozen=True)
class QuizQuestion:
    """A quiz question with its choices, the right one(s), and the week it was asked."""

    qid: str
    question: str
    as_of: date | None
    week: str
    choices: list[str]
    answers: list[str]
    gold_doc_ids: list[str] = field(default_factory=list)


def is_quiz_file(path: Path) -> bool:
    """Whether a questions file is RealTime QA style (`question_sentence` and `choices`)."""
    for _, rec in _records(path):
        return "question_sentence" in rec and "choices" in rec
    return False


def load_quiz(path: Path) -> list[QuizQuestion]:
    """Load RealTime QA questions that have an `answer_text` (the others cannot be scored)."""
    out: list[QuizQuestion] = []
    for lineno, rec in _records(path):
        text = question_text(rec, path, lineno)
        answers = [a for a in _str_list(rec.get("answer_text")) if a.strip()]
        if not answers:
            continue
        out.append(
            QuizQuestion(
                qid=str(rec.get("question_id") or f"line{lineno}"),
                question=text,
                as_of=parse_date(rec.get("question_date")),
                week=str(rec.get("week") or ""),
                choices=_str_list(rec.get("choices")),
                answers=answers,
                gold_doc_ids=_str_list(rec.get("gold_doc_ids")),
            )
        )
    return out


def held_out_weeks(weeks: Iterable[str]) -> set[str]:
    """The weeks reported on: every second week in date order (the others tune)."""
    return set(sorted(set(weeks))[1::2])


def select_part(questions: Sequence[QuizQuestion], part: str) -> list[QuizQuestion]:
    """The questions of one part: "held-out", "tuning" or "all"."""
    if part not in PARTS:
        raise EvalDataError(f"--weeks must be one of {', '.join(PARTS)}")
    if part == "all":
        return list(questions)
    held = held_out_weeks(q.week for q in questions)
    return [q for q in questions if (q.week in held) == (part == "held-out")]


def answer_text(answer: Answer) -> str:
    """What the reader sees: the answer and the quotes of its sources."""
    return "\n".join([answer.answer, *(c.quote for c in answer.citations)])


@dataclass
class QuizCheck:
    """One question scored."""

    qid: str
    week: str
    question: str
    refused: bool
    recall: bool
    exclusive: bool
    ceiling: bool
    total_ms: float
    tentative: bool = False  # answered as "the closest reporting", not as the answer
    reason: str = ""
    answer: str = ""
    expected: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)  # documents of the passages, best first

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def score_quiz(
    q: QuizQuestion, ans: Answer, passages: Sequence[Passage], reason: str = ""
) -> QuizCheck:
    """Score one answer against the quiz key."""
    shown = "" if ans.refused else fold(answer_text(ans))
    recall = any(occurs(a, shown) for a in q.answers)
    others = [c for c in q.choices if fold(c) not in {fold(a) for a in q.answers}]
    exclusive = recall and not any(occurs(c, shown) for c in others)
    given = fold("\n".join(p.text for p in passages))
    return QuizCheck(
        qid=q.qid,
        week=q.week,
        question=q.question,
        refused=ans.refused,
        recall=recall,
        exclusive=exclusive,
        ceiling=any(occurs(a, given) for a in q.answers),
        total_ms=ans.timings_ms.get("total_ms", 0.0),
        tentative=ans.tentative,
        reason=reason,
        answer=ans.answer,
        expected=q.answers,
        docs=list(dict.fromkeys(p.doc_id for p in passages)),
    )


def summarize(checks: Sequence[QuizCheck]) -> dict[str, float | int | None]:
    """Rates over a set of checks (and latency p50/p95 of the whole answer)."""
    n = len(checks)

    def rate(flags: Iterable[bool]) -> float:
        return round(sum(flags) / n, 4) if n else 0.0

    times = [c.total_ms for c in checks]
    return {
        "n": n,
        "answer_recall": rate(c.recall for c in checks),
        "exclusive_recall": rate(c.exclusive for c in checks),
        "ceiling": rate(c.ceiling for c in checks),
        "declined": rate(c.refused for c in checks),
        "tentative": rate(c.tentative for c in checks),
        # answer recall of the confident answers and of the tentative ones
        "recall_confident": _share(c.recall for c in checks if not c.refused and not c.tentative),
        "recall_tentative": _share(c.recall for c in checks if c.tentative),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
    }


def _share(flags: Iterable[bool]) -> float | None:
    got = list(flags)
    return round(sum(got) / len(got), 4) if got else None


def refusal_scores(
    answerable: Sequence[QuizCheck], unanswerable: Sequence[QuizCheck]
) -> dict[str, float | None]:
    """Refusal precision (declines that were right) and recall (unanswerable declined)."""
    wrong = sum(c.refused for c in answerable)
    right = sum(c.refused for c in unanswerable)
    return {
        "refusal_precision": round(right / (right + wrong), 4) if right + wrong else None,
        "refusal_recall": round(right / len(unanswerable), 4) if unanswerable else None,
    }
