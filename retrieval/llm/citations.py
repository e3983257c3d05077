"""The citation check: never trust the model's [n] markers or its quotes.

Every `[n]` must name a passage that was shown; every quoted span must appear verbatim
(after whitespace and quote-mark normalisation) in a passage the sentence cites; a
sentence without a valid citation, echoing the prompt, or unrelated to what it cites is
dropped. Surviving markers keep the passage numbers that were shown (or, with
`renumber=True`, are renumbered in order of first citation).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from retrieval.text import STOPWORDS
from retrieval.types import Passage

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


# --- echo of the prompt ------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
SHINGLE = 6


def _words(text: str) -> list[str]:
    return _WORD.findall(norm_text(text).lower())


def _shingles(words: Sequence[str], size: int = SHINGLE) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


@functools.lru_cache(maxsize=8)
def _prompt_shingles(sources: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for source in sources:
        out |= _shingles(_words(source))
    return frozenset(out)


class EchoGuard:
    """Detect text that repeats the prompt (six-word runs), unless a passage says the same."""

    def __init__(
        self, sources: Iterable[str], passages: Iterable[str] = (), markers: Iterable[str] = ()
    ) -> None:
        self._prompt = _prompt_shingles(tuple(sources))  # computed once per prompt set
        self._passages = list(passages)
        self._passage_shingles: set[tuple[str, ...]] | None = None
        self._markers = [m.lower() for m in markers if m] + ["<<<passage", "ends>>>"]

    def hits(self, text: str) -> bool:
        """Return True when `text` repeats a run of the prompt or its fence markers."""
        low = text.lower()
        if any(m in low for m in self._markers):
            return True
        found = self._prompt & _shingles(_words(text))
        if not found:
            return False
        if self._passage_shingles is None:
            self._passage_shingles = set().union(*(_shingles(_words(p)) for p in self._passages))
        return not found <= self._passage_shingles


# --- instructions planted in articles ---------------------------------------------------

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,30}\b(?:instructions?|rules|prompts?|"
    r"guidelines)\b|\b(?:reply|respond|answer|say)\s+only\s+with\b|\byou\s+are\s+now\b|"
    r"\bsystem\s*(?:prompt|message)?\s*:|\bnew\s+instructions\b|\bas\s+an\s+ai\b",
    re.IGNORECASE,
)
_SENTENCE_SPAN = re.compile(r"\S.*?(?:[.!?]+[\"'\u201d\u2019]*(?=\s|$)|(?=\n)|$)")


def planted_instructions(text: str) -> list[str]:
    """Return sentences of an article that read as instructions to a model (and the next)."""
    if not _INJECTION.search(text):
        return []
    sentences = [m.group(0).strip() for m in _SENTENCE_SPAN.finditer(text)]
    flagged: list[str] = []
    for i, sentence in enumerate(sentences):
        if _INJECTION.search(sentence):
            flagged.extend(sentences[i : i + 2])
    return list(dict.fromkeys(s for s in flagged if s))


# --- support -----------------------------------------------------------------------

# Words too common to show that a sentence is about what it cites.
_STOP = STOPWORDS


def _content_keys(text: str) -> set[str]:
    keys = set()
    for w in _words(MARKER.sub(" ", text)):
        if w.isdigit() or (len(w) >= 4 and w not in _STOP):
            keys.add(w[:5])
    return keys


def _supported(sentence: str, cited: Sequence[set[str]]) -> bool:
    claim = _content_keys(sentence)
    if len(claim) < 3:
        return True
    return any(not claim.isdisjoint(keys) for keys in cited)


def best_sentence(passage: Passage, claims: Sequence[str]) -> str:
    """Return the passage sentence sharing most content words with the claims (verbatim)."""
    claim = set().union(*(_content_keys(c) for c in claims)) if claims else set()
    best = ""
    best_score = -1
    planted = set(planted_instructions(passage.text))
    for m in _SENTENCE_SPAN.finditer(passage.text):
        s = m.group(0).strip()
        if len(s) < 12 or s in planted:
            continue
        score = len(claim & _content_keys(s))
        if score > best_score:
            best, best_score = s, score
    return best or passage.text.strip()[:300]


# --- the check -----------------------------------------------------------------------


@dataclass
class CheckedCitation:
    """A surviving citation: new number, index of the passage shown, verbatim quote."""

    n: int
    passage_index: int
    quote: str


@dataclass
class CheckResult:
    """The cleaned answer and what the check removed."""

    text: str
    citations: list[CheckedCitation] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    fallback: str | None = None
    total_chars: int = 0
    kept_chars: int = 0

    @property
    def ok(self) -> bool:
        return not self.dropped and self.fallback is None


_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)


def strip_reasoning(text: str) -> str:
    """Remove <think>...</think> blocks (an unclosed one hides the rest) some models inline."""
    return _THINK.sub("", text) if "<think" in text.lower() else text


REFUSAL_MARKER = re.compile(r"not[\s_]+in[\s_]+coverage", re.IGNORECASE)
_REFUSAL_PHRASES = re.compile(
    r"\b(?:passages?|coverage|articles?|sources?|context)\b[^.]{0,40}\b(?:do(?:es)?\s*n[o']t|"
    r"do(?:es)? not|never)\s+(?:say|mention|contain|answer|provide|include|specify|state)"
    r"|\bI (?:can ?not|can't|am unable to|don't have enough)\b",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """Return True when the model declined: the agreed marker, or a decline with no [n]."""
    stripped = text.strip()
    if REFUSAL_MARKER.match(stripped.strip("*_\"' ")):
        return True
    if MARKER.search(stripped):
        return False
    return bool(REFUSAL_MARKER.search(stripped) or _REFUSAL_PHRASES.search(stripped))


def _drop(dropped: list[dict[str, Any]], kind: str, reason: str, **extra: Any) -> None:
    dropped.append({"kind": kind, "reason": reason, **extra})


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_answer(
    raw: str,
    passages: Sequence[Passage],
    *,
    echo: EchoGuard | None = None,
    min_kept_ratio: float = 0.5,
    renumber: bool = False,
) -> CheckResult:
    """Verify an LLM answer against the passages it was shown (numbered from 1)."""
    shown = len(passages)
    keys: dict[int, set[str]] = {}

    def passage_keys(n: int) -> set[str]:
        if n not in keys:
            p = passages[n - 1]
            keys[n] = _content_keys(f"{p.title} {p.outlet} {p.text}")
        return keys[n]

    planted = [s for p in passages for s in planted_instructions(p.text)]
    planted_runs = set().union(*(_shingles(_words(s), 4) for s in planted)) if planted else set()
    trusted_text = " ".join(p.text + " " + p.url for p in passages)
    for sentence in planted:
        trusted_text = trusted_text.replace(sentence, " ")
    passage_urls = trusted_text.lower()
    dropped: list[dict[str, Any]] = []
    kept_lines: list[list[tuple[str, list[int]]]] = []
    verified_quotes: dict[int, list[str]] = {}
    claims: dict[int, list[str]] = {}
    total = kept = 0

    raw_lines: list[str | None] = []  # None: a blank line between paragraphs
    whole_lines: list[bool] = []
    for line in raw.strip().splitlines():
        kept_line: list[tuple[str, list[int]]] = []
        if not line.strip():
            raw_lines.append(None)
            kept_lines.append([])
            whole_lines.append(False)
            continue
        sentences = split_sentences(line)
        drops_before = len(dropped)
        for sentence in sentences:
            bare = MARKER.sub("", sentence).strip()
            if not bare.strip(_STRIP + "*#>"):
                continue  # a stray marker or bullet on its own
            total += len(bare)
            if echo is not None and echo.hits(sentence):
                _drop(dropped, "sentence", "repeats the instructions", text="[withheld]")
                continue
            if planted_runs and not planted_runs.isdisjoint(_shingles(_words(bare), 4)):
                _drop(
                    dropped,
                    "sentence",
                    "repeats instructions planted in an article",
                    text=_short(bare),
                )
                continue
            cited = marker_numbers(sentence)
            for n in cited:
                if not 1 <= n <= shown:
                    _drop(dropped, "citation", f"no passage [{n}] was shown", n=n)
            valid = list(dict.fromkeys(n for n in cited if 1 <= n <= shown))
            if not valid:
                _drop(dropped, "sentence", "no valid citation", text=_short(bare))
                continue
            quotes_ok = True
            found: list[tuple[int, str]] = []
            for q in extract_quotes(sentence):
                hit = find_quote(q, (passages[n - 1].text for n in valid))
                if hit is None:
                    where = "".join(f"[{n}]" for n in valid)
                    _drop(
                        dropped,
                        "quote",
                        f"quote not found verbatim in {where}",
                        quote=_short(q.strip()),
                        text=_short(bare),
                    )
                    quotes_ok = False
                    break
                found.append((valid[hit[0]], hit[1]))
            if not quotes_ok:
                continue
            urls = [u for u in _URL.findall(bare.lower()) if u not in passage_urls]
            if urls:
                _drop(dropped, "sentence", "link not in the cited passages", text=_short(bare))
                continue
            if not _supported(bare, [passage_keys(n) for n in valid]):
                where = "".join(f"[{n}]" for n in valid)
                _drop(dropped, "sentence", f"not supported by {where}", text=_short(bare))
                continue
            for n, quote in found:
                verified_quotes.setdefault(n, []).append(quote)
            for n in valid:
                claims.setdefault(n, []).append(bare)
            kept += len(bare)
            kept_line.append((sentence, valid))
        if kept_line:
            raw_lines.append(line)
            kept_lines.append(kept_line)
            line_dropped = len(dropped) > drops_before
            whole_lines.append(len(kept_line) == len(sentences) and not line_dropped)

    result = CheckResult(text="", dropped=dropped, total_chars=total, kept_chars=kept)
    if not any(kept_lines):
        result.fallback = "nothing in the answer survived the citation check"
        return result
    if total and kept / total < min_kept_ratio:
        result.fallback = "the citation check removed most of the answer"
        return result

    numbering: dict[int, int] = {}
    for kept_line in kept_lines:
        for _, valid in kept_line:
            for n in valid:
                numbering.setdefault(n, len(numbering) + 1 if renumber else n)

    def rewrite(match: re.Match[str]) -> str:
        nums = [int(x) for x in re.findall(r"\d+", match.group(1))]
        new = [numbering[n] for n in nums if n in numbering]
        return "".join(f"[{k}]" for k in dict.fromkeys(new))

    out_lines: list[str] = []
    for source, kept_line, whole in zip(raw_lines, kept_lines, whole_lines, strict=True):
        if source is None:
            out_lines.append("")
        elif whole:
            out_lines.append(MARKER.sub(rewrite, source.strip()))  # untouched: keep its spacing
        else:
            parts = [MARKER.sub(rewrite, s) for s, _ in kept_line]
            out_lines.append(_SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(parts)).strip())
    result.text = re.sub(r"\n{3,}", "\n\n", "\n".join(out_lines)).strip()
    for old, new in sorted(numbering.items(), key=lambda kv: kv[1]):
        quotes = verified_quotes.get(old)
        quote = max(quotes, key=len) if quotes else best_sentence(passages[old - 1], claims[old])
        result.citations.append(CheckedCitation(n=new, passage_index=old - 1, quote=quote))
    return result
