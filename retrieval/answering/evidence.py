"""How much of a question a text covers: named terms count most, generic news words least."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from retrieval.answering.question import QuestionSpec
from retrieval.text import stem, words

# Words that occur in much of any news corpus: matching one is weak evidence.
GENERIC = frozenset(
    stem(w)
    for w in [
        "week",
        "weeks",
        "year",
        "years",
        "time",
        "times",
        "new",
        "first",
        "last",
        "people",
        "state",
        "states",
        "country",
        "countries",
        "world",
        "day",
        "days",
        "month",
        "months",
        "today",
        "recent",
        "recently",
        "announce",
        "announced",
        "news",
        "make",
        "made",
        "take",
        "took",
        "become",
        "became",
        "go",
        "went",
        "come",
        "came",
        "high",
        "record",
        "number",
        "government",
        "official",
        "officials",
        "president",
        "nation",
        "national",
        "call",
        "called",
        "set",
        "show",
        "shows",
        "help",
        "use",
        "used",
        "want",
        "plan",
        "plans",
        "former",
        "group",
        "part",
        "year-old",
        "million",
        "billion",
        "percent",
        "major",
        "big",
        "largest",
        "biggest",
        "top",
        "name",
        "named",
        "known",
        "called",
        "one",
        "two",
        "three",
        "find",
        "found",
        "give",
        "given",
        "latest",
        "according",
        "include",
        "including",
        "many",
        "much",
        "could",
        "would",
        "also",
        "even",
        "well",
        "back",
        "still",
        "way",
        "us",
        "u.s",
        "american",
        "america",
    ]
)


def term_weights(spec: QuestionSpec) -> dict[str, float]:
    """Weight of each question stem: named terms 2, numbers 1.5, generic words 0.3, else 1."""
    named = {stem(w) for t in spec.names for w in words(t)}
    weights: dict[str, float] = {}
    for st in spec.stems:
        if st in named:
            w = 2.0
        elif re.fullmatch(r"[\d.,]+", st):
            w = 1.5
        elif st in GENERIC:
            w = 0.3
        else:
            w = 1.0
        weights[st] = max(weights.get(st, 0.0), w)
    return weights


def coverage(weights: Mapping[str, float], stems: Iterable[str]) -> float:
    """Weighted share of the question's stems among `stems` (0..1)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    have = set(stems)
    return sum(w for st, w in weights.items() if st in have) / total
