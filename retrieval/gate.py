"""The relevance gate: decide whether retrieved passages can answer the question at all.

Evidence may come from the dense side (cosine similarity of question and passage) or the
lexical side: a passage that names the question's rare terms, or one sentence that covers
most of the question, is evidence even when cosine is low (MiniLM scores "What did X say?"
low whatever X is). A logistic model of these features decides; its weights were fitted on
labelled answerable and unanswerable questions (docs/evaluation.md, "relevance gate").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.answering.evidence import coverage, term_weights
from retrieval.answering.question import QuestionSpec, analyse
from retrieval.text import content_stems, split_sentences, term_in
from retrieval.types import Passage

# Logistic weights of the best cosine, the best passage's and the best sentence's weighted
# coverage of the question, fitted on the tuning weeks of RealTime QA dev (answerable over
# the full corpus against the same questions over the seed article alone): see
# docs/evaluation.md. The named terms did not separate those sets (a fitted weight near
# zero), so they act as a veto instead: a question that names terms of which no passage has
# any is declined ("What did Poland's prime minister say?" over coverage without Poland).
COEF: dict[str, float] = {"bias": -5.94, "cosine": 14.16, "passage": 4.64, "sentence": 1.78}
THRESHOLD = 0.5
# Below this cosine the dense side is no evidence at all (the old gate's floor). The
# configured NEWSDESK_MIN_RELEVANCE shifts it.
DEFAULT_MIN_SIMILARITY = 0.25


@dataclass(frozen=True)
class Verdict:
    """Whether to answer, how sure the gate is, and why (for logs and evaluation)."""

    relevant: bool
    probability: float
    reason: str
    features: dict[str, float]


def gate_features(spec: QuestionSpec, passages: Sequence[Passage]) -> dict[str, float]:
    """Dense and lexical evidence of the passages for the question."""
    weights = term_weights(spec)
    best_passage = best_sentence = 0.0
    for p in passages:
        best_passage = max(best_passage, coverage(weights, content_stems(f"{p.title}\n{p.text}")))
        for s, e in split_sentences(p.text):
            best_sentence = max(best_sentence, coverage(weights, content_stems(p.text[s:e])))
    text = " ".join(f"{p.title}\n{p.text}" for p in passages).lower()
    found = [term_in(t, text) for t in spec.names]
    return {
        "cosine": max((p.similarity for p in passages), default=0.0),
        "passage": best_passage,
        "sentence": best_sentence,
        "names": sum(found) / len(found) if found else 1.0,
        "missing": float(len(found) - sum(found)),
    }


def judge(
    question: str | QuestionSpec,
    passages: Sequence[Passage],
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
) -> Verdict:
    """Decide whether the passages can answer the question."""
    spec = analyse(question) if isinstance(question, str) else question
    if not passages:
        return Verdict(False, 0.0, "the index is empty", {})
    if not spec.stems:
        return Verdict(False, 0.0, "the question has no searchable words", {})
    f = gate_features(spec, passages)
    shift = min_similarity - DEFAULT_MIN_SIMILARITY
    z = COEF["bias"] + sum(COEF[k] * f[k] for k in ("cosine", "passage", "sentence"))
    z -= COEF["cosine"] * shift
    prob = 1 / (1 + math.exp(-z))
    summary = ", ".join(f"{k} {v:.2f}" for k, v in f.items())
    if spec.names and f["names"] == 0:
        names = ", ".join(spec.names)
        return Verdict(False, prob, f"not in the coverage: {names} ({summary})", f)
    if prob < THRESHOLD:
        missing = [t for t in spec.names if not term_in(t, _all_text(passages))]
        why = f"not in the coverage: {', '.join(missing)}" if missing else "too little evidence"
        return Verdict(False, prob, f"{why} (p={prob:.2f}; {summary})", f)
    return Verdict(True, prob, f"p={prob:.2f}; {summary}", f)


def relevance(
    question: str, passages: Sequence[Passage], min_similarity: float
) -> tuple[bool, str]:
    """Return (relevant, reason): the gate's verdict in the old shape."""
    v = judge(question, passages, min_similarity)
    return v.relevant, v.reason


def _all_text(passages: Sequence[Passage]) -> str:
    return " ".join(f"{p.title}\n{p.text}" for p in passages).lower()
