"""Small text helpers shared by the gate and the extractive answerer."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
# fmt: off
STOPWORDS = frozenset((
    "a", "about", "above", "according", "after", "again", "against", "all", "also", "am", "an",
    "and", "any", "are", "article", "articles", "as", "ask", "asked", "at", "be", "because",
    "been", "before", "being", "below", "between", "both", "but", "by", "can", "could",
    "coverage", "did", "do", "does", "doing", "don", "down", "during", "each", "few", "for",
    "from", "further", "get", "got", "had", "has", "have", "having", "he", "her", "here",
    "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "itself", "just", "me", "more", "most", "my", "myself", "news", "no", "nor", "not",
    "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over",
    "own", "report", "reported", "reports", "s", "said", "same", "say", "says", "she",
    "should", "so", "some", "such", "t", "tell", "than", "that", "the", "their", "theirs",
    "them", "then", "there", "these", "they", "this", "those", "through", "to", "told", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
))
# fmt: on
QUESTION_WORDS = frozenset(
    [
        "what",
        "who",
        "whom",
        "whose",
        "which",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "is",
        "are",
        "was",
    ]
)
_IRREGULAR = {"said": "say", "says": "say", "told": "tell", "met": "meet", "won": "win"}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Stem one lower-case word (with a few irregular verbs)."""
    word = _IRREGULAR.get(word, word)
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """Lower-case word tokens; possessive endings dropped."""
    text = text.replace("’", "'")
    return [w.lower() for w in _WORD.findall(re.sub(r"'s\b", "", text))]


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stopwords, no question words)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and w not in QUESTION_WORDS]


def named_terms(question: str) -> list[str]:
    """Capitalised words of a question that are not its first word or a question word."""
    toks = re.findall(r"[A-Za-z][\w’'-]*", question.replace("’", "'"))
    out = []
    for i, tok in enumerate(toks):
        base = re.sub(r"'s$", "", tok)
        if i == 0 or not base[:1].isupper() or base.lower() in QUESTION_WORDS | STOPWORDS:
            continue
        out.append(base)
    return out


def term_in(term: str, text_lower: str) -> bool:
    """Whether a named term (or a close form: Germany/German, Czech/Czechia) is in the text."""
    t = term.lower()
    if re.search(rf"\b{re.escape(t)}", text_lower):
        return True
    root = t[: max(5, len(t) - 2)] if len(t) > 5 else None
    return bool(root and re.search(rf"\b{re.escape(root)}", text_lower))
