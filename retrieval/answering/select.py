"""Score the sentences of the top passages by what the question asks, best first."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from retrieval.answering.entities import attached, type_fit
from retrieval.answering.question import STANCE, QuestionSpec
from retrieval.answering.speakers import speaker_matches, speakers
from retrieval.text import content_stems, fold, split_sentences, term_in
from retrieval.types import Passage

# Weights of the sentence features (tuned on the tuning weeks of RealTime QA dev, see
# docs/evaluation.md; each feature is in 0..1).
WEIGHTS: dict[str, float] = {
    "lexical": 1.0,  # idf-weighted share of the question's words in the sentence
    "nearby": 0.5,  # ... in the sentence and its neighbours (the answer may follow)
    "context": 0.25,  # share of an earlier turn's words (follow-ups)
    "names": 0.0,  # share of the question's capitalised terms (lexical counts them)
    "fit": 0.8,  # offers something new of the expected kind (a person for "who")
    "attached": 0.2,  # names something beside the question's head noun ("island of Kyushu")
    "speaker": 0.6,  # said by the subject of "what did X say"
    "speech": 0.05,  # an attributed statement or a quotation
    "lead": 0.1,  # the article's first sentence (news leads summarise)
    "rank": 0.25,  # from a better-ranked passage
    "similarity": 0.0,  # MiniLM cosine of question and sentence (off: see docs)
}
QUESTION = 0.5  # penalty of a sentence that asks a question (it does not answer one)
LONG = 320  # characters; longer sentences read badly as answers ...
LENGTH_PENALTY = 0.0  # ... but hold the answer more often: no penalty (tuning weeks)
_BOILERPLATE = re.compile(
    r"\b(?:cookies?|subscribe|newsletter|sign up|log ?in|all rights reserved|advertisement|"
    r"click here|read more|follow us|leave a reply|email address|required fields|"
    r"privacy policy|terms of (?:use|service)|video player|ad (?:feedback|choices))\b",
    re.I,
)


@dataclass
class Candidate:
    """One sentence of one passage, with its features and score."""

    passage: int
    start: int  # within the passage text
    end: int
    text: str
    key: tuple[str, int]  # (doc_id, start in the article): overlapping chunks repeat it
    order: int  # position in its passage
    speaker: str = ""
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every sentence of every passage (quotations kept whole), speakers resolved."""
    out: list[Candidate] = []
    for i, p in enumerate(passages):
        spans = split_sentences(p.text, whole_quotes=True)
        texts = [p.text[s:e] for s, e in spans]
        for order, ((s, e), text, who) in enumerate(
            zip(spans, texts, speakers(texts), strict=True)
        ):
            out.append(Candidate(i, s, e, text, (p.doc_id, p.start + s), order, who))
    return out


def score_candidates(
    spec: QuestionSpec,
    passages: Sequence[Passage],
    context: str = "",
    similarities: Sequence[float] | None = None,
) -> list[Candidate]:
    """Score every sentence against the question, best first."""
    cands = candidates(passages)
    if not cands:
        return []
    # "last week" dates the question, and the coverage says "on Tuesday": the share of the
    # question a sentence covers is a share of the rest
    q_stems = set(spec.stems) - set(spec.dated) or set(spec.stems)
    ctx_stems = set(content_stems(context)) - q_stems
    stems = [set(content_stems(c.text)) for c in cands]
    unique = {c.key: st for c, st in zip(cands, stems, strict=True)}
    df = Counter(st for sts in unique.values() for st in sts)
    n = len(unique)
    idf = {st: math.log(1 + n / df.get(st, 0.5)) for st in q_stems | ctx_stems}
    total = sum(idf[st] for st in q_stems) or 1.0
    for st in q_stems & STANCE:
        idf[st] *= 0.3  # "who criticized that?": the answer is who, not the word "criticism"
    own = [st for st in q_stems if st not in STANCE]
    ctx_weight = WEIGHTS["context"] * (2.5 if ctx_stems and len(own) <= 1 else 1.0)
    ctx_total = sum(idf[st] for st in ctx_stems) or 1.0
    q_folded = f" {fold(spec.text + ' ' + context)} "
    for i, (c, sent_stems) in enumerate(zip(cands, stems, strict=True)):
        near = set(sent_stems)
        for j in (i - 1, i + 1):
            if 0 <= j < len(cands) and cands[j].passage == c.passage:
                near |= stems[j]
        low = c.text.lower()
        f = c.features
        f["lexical"] = sum(idf[s] for s in q_stems & sent_stems) / total
        f["nearby"] = sum(idf[s] for s in q_stems & near) / total
        f["context"] = sum(idf[s] for s in ctx_stems & sent_stems) / ctx_total if ctx_stems else 0.0
        f["names"] = (
            sum(term_in(t, low) for t in spec.names) / len(spec.names) if spec.names else 0.0
        )
        f["fit"] = type_fit(spec.kind, c.text, q_folded, spec.unit)
        f["attached"] = attached(spec.head, spec.kind, c.text, q_folded)
        f["speaker"] = speaker_matches(spec.subject_stems, c.speaker, spec.names)
        if spec.who_is and not f["speaker"]:
            # "who is X": a sentence that names X (with a title or role) describes X
            f["speaker"] = 0.7 * float(all(term_in(t, low) for t in spec.names or ["-"]))
        f["speech"] = float(bool(c.speaker) or "“" in c.text or '"' in c.text)
        f["lead"] = float(passages[c.passage].start == 0 and c.order == 0)
        f["rank"] = 1.0 / (1 + c.passage)
        f["similarity"] = similarities[i] if similarities is not None else 0.0
        c.score = sum(WEIGHTS[k] * v for k, v in f.items())
        c.score += (ctx_weight - WEIGHTS["context"]) * f["context"]
        if not spec.wants_speech:
            c.score -= WEIGHTS["speaker"] * f["speaker"] * 0.5 * (not spec.who_is)
        else:  # "what did X say", "who criticized that?": answered by attributed statements
            c.score += 0.25 if c.speaker else 0.1 * f["speech"] - 0.2
        if c.text.rstrip(" \"'”’)").endswith("?"):
            c.score -= QUESTION
        if _BOILERPLATE.search(c.text) or len(c.text) < 25:
            c.score -= 0.5
        c.score -= LENGTH_PENALTY * max(0, len(c.text) - LONG) / 100
    return sorted(cands, key=lambda x: x.score, reverse=True)
