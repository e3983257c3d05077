"""Second-stage re-ranking of retrieved chunks by what the question names and asks.

The hybrid retriever ranks chunks by fused similarity, which lets a long article with many
loosely related chunks push aside a short one that literally names the question's subject
("What did the finance chair say?"). This stage re-scores the best candidates with
sentence-level evidence: how much of the question one sentence covers, whether the chunk
names every term the question names, and whether the subject of "what did X say" speaks
in it. It changes which passages the answerer sees, not `HybridRetriever.ranked_docs`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from retrieval.answering.entities import type_fit
from retrieval.answering.evidence import coverage, term_weights
from retrieval.answering.question import QuestionSpec
from retrieval.answering.speakers import speaker_matches, speakers
from retrieval.retriever import Scored
from retrieval.text import content_stems, fold, split_sentences, term_in

POOL = 25  # candidates re-scored (the answer-bearing chunk: top 20 for 66%, top 40 68%)
MAX_PER_DOC = 3  # chunks of one article among the passages handed on
# Weights of the features (each in 0..1), tuned on the tuning weeks of RealTime QA dev.
WEIGHTS: dict[str, float] = {
    "fused": 1.0,  # the retriever's fused score, divided by the best one
    "coverage": 0.5,  # weighted share of the question's words in the chunk (and headline)
    "sentence": 0.12,  # ... in its best sentence
    "names": 0.0,  # share of the question's named terms in the chunk (coverage counts them)
    "subject": 0.4,  # the subject of "what did X say" / "who is X" speaks or is named
    "answer": 0.4,  # a sentence covering the question offers something of the expected kind
    "lead": 0.2,  # the article's first chunk
    "cosine": 0.9,  # cosine similarity of question and chunk
    "article": -0.5,  # share of the pool's chunks from the same article (prefer variety)
}


def features(
    spec: QuestionSpec,
    item: Scored,
    top: float,
    weights: dict[str, float],
) -> dict[str, float]:
    """The evidence one chunk offers for the question (each feature in 0..1)."""
    title = item.meta.title
    text = item.text
    spans = split_sentences(text)
    sents = [text[s:e] for s, e in spans] or [text]
    low = f"{title}\n{text}".lower()
    sent_stems = [content_stems(s) for s in sents]
    covs = [coverage(weights, st) for st in sent_stems]
    sent_cov = max(covs)
    q_folded = f" {fold(spec.text)} "
    answer = max(
        (
            c * type_fit(spec.kind, s, q_folded, spec.unit)
            for c, s in zip(covs, sents, strict=True)
            if c
        ),
        default=0.0,
    )
    subject = 0.0
    if spec.subject_stems:
        who = speakers(sents)
        subject = max(speaker_matches(spec.subject_stems, w, spec.names) for w in who)
        if not subject and spec.who_is:
            subject = 0.7 * float(all(term_in(t, low) for t in spec.names or [spec.subject]))
    return {
        "fused": item.score / top if top > 0 else 0.0,
        "coverage": coverage(
            weights, [*content_stems(title), *(w for st in sent_stems for w in st)]
        ),
        "sentence": sent_cov,
        "names": sum(term_in(t, low) for t in spec.names) / len(spec.names) if spec.names else 0.0,
        "subject": subject,
        "answer": answer,
        "lead": float(item.meta.chunk == 0),
        "cosine": max(item.similarity, 0.0),
        "article": 0.0,  # filled in by rerank(), which sees the whole pool
    }


def rerank(
    spec: QuestionSpec,
    items: Sequence[Scored],
    *,
    k: int,
    pool: int = POOL,
) -> list[Scored]:
    """The best `k` chunks after re-scoring the first `pool`, at most MAX_PER_DOC per article."""
    head = list(items[:pool])
    if not head:
        return []
    top = max(i.score for i in head)
    weights = term_weights(spec)
    per_article = Counter(i.meta.doc_id for i in head)
    scored = []
    for item in head:
        f = features(spec, item, top, weights)
        f["article"] = per_article[item.meta.doc_id] / len(head)
        score = sum(WEIGHTS[name] * value for name, value in f.items())
        scored.append(dataclasses.replace(item, score=score))
    scored.sort(key=lambda i: i.score, reverse=True)
    out: list[Scored] = []
    per_doc: dict[str, int] = {}
    for item in scored:
        doc = item.meta.doc_id
        if per_doc.get(doc, 0) >= MAX_PER_DOC:
            continue
        per_doc[doc] = per_doc.get(doc, 0) + 1
        out.append(item)
        if len(out) >= k:
            break
    return out
