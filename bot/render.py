"""Plain-text rendering of answers for the terminal."""

from __future__ import annotations

from retrieval.extractive import format_date
from retrieval.types import Answer, Citation


def source_line(c: Citation) -> str:
    """Return "[n] headline, outlet, date, url"."""
    parts = [c.title, c.outlet, format_date(c.published), c.url]
    return f"[{c.n}] " + ", ".join(p for p in parts if p)


def render_sources(answer: Answer) -> str:
    """The sources block: one source line and its quoted sentence per citation."""
    if not answer.citations:
        return "No sources for this answer."
    blocks = [f'{source_line(c)}\n    "{" ".join(c.quote.split())}"' for c in answer.citations]
    return "Sources:\n" + "\n".join(blocks)


def render_answer(answer: Answer, *, sources: bool = True) -> str:
    """The answer, an optional note, then its sources."""
    out = [answer.answer]
    if answer.note:
        out.append(f"({answer.note})")
    if sources and answer.citations:
        out.append("")
        out.append(render_sources(answer))
    return "\n".join(out)
