"""Plain-text rendering of answers for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.answering import format_date
from retrieval.text import fold
from retrieval.types import Answer, Citation


def markers(c: Citation, numbers: Sequence[int] = ()) -> str:
    """Return "[n]", or "[1, 2]" for one article cited by several passages (`numbers`)."""
    return f"[{', '.join(map(str, numbers or [c.n]))}]"


def source_line(c: Citation, numbers: Sequence[int] = ()) -> str:
    """Return "[n] headline, outlet, date, url" ("[1, 2] ..." for `numbers`)."""
    parts = [c.title, c.outlet, format_date(c.published), c.url]
    return f"{markers(c, numbers)} " + ", ".join(p for p in parts if p)


def shown_in_answer(c: Citation, answer: Answer) -> bool:
    """Whether the answer already shows the citation's quote (then Sources need not)."""
    quote = fold(c.quote)
    return bool(quote) and quote in fold(answer.answer)


def compact_sources(answer: Answer) -> list[tuple[Citation, list[int], bool]]:
    """The sources block's entries: (citation, its numbers, whether to show its quote).

    Passages of one article whose quotes the answer shows share one entry ("[1, 2]"), so
    the block does not list the same headline twice.
    """
    entries: list[tuple[Citation, list[int], bool]] = []
    merged: dict[str, list[int]] = {}
    for c in answer.citations:
        if shown_in_answer(c, answer):
            if c.doc_id in merged:
                merged[c.doc_id].append(c.n)
                continue
            merged[c.doc_id] = [c.n]
            entries.append((c, merged[c.doc_id], False))
        else:
            entries.append((c, [c.n], True))
    return entries


def render_sources(answer: Answer, *, all_quotes: bool = True) -> str:
    """The sources block: one line per citation, and its quote unless the answer shows it.

    `all_quotes` (for /sources) prints every quote in full.
    """
    if not answer.citations:
        return "No sources for this answer."
    entries = (
        [(c, [c.n], True) for c in answer.citations] if all_quotes else compact_sources(answer)
    )
    blocks = []
    for c, numbers, quote in entries:
        block = source_line(c, numbers)
        if quote:
            block += f'\n    "{" ".join(c.quote.split())}"'
        blocks.append(block)
    return "Sources:\n" + "\n".join(blocks)


def render_answer(answer: Answer, *, sources: bool = True) -> str:
    """The answer, an optional note, then its sources (quotes only where they add)."""
    out = [answer.answer]
    if answer.note:
        out.append(f"({answer.note})")
    if sources and answer.citations:
        out.append("")
        out.append(render_sources(answer, all_quotes=False))
    return "\n".join(out)
