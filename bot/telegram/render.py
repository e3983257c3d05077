"""Turn an Answer into Telegram HTML, split it under the message limit, or strip it to text."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.render import compact_sources, markers
from retrieval.types import Answer, Citation

MAX_MESSAGE = 4096
QUOTE_CHARS = 220  # the compact sources block shortens quotes; /sources shows them whole
EXPANDABLE = 300  # quotes longer than this are sent as expandable blockquotes
# One quoted sentence of an extractive answer: "…" [n]
_QUOTE_LINE = re.compile(r'^"(?P<quote>.+)" (?P<marker>\[\d+\])$')

_ATOM_RE = re.compile(r"<[^<>]*>|&#?\w{1,10};|[^<&]+|[<&]", re.S)
_OPEN_RE = re.compile(r"<([a-zA-Z][\w-]*)[^>]*>")


def esc(text: str) -> str:
    """Escape article or user text for Telegram HTML (text nodes)."""
    return html.escape(text, quote=False)


def esc_attr(text: str) -> str:
    """Escape a value for an HTML attribute (href)."""
    return html.escape(text, quote=True)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"


def _headline(c: Citation) -> str:
    title = esc(c.title or c.outlet or "Article")
    if c.url.startswith(("http://", "https://")):
        return f'<a href="{esc_attr(c.url)}">{title}</a>'
    return f"<b>{title}</b>"


def blockquote(text: str) -> str:
    """A quote as a Telegram blockquote (expandable when long)."""
    text = " ".join(text.split())
    tag = "<blockquote expandable>" if len(text) > EXPANDABLE else "<blockquote>"
    return f"{tag}{esc(text)}</blockquote>"


def source_line(
    c: Citation, *, full_quote: bool = False, quote: bool = True, numbers: Sequence[int] = ()
) -> str:
    """One source: [n] linked headline, outlet, date, and (unless `quote` is off) its quote;
    `numbers` for one article cited by several passages ("[1, 2]")."""
    meta = ", ".join(
        p for p in (esc(c.outlet), c.published.isoformat() if c.published else "") if p
    )
    line = f"{markers(c, numbers)} {_headline(c)}"
    if meta:
        line += f" — {meta}"
    if quote and c.quote.strip():
        line += "\n" + (
            blockquote(c.quote) if full_quote else f"<i>“{esc(_shorten(c.quote, QUOTE_CHARS))}”</i>"
        )
    return line


def _answer_html(text: str) -> str:
    """The answer text, its quoted sentences as blockquotes followed by their [n]."""
    out = []
    for line in text.strip().splitlines():
        m = _QUOTE_LINE.match(line.strip())
        out.append(f"{blockquote(m['quote'])}{m['marker']}" if m else esc(line))
    return "\n".join(out)


def render_answer(answer: Answer) -> str:
    """The answer with its [n] markers, an optional note, and a compact sources block.

    Quoted sentences are blockquotes; a source repeats its quote only when the answer does
    not already show it (an LLM answer in its own words).
    """
    parts = [_answer_html(answer.answer)]
    if answer.note:
        parts.append(f"<i>{esc(answer.note)}</i>")
    if answer.citations and not answer.refused:
        block = "\n\n".join(
            source_line(c, quote=quote, numbers=numbers)
            for c, numbers, quote in compact_sources(answer)
        )
        parts.append(f"<b>Sources</b>\n{block}")
    return "\n\n".join(p for p in parts if p)


def render_sources(citations: Sequence[Citation]) -> str:
    """Every source of an answer with its whole quote (for /sources and the Sources button)."""
    if not citations:
        return "The last answer had no sources."
    lines = "\n\n".join(source_line(c, full_quote=True) for c in citations)
    return f"<b>Sources</b>\n\n{lines}"


def to_plain(text: str) -> str:
    """Strip Telegram HTML to plain text (links keep their url) for the parse-error resend."""
    text = re.sub(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', r"\2 (\1)", text, flags=re.S)
    text = re.sub(r"<[^<>]*>", "", text)
    return html.unescape(text)


# -- splitting ---------------------------------------------------------------------------
_PARAGRAPH, _LINE, _SENTENCE, _WORD, _ANY = range(5)
_SENTENCE_END = re.compile(r"[.!?…][\"”’)\]]*$")


def _tag_name(tag: str) -> str:
    return re.split(r"[\s>/]", tag.lstrip("</"), maxsplit=1)[0].lower()


def _atoms(text: str, piece: int, html: bool = True) -> list[tuple[str, int]]:
    """Tags, entities, words and spaces, each with the strength of a cut right after it."""
    out: list[tuple[str, int]] = []
    for atom in _ATOM_RE.findall(text) if html else [text]:
        if html and atom.startswith(("<", "&")):
            out.append((atom, _ANY))
            continue
        for tok in re.findall(r"\s+|\S+", atom):
            if not tok.isspace():
                out.extend((tok[k : k + piece], _ANY) for k in range(0, len(tok), piece))
            elif re.search(r"\n\s*\n", tok):
                out.append((tok, _PARAGRAPH))
            elif "\n" in tok:
                out.append((tok, _LINE))
            elif out and _SENTENCE_END.search(out[-1][0]):
                out.append((tok, _SENTENCE))
            else:
                out.append((tok, _WORD))
    return out


def _closers(stack: list[str]) -> str:
    return "".join(f"</{_tag_name(t)}>" for t in reversed(stack))


def split_message(text: str, limit: int = MAX_MESSAGE, *, html: bool = True) -> list[str]:
    """Split Telegram HTML (or plain text, `html=False`) into parts of at most `limit` chars.

    Cuts fall on a paragraph break if one is in the second half of the window, else a line,
    sentence or word break, and never inside a tag or an entity; tags open at a cut are closed
    at the end of the part and reopened at the start of the next, so every part is balanced.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    atoms = _atoms(text, max(8, limit // 8), html)
    parts: list[str] = []
    stack: list[str] = []  # start tags open where the current part begins
    i = 0
    while i < len(atoms):
        while i < len(atoms) and atoms[i][0].isspace():  # no leading blanks in a part
            i += 1
        if i >= len(atoms):
            break
        prefix = "".join(stack)
        end, end_stack = _fill(atoms, i, stack, limit - len(prefix), html)
        body = "".join(a for a, _ in atoms[i:end])
        part = (prefix + body).rstrip() + _closers(end_stack)
        if (re.sub(r"<[^<>]*>", "", part) if html else part).strip():
            parts.append(part)
        stack, i = end_stack, end
    return parts


def _fill(
    atoms: list[tuple[str, int]], start: int, stack: list[str], room: int, html: bool
) -> tuple[int, list[str]]:
    """Choose where a part starting at atom `start` ends: (end index, start tags open there)."""
    best: dict[int, tuple[int, list[str]]] = {}
    cur = list(stack)
    length = 0
    j = start
    while j < len(atoms):
        atom, strength = atoms[j]
        nxt = list(cur)
        if not html:
            pass
        elif atom.startswith("</"):
            if nxt:
                nxt.pop()
        elif atom.startswith("<") and len(atom) > 1:
            nxt.append(atom)
        if length + len(atom) + len(_closers(nxt)) > room:
            break
        length += len(atom)
        cur = nxt
        j += 1
        if strength >= _WORD or length >= room // 2:
            best[strength] = (j, list(cur))
        best[_ANY] = (j, list(cur))
    if j >= len(atoms):
        return j, cur
    for strength in sorted(best):
        return best[strength]
    return start + 1, cur  # a single atom larger than a part: send it alone
