"""Text matching for the citation check: normalisation, sentences, quotes, markers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.text import sentences

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
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s\])>]+|\b[a-z0-9-]+\.(?:com|org|net|io|ru|info)\b")


def marker_numbers(text: str) -> list[int]:
    """Return every passage number cited in `text`, in order (repeats kept)."""
    return [int(n) for m in MARKER.finditer(text) for n in re.findall(r"\d+", m.group(1))]


def split_sentences(line: str) -> list[str]:
    """Split one line into sentences; citation markers after a full stop stay with it."""
    return sentences(line, whole_quotes=True, markers=MARKER)


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
