"""The relevance gate: decide whether retrieved passages can answer the question at all."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.text import content_stems, named_terms, term_in
from retrieval.types import Passage


def relevance(
    question: str, passages: Sequence[Passage], min_similarity: float
) -> tuple[bool, str]:
    """Return (relevant, reason). Refuse when nothing is close or a named subject is absent."""
    if not passages:
        return False, "the index is empty"
    if not content_stems(question):
        return False, "the question has no searchable words"
    best = max(p.similarity for p in passages)
    if best < min_similarity:
        return False, f"best similarity {best:.2f} < {min_similarity:.2f}"
    text = " ".join(f"{p.title}\n{p.text}" for p in passages).lower()
    missing = [t for t in named_terms(question) if not term_in(t, text)]
    if missing:
        return False, "not in the coverage: " + ", ".join(missing)
    return True, f"best similarity {best:.2f}"
