"""What of a streamed LLM answer may be shown before it is verified."""

from __future__ import annotations

import re

from retrieval.llm.citations import REFUSAL_MARKER, strip_reasoning
from retrieval.llm.guards import SHINGLE, EchoGuard


class StreamGuard:
    """Decide which streamed text may be shown before the answer is verified.

    The last few words are held back so a run that repeats the prompt is caught before it
    is shown; the agreed refusal marker is never shown; after a retry, text the user
    already saw is not repeated.
    """

    def __init__(self, echo: EchoGuard) -> None:
        self._echo = echo
        self._buf = ""
        self._view = ""  # what the user has seen since the last break
        self.blocked = False

    def restart(self) -> None:
        """A new attempt begins; its text starts from nothing."""
        self._buf = ""

    def feed(self, delta: str) -> str:
        """Add a delta; return the text that is now safe to show."""
        self._buf += delta
        if self.blocked:
            return ""
        visible = strip_reasoning(self._buf)
        if self._echo.hits(visible):
            self.blocked = True
            return ""
        words = list(re.finditer(r"\S+", visible))
        # Hold back a whole shingle: the last word may still be half a token.
        if len(words) <= SHINGLE:
            return ""
        return self._show(visible[: words[-SHINGLE].start()].lstrip())

    def flush(self) -> str:
        """Return the held-back rest once the stream is complete."""
        visible = strip_reasoning(self._buf)
        if self.blocked or self._echo.hits(visible):
            self.blocked = True
            return ""
        return self._show(visible.strip())

    def _show(self, candidate: str) -> str:
        if _looks_like_refusal_prefix(candidate):
            return ""
        if self._view.startswith(candidate):
            return ""
        if candidate.startswith(self._view):
            out = candidate[len(self._view) :]
        else:
            out = "\n\n" + candidate  # a retry wrote something else: start a new paragraph
        self._view = candidate
        return out


def _looks_like_refusal_prefix(text: str) -> bool:
    t = re.sub(r"[\s_*\"']+", " ", text).strip().upper()
    return "NOT IN COVERAGE".startswith(t) or bool(REFUSAL_MARKER.match(t))
