"""Extractive answering: question analysis, sentence selection, composition, briefings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from retrieval.answering.compose import choose, compose_answer, format_date, refusal
from retrieval.answering.question import QuestionSpec, analyse
from retrieval.answering.select import Candidate, score_candidates
from retrieval.types import Answer, AnswerMode, Passage

MIN_SCORE = 0.2  # below this the best sentence does not answer: decline
# Below this the best sentence is shown as the closest reporting, not as the answer: on the
# tuning weeks of RealTime QA dev, 2 of the 25 answers under it held the answer (see
# docs/evaluation.md). Its features are shares of the question, so it is not a probability.
TENTATIVE = 1.1
TENTATIVE_NOTE = "Nothing I have answers this directly; this is the closest reporting."

__all__ = [
    "Candidate",
    "QuestionSpec",
    "analyse",
    "extractive_answer",
    "format_date",
    "refusal",
    "score_candidates",
]


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    *,
    as_of: date | None = None,
    mode: AnswerMode = "extractive",
    context: str = "",
) -> Answer:
    """Compose an answer of verbatim quotes with citations, or a refusal.

    `context` is the conversation so far (for a follow-up); it counts for little.
    """
    spec = analyse(question)
    ranked = score_candidates(spec, passages, context)
    if not ranked or ranked[0].score < MIN_SCORE:
        return refusal(question, mode)
    answer = compose_answer(question, passages, choose(ranked, spec), as_of=as_of, mode=mode)
    if ranked[0].score < TENTATIVE:
        answer.tentative, answer.note = True, TENTATIVE_NOTE
    return answer
