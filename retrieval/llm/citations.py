"""The citation check: never trust the model's [n] markers or its quotes.

Every `[n]` must name a passage that was shown; every quoted span must appear verbatim
(after whitespace and quote-mark normalisation) in a passage the sentence cites; a
sentence without a valid citation, echoing the prompt, or unrelated to what it cites is
dropped. Surviving markers keep the passage numbers that were shown (or, with
`renumber=True`, are renumbered in order of first citation).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from retrieval.llm.guards import EchoGuard, _shingles, _words, planted_instructions
from retrieval.llm.quotes import (
    _SPACE_BEFORE_PUNCT,
    _STRIP,
    _URL,
    MARKER,
    extract_quotes,
    find_quote,
    marker_numbers,
    split_sentences,
)
from retrieval.text import STOPWORDS, sentences
from retrieval.types import Passage

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
    for s in sentences(passage.text):
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
