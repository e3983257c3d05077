"""Compose an extractive answer: the sentence that answers first, verbatim, cited."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from retrieval.answering.question import QuestionSpec
from retrieval.answering.select import Candidate
from retrieval.text import open_quotation
from retrieval.types import Answer, AnswerMode, Citation, Passage

MAX_QUOTES = 3
CLOSE = 0.75  # a further sentence is quoted when it scores this close to the best
LEXICAL_SHARE = 0.3  # ... and covers this share of the best one's question words
NEIGHBOUR = 0.75  # ... or this close when it follows the best one (they read as one quote)
# A sentence that leans on the one before: a pronoun subject ("He added", "That was"), not
# a determiner ("This conversation ...") or an expletive "it" ("It is expected that ...").
_CONTINUES = re.compile(
    r"^\W*(?:he|she|they|the minister|the president|"
    r"it(?!\s+(?:is|was|'s|’s|would be|will be|has been|remains)\s+(?:estimated|expected|likely|"
    r"unlikely|unclear|not|possible|impossible|important|clear|thought|believed|understood|"
    r"reported|said|time|hard|difficult|too|also|worth)\b)|"
    r"(?:this|that)(?=\s+(?:is|was|are|were|has|had|will|would|could|may|might|means|meant|"
    r"comes|came)\b|['’]s\b))\b",
    re.I,
)
PREVIOUS = 0.4  # the sentence before is quoted for context only when it scores this close
_NAMED = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+")


def format_date(d: date | None) -> str:
    """Return "March 5, 2024" (or "" when unknown)."""
    return f"{d:%B} {d.day}, {d.year}" if d else ""


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


def _next(c: Candidate, ranked: Sequence[Candidate]) -> Candidate | None:
    return min(
        (s for s in ranked if s.passage == c.passage and s.order == c.order + 1),
        key=lambda s: s.start,
        default=None,
    )


def _previous(c: Candidate, ranked: Sequence[Candidate]) -> Candidate | None:
    return next((s for s in ranked if s.passage == c.passage and s.order == c.order - 1), None)


def _expand(best: Candidate, ranked: Sequence[Candidate], spec: QuestionSpec) -> list[Candidate]:
    """Add the sentence after when it names the speaker or carries on; the one before when
    the best sentence leans on it ("He added ...") or is the quote a named speaker opens."""
    # The same sentence may sit at the end of one chunk and inside the next: try each copy.
    for copy in [best] + [s for s in ranked if s.key == best.key and s is not best]:
        nxt = _next(copy, ranked)
        unnamed = not _NAMED.search(copy.text[1:])
        if nxt is not None and ((nxt.speaker and unnamed) or _CONTINUES.match(nxt.text)):
            return [copy, nxt]
    prev = _previous(best, ranked)
    if (
        prev is not None
        and _CONTINUES.match(best.text)
        and len(prev.text) < 300
        and prev.score >= PREVIOUS * best.score
    ):
        return [prev, best]
    return [best]


def choose(ranked: Sequence[Candidate], spec: QuestionSpec) -> list[Candidate]:
    """The sentences to quote: the best (with what it needs to read whole), then close ones."""
    best = ranked[0]
    chosen = _expand(best, ranked, spec)
    nxt = _next(chosen[-1], ranked)
    if nxt is not None and nxt.score >= NEIGHBOUR * best.score and len(chosen) < MAX_QUOTES:
        chosen.append(nxt)
    for s in ranked[1:]:
        if len(chosen) >= MAX_QUOTES or s.score < CLOSE * best.score:
            break
        lexical_ok = s.features["lexical"] >= LEXICAL_SHARE * best.features["lexical"]
        # near-identical articles repeat sentences: quote each text once
        if lexical_ok and all(c.key != s.key and c.text != s.text for c in chosen):
            chosen.append(s)
    return chosen[:MAX_QUOTES]


def whole_quote(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a span that starts or ends inside a quotation so that it reads as a whole.

    (Sentences come with their quotations already joined; what is left is a quotation cut
    by the passage's edge: keep the part outside it when that part says something.)
    """
    piece = text[start:end]
    if open_quotation(piece):
        cut = max(piece.rfind("“"), piece.rfind('"'))
        head = piece[:cut].rstrip(" ,:;—–-")
        if len(head) >= 40:
            return start, start + len(head)
    closing = re.match(r"[^“”\"]*[”\"]", piece)
    if closing and not re.match(r"\s*[“\"]", piece) and piece.count("“") < piece.count("”"):
        rest = piece[closing.end() :].lstrip(" ,.;:—–-")
        if len(rest) >= 40:
            return end - len(rest), end
    return start, end


def compose_answer(
    question: str,
    passages: Sequence[Passage],
    chosen: Sequence[Candidate],
    *,
    as_of: date | None = None,
    mode: AnswerMode = "extractive",
) -> Answer:
    """Quote the chosen sentences in answer order, merging neighbours, each cited [n]."""
    first = chosen[0]
    # Keep the best sentence first; sentences of one passage stay in text order.
    groups: dict[int, list[Candidate]] = {}
    for c in chosen:
        groups.setdefault(c.passage, []).append(c)
    ordered = [first.passage] + [p for p in groups if p != first.passage]
    spans: list[tuple[int, int, int]] = []
    for p_idx in ordered:
        text = passages[p_idx].text
        for c in sorted(groups[p_idx], key=lambda s: s.start):
            if spans and spans[-1][0] == p_idx and _adjacent(text, spans[-1][2], c.start):
                spans[-1] = (p_idx, spans[-1][1], c.end)
            else:
                spans.append((p_idx, c.start, c.end))
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for p_idx, start, end in spans:
        p = passages[p_idx]
        start, end = whole_quote(p.text, start, end)
        quote = p.text[start:end]
        if p_idx not in numbers:  # a passage quoted twice is cited by its first quote
            numbers[p_idx] = len(numbers) + 1
            citations.append(Citation.of(numbers[p_idx], p, quote))
        parts.append(f'"{" ".join(quote.split())}" [{numbers[p_idx]}]')
    return Answer(
        question=question,
        answer="\n".join(parts) + _dateline(citations),
        refused=False,
        mode=mode,
        citations=citations,
        as_of=as_of,
    )


def _dateline(citations: Sequence[Citation]) -> str:
    """Say whose reporting it is and when: "(RFE/RL, March 5, 2024)"."""
    dated = sorted((c for c in citations if c.published), key=lambda c: c.published or date.min)
    if not dated:
        return ""
    newest = dated[-1]
    who = newest.outlet
    when = format_date(newest.published)
    if len(citations) > 1 and len({c.published for c in dated}) > 1:
        return f"\n(Reporting from {format_date(dated[0].published)} to {when}.)"
    return f"\n(Reported {'by ' + who + ' ' if who else ''}on {when}.)"


def _adjacent(text: str, end: int, start: int) -> bool:
    return 0 <= start - end <= 4 and not text[end:start].strip()
