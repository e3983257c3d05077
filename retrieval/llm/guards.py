"""Guards of the citation check: echoes of the prompt, instructions planted in articles."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from retrieval.llm.quotes import norm_text
from retrieval.text import sentences

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


def planted_instructions(text: str) -> list[str]:
    """Return sentences of an article that read as instructions to a model (and the next)."""
    if not _INJECTION.search(text):
        return []
    found = sentences(text)
    flagged: list[str] = []
    for i, sentence in enumerate(found):
        if _INJECTION.search(sentence):
            flagged.extend(found[i : i + 2])
    return list(dict.fromkeys(s for s in flagged if s))
