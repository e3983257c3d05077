"""Text matching for the citation check: normalisation, sentences, quotes, markers."""

from __future__ import annotations

import re
from collections.abc import Iterable

# --- normalisation -----------------------------------------------------------------

_CHAR_MAP = {
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2033": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2026": "...",
}
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad")
_TRANSLATE = str.maketrans({**_CHAR_MAP, **dict.fromkeys(_ZERO_WIDTH)})
_SPACES = re.compile(r"\s+")


def norm_text(text: str) -> str:
    """Collapse whitespace; unify quote marks, dashes and ellipses; drop zero-width marks."""
    return _SPACES.sub(" ", text.translate(_TRANSLATE))


# What each normalised character may be in the original text.
_LOOSE = {
    " ": r"\s+",
    '"': '["\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]',
    "'": "['`\u2018\u2019\u201a\u201b\u2032]",
    "-": "[-\u2010-\u2015]",
}
_ELLIPSIS = r"(?:\.\.\.|\u2026)"


def loose_pattern(core: str) -> str:
    """Return a regex matching `core` (normalised) in un-normalised text."""
    out: list[str] = []
    i = 0
    while i < len(core):
        if core.startswith("...", i):
            out.append(_ELLIPSIS)
            i += 3
            continue
        ch = core[i]
        out.append(_LOOSE.get(ch) or re.escape(ch))
        i += 1
    if core[:1].isalpha() and core[0].swapcase() != core[0]:
        # A quote may capitalise (or not) its first word.
        out[0] = f"[{core[0]}{core[0].swapcase()}]"
    return "".join(out)


# --- citation markers and sentences --------------------------------------------------

MARKER = re.compile(
    r"\[\s*(?:passage\s*)?(\d{1,3}(?:\s*(?:,|;|and)\s*(?:passage\s*)?\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_MARKER_RUN = re.compile(rf"(?:\s*{MARKER.pattern})+", re.IGNORECASE)
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "gen",
    "sen",
    "rep",
    "gov",
    "lt",
    "col",
    "no",
    "vs",
    "jr",
    "sr",
    "inc",
    "co",
    "corp",
    "prof",
    "pres",
}
_OPEN_QUOTES = {"\u201c", "\u201e", "\u00ab"}
_CLOSE_QUOTES = {"\u201d", "\u00bb"}
_TRAILING = set(")\"'\u201d\u2019\u00bb")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s\])>]+|\b[a-z0-9-]+\.(?:com|org|net|io|ru|info)\b")


def marker_numbers(text: str) -> list[int]:
    """Return every passage number cited in `text`, in order (repeats kept)."""
    return [int(n) for m in MARKER.finditer(text) for n in re.findall(r"\d+", m.group(1))]


def _ends_with_abbreviation(text: str, dot: int) -> bool:
    word = re.search(r"([A-Za-z]+)$", text[:dot])
    if not word:
        return False
    w = word.group(1)
    return (len(w) == 1 and w.isupper()) or w.lower() in _ABBREVIATIONS


def split_sentences(line: str) -> list[str]:
    """Split one line into sentences; citation markers after a full stop stay with it."""
    sentences: list[str] = []
    start = 0
    in_quote = False
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        end: int | None = None
        if ch in _OPEN_QUOTES:
            in_quote = True
        elif ch in _CLOSE_QUOTES or (ch == '"' and in_quote):
            in_quote = False
            if i > 0 and line[i - 1] in ".!?":
                end = i + 1
        elif ch == '"':
            in_quote = True
        elif ch in ".!?" and not in_quote:
            head = line[start:i].strip()
            # "U.S." or "Mr." or a list number ("1.") does not end a sentence.
            if not (ch == "." and (_ends_with_abbreviation(line, i) or head.isdigit())):
                end = i + 1
        if end is not None:
            j = end
            while j < n and line[j] in _TRAILING:
                j += 1
            run = _MARKER_RUN.match(line, j)
            if run:
                j = run.end()
            k = j
            while k < n and line[k].isspace():
                k += 1
            if k == n or (k > j and not line[k].islower()):
                sentences.append(line[start:j])
                start = k
                i = k
                in_quote = False
                continue
        i += 1
    if start < n:
        sentences.append(line[start:])
    return [s.strip() for s in sentences if s.strip()]


# --- quotes ---------------------------------------------------------------------------

_STRIP = " .,;:!?-'\""


# A single-quoted span: opens after a space or bracket, may hold apostrophes ("don't"),
# closes before a space or punctuation; possessives ("allies' support") never open one.
_SINGLE_QUOTED = re.compile(
    r"(?:^|(?<=[\s(\[-]))'((?:[^'\n]|'(?=[A-Za-z]))+?)'(?=[\s.,;:!?)\]-]|$)"
)


def extract_quotes(sentence: str) -> list[str]:
    """Return quoted spans: double-quoted ones (an unclosed quote runs to the end of the
    sentence) and single-quoted ones of two words or more (one word may be scare quotes)."""
    text = MARKER.sub(" ", norm_text(sentence))
    quotes: list[str] = []
    pos = 0
    while True:
        a = text.find('"', pos)
        if a < 0:
            break
        b = text.find('"', a + 1)
        if b < 0:
            quotes.append(text[a + 1 :])
            break
        quotes.append(text[a + 1 : b])
        pos = b + 1
    quotes += [m.group(1) for m in _SINGLE_QUOTED.finditer(text) if len(m.group(1).split()) >= 2]
    return [q for q in quotes if q.strip(_STRIP)]


def find_quote(quote: str, passages: Iterable[str]) -> tuple[int, str] | None:
    """Find a quote in the passage texts: (position in the iterable, verbatim original span).

    Whitespace, quote marks, dashes and ellipses may differ; an elided quote ("a ... b")
    matches its parts in order and cites the whole stretch.
    """
    core = norm_text(quote).strip(_STRIP)
    if not core:
        return None
    parts = [p.strip(_STRIP) for p in core.split("...")]
    parts = [p for p in parts if p]
    patterns = [re.compile(loose_pattern(core))]
    if len(parts) > 1:
        patterns.append(re.compile(r"[\s\S]*?".join(loose_pattern(p) for p in parts)))
    for pos, text in enumerate(passages):
        for pattern in patterns:
            m = pattern.search(text)
            if m:
                return pos, m.group(0)
    return None
