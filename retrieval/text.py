"""The one text module: sentences with spans, abbreviations, speech verbs, tokens and stems.

Everything that cuts text into sentences or words calls this module: the chunker, the
extractive answerer, the relevance gate and the LLM citation check.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

Span = tuple[int, int]

# --- sentences -----------------------------------------------------------------------------

# A full stop after one of these does not end a sentence ("Mr. Kirby", "the U.S. said").
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "st",
    "jr", "sr", "inc", "corp", "co", "ltd", "vs", "etc", "no", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e",
})  # fmt: skip
# Verbs that attribute speech: "X said", "said X", "X told reporters".
SPEECH_VERBS = frozenset({
    "said", "says", "say", "told", "tells", "added", "adds", "asked", "asks", "wrote", "writes",
    "replied", "noted", "stated", "announced", "warned", "argued", "insisted", "declared",
    "explained", "tweeted", "posted", "urged", "stressed", "claimed", "confirmed", "recalled",
    "acknowledged", "admitted", "continued", "remarked", "commented", "suggested", "quipped",
})  # fmt: skip
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a likely start.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"([\w.]+)[.!?…]*[\"'”’)\]]*$")
_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*")
# Attributions a chunk keeps with the quote they close ("Macron asked."): the verbs the
# chunker has always used, so the chunk spans of every stored article stay as they are.
_CLOSING_ATTRIBUTION = re.compile(
    r"\b(said|asked|added|told|says|asks|adds|wrote|writes|replied|noted)\b"
)


def split_sentences(
    text: str, *, whole_quotes: bool = False, markers: re.Pattern[str] | None = None
) -> list[Span]:
    """Return (start, end) spans of the sentences of `text`; paragraphs always split.

    `whole_quotes` keeps a quotation that runs over several sentences in one span (the
    answerer quotes whole quotations); `markers` is a pattern of citation markers ("[1]")
    that stay with the sentence they follow (the LLM citation check), and then a list
    number ("1.") does not end a sentence. Without options the spans are those the chunker
    has stored for every article: keep them stable (tests/test_sentences.py checks).
    """
    spans: list[Span] = []
    for para in _PARAGRAPH.finditer(text):
        p_start, chunk = para.start(), para.group()
        last = 0
        for stop, end, dot in _ends(chunk, markers):
            if stop <= last:
                continue
            head = chunk[last:stop]
            if _abbreviation(head, dot):
                continue
            if markers is not None and head.strip().rstrip(".").isdigit():
                continue  # "1. A list item"
            spans.append(trim_span(text, p_start + last, p_start + end))
            last = end
        if chunk[last:].strip():
            spans.append(trim_span(text, p_start + last, p_start + len(chunk)))
    spans = _merge_attributions(text, [s for s in spans if s[1] > s[0]])
    return _merge_quotations(text, spans) if whole_quotes else spans


def _ends(chunk: str, markers: re.Pattern[str] | None) -> list[tuple[int, int, bool]]:
    """Candidate ends in a paragraph: (after the stop, after any markers, stop is a dot)."""
    found = {m.end(): m.group().startswith(".") for m in _END.finditer(chunk)}
    if markers is None:
        return [(stop, stop, dot) for stop, dot in found.items()]
    run = re.compile(rf"(?:\s*(?:{markers.pattern}))+", markers.flags)
    # "spoke.[1][2] Then": markers right after the stop, then the next sentence
    for m in re.finditer(r"[.!?…]+[\"'”’)\]]*", chunk):
        r = run.match(chunk, m.end())
        if r and re.match(r"\s+\S", chunk[r.end() :]):
            found.setdefault(m.end(), m.group().startswith("."))
    out = []
    for stop in sorted(found):
        r = run.match(chunk, stop)
        out.append((stop, r.end() if r else stop, found[stop]))
    return out


def _abbreviation(head: str, dot: bool) -> bool:
    """Whether the stop that ends `head` belongs to an abbreviation or an initial."""
    word = _LAST_WORD.search(head)
    if not word:
        return False
    stripped = word[1].rstrip(".")
    if dot and stripped.lower() in ABBREVIATIONS:
        return True
    return bool(re.fullmatch(r"[A-Z]\.?", stripped))  # an initial such as "John F. Kennedy"


def _merge_attributions(text: str, spans: list[Span]) -> list[Span]:
    """Keep a short attribution ("Macron asked.") with the quote it closes."""
    merged: list[Span] = []
    for start, end in spans:
        piece = text[start:end]
        if (
            merged
            and len(piece.split()) <= 6
            and _CLOSING_ATTRIBUTION.search(piece)
            and text[merged[-1][1] - 1] in "\"”’'"
            and "\n" not in text[merged[-1][1] : start]
        ):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def open_quotation(piece: str) -> bool:
    """Whether `piece` opens a quotation it does not close."""
    curly = sum(piece.count(c) for c in "“«") - sum(piece.count(c) for c in "”»")
    return curly > 0 or (curly == 0 and piece.count('"') % 2 == 1)


def _merge_quotations(text: str, spans: list[Span], max_chars: int = 900) -> list[Span]:
    """Join sentences inside one quotation of one paragraph into one span."""
    merged: list[Span] = []
    for start, end in spans:
        if merged:
            prev = merged[-1]
            gap = text[prev[1] : start]
            if (
                "\n" not in gap
                and end - prev[0] <= max_chars
                and open_quotation(text[prev[0] : prev[1]])
            ):
                merged[-1] = (prev[0], end)
                continue
        merged.append((start, end))
    return merged


def trim_span(text: str, start: int, end: int) -> Span:
    """Narrow a span to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentences(text: str, **options: object) -> list[str]:
    """The sentences of `text` as strings (see split_sentences for the options)."""
    return [text[s:e] for s, e in split_sentences(text, **options)]  # type: ignore[arg-type]


# --- words and stems -----------------------------------------------------------------------

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
    {
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
    }
)  # fmt: skip
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


# --- normalised matching -------------------------------------------------------------------

_QUOTES = str.maketrans({c: "'" for c in "‘’‚‛′`"} | {c: '"' for c in "“”„‟«»″"})


def fold(text: str) -> str:
    """Fold case, quote marks, possessives and punctuation: for "does X occur in Y" checks."""
    text = text.translate(_QUOTES).lower()
    text = re.sub(r"'s\b|s'(?=\s|$)", lambda m: "" if m[0] == "'s" else "s", text)
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def occurs(needle: str, haystack_folded: str) -> bool:
    """Whether folded `needle` occurs as whole words in an already folded haystack."""
    n = fold(needle)
    return bool(n) and f" {n} " in f" {haystack_folded} "
