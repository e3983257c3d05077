"""Extractive answers: verbatim sentences from the top passages, each followed by [n]."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from retrieval.chunking import split_sentences
from retrieval.text import content_stems, named_terms, term_in
from retrieval.types import Answer, AnswerMode, Citation, Passage

MAX_QUOTES = 3
_ATTRIBUTION = re.compile(
    r"\b(said|says|told|added|asked|according to|stated|announced|warned|wrote|argued|"
    r"quoted|insisted|declared)\b",
    re.IGNORECASE,
)
_CONTINUES = re.compile(r"^\W*(he|she|they|it|this|that|the minister|the president)\b", re.I)


@dataclass
class _Sentence:
    passage: int
    start: int  # within the passage text
    end: int
    text: str
    key: tuple[str, int]  # (doc_id, start in the article): overlapping chunks repeat sentences
    score: float = 0.0
    lexical: float = 0.0


def refusal(question: str, mode: AnswerMode = "extractive") -> Answer:
    """The answer when the coverage does not say."""
    return Answer(
        question=question,
        answer=(
            "The coverage I have doesn't say. I couldn't find reporting that answers this "
            "question, so I won't guess."
        ),
        refused=True,
        mode=mode,
    )


def format_date(d: date | None) -> str:
    """Return "March 5, 2024" (or "" when unknown)."""
    return f"{d:%B} {d.day}, {d.year}" if d else ""


def _sentences(passages: Sequence[Passage]) -> list[_Sentence]:
    return [
        _Sentence(i, s, e, p.text[s:e], (p.doc_id, p.start + s))
        for i, p in enumerate(passages)
        for s, e in split_sentences(p.text)
    ]


def score_sentences(
    question: str, passages: Sequence[Passage], context: str = ""
) -> list[_Sentence]:
    """Score every sentence against the question (and, weakly, earlier turns), best first."""
    sents = _sentences(passages)
    if not sents:
        return []
    q_stems = set(content_stems(question))
    ctx_stems = set(content_stems(context)) - q_stems
    names = named_terms(question)
    stems_per = [set(content_stems(s.text)) for s in sents]
    unique = {s.key: st for s, st in zip(sents, stems_per, strict=True)}
    df = Counter(st for stems in unique.values() for st in stems)
    n = len(unique)
    idf = {st: math.log(1 + n / df.get(st, 1)) for st in q_stems | ctx_stems}
    total = sum(idf[st] for st in q_stems) or 1.0
    for s, stems in zip(sents, stems_per, strict=True):
        s.lexical = sum(idf[st] for st in q_stems & stems) / total
        s.lexical += 0.25 * sum(idf[st] for st in ctx_stems & stems) / total
        lower = s.text.lower()
        name_hits = sum(1 for t in names if term_in(t, lower))
        s.score = s.lexical + 0.15 * name_hits
        if s.score > 0:
            if _ATTRIBUTION.search(s.text):
                s.score += 0.1  # prefer attributed statements: "X said ..."
            s.score += 0.05 / (1 + s.passage)  # earlier (better-ranked) passages first
            s.score -= 0.002 * max(0, len(s.text) - 300) / 10  # very long sentences read badly
    return sorted(sents, key=lambda x: x.score, reverse=True)


def _expand(best: _Sentence, sents: list[_Sentence]) -> list[_Sentence]:
    """Add the next sentence when it names the speaker or continues the thought."""
    unnamed_speaker = not re.search(r"\b[A-Z][a-z]+ [A-Z][a-z]+", best.text[1:])
    # The same sentence may sit at the end of one chunk and inside the next: try each copy.
    for copy in [best] + [s for s in sents if s.key == best.key and s is not best]:
        nxt = min(
            (s for s in sents if s.passage == copy.passage and s.start >= copy.end),
            key=lambda s: s.start,
            default=None,
        )
        if nxt is not None and (
            (_ATTRIBUTION.search(nxt.text) and unnamed_speaker) or _CONTINUES.match(nxt.text)
        ):
            return [copy, nxt]
    return [best]


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
    ranked = score_sentences(question, passages, context)
    if not ranked or ranked[0].score < 0.34:
        return refusal(question, mode)
    best = ranked[0]
    chosen = _expand(best, ranked)
    for s in ranked[1:]:
        if len(chosen) >= MAX_QUOTES or s.score < 0.85 * best.score:
            break
        if s.lexical >= 0.7 * best.lexical and all(c.key != s.key for c in chosen):
            chosen.append(s)
    chosen = chosen[:MAX_QUOTES]
    # Merge sentences that are adjacent in one passage into one contiguous quote.
    chosen.sort(key=lambda s: (s.passage, s.start))
    spans: list[tuple[int, int, int]] = []
    for s in chosen:
        if (
            spans
            and spans[-1][0] == s.passage
            and _adjacent(passages[s.passage].text, spans[-1][2], s.start)
        ):
            spans[-1] = (s.passage, spans[-1][1], s.end)
        else:
            spans.append((s.passage, s.start, s.end))
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for p_idx, start, end in spans:
        p = passages[p_idx]
        quote = p.text[start:end]
        if p_idx not in numbers:
            numbers[p_idx] = len(numbers) + 1
            citations.append(Citation.of(numbers[p_idx], p, quote))
        parts.append(f'"{" ".join(quote.split())}" [{numbers[p_idx]}]')
    newest = max((c.published for c in citations if c.published), default=None)
    lead = f"As reported on {format_date(newest)}:" if newest else "The coverage says:"
    return Answer(
        question=question,
        answer=lead + "\n" + "\n".join(parts),
        refused=False,
        mode=mode,
        citations=citations,
        as_of=as_of,
    )


def _adjacent(text: str, end: int, start: int) -> bool:
    return 0 <= start - end <= 4 and not text[end:start].strip()
