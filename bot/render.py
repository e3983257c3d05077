"""Plain-text rendering of answers for the terminal."""

from __future__ import annotations

from retrieval.answering import format_date
from retrieval.text import fold
from retrieval.types import Answer, Citation


def source_line(c: Citation) -> str:
    """Return "[n] headline, outlet, date, url"."""
    parts = [c.title, c.outlet, format_date(c.published), c.url]
    return f"[{c.n}] " + ", ".join(p for p in parts if p)


def shown_in_answer(c: Citation, answer: Answer) -> bool:
    """Whether the answer already shows the citation's quote (then Sources need not)."""
    quote = fold(c.quote)
    return bool(quote) and quote in fold(answer.answer)


def render_sources(answer: Answer, *, all_quotes: bool = True) -> str:
    """The sources block: one line per citation, and its quote unless the answer shows it.

    `all_quotes` (for /sources) prints every quote in full.
    """
    if not answer.citations:
        return "No sources for this answer."
    blocks = []
    for c in answer.citations:
        block = source_line(c)
        if all_quotes or not shown_in_answer(c, answer):
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
