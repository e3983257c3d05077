"""Telegram's HTML rules, as the Bot API applies them: known tags, balanced, valid entities."""

from __future__ import annotations

import html
import re

MAX_TEXT = 4096
_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "span", "tg-spoiler", "tg-emoji",
}  # fmt: skip
_TOKEN_RE = re.compile(r"<[^<>]*>|&[^;\s<>&]{1,10};|[<>&]|[^<>&]+")
_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


class ParseError(ValueError):
    """The HTML is not what Telegram accepts."""


def parse_telegram_html(text: str) -> str:
    """Return the visible text of Telegram HTML, or raise ParseError like the Bot API does."""
    stack: list[str] = []
    out: list[str] = []
    for tok in _TOKEN_RE.findall(text):
        if tok.startswith("<") and tok.endswith(">") and len(tok) > 1:
            closing = tok.startswith("</")
            name = tok[2:-1] if closing else re.split(r"[\s>]", tok[1:], maxsplit=1)[0]
            name = name.strip().lower()
            if name not in _ALLOWED_TAGS:
                raise ParseError(f'Unsupported start tag "{name}" at byte offset {len(out)}')
            if closing:
                if not stack or stack[-1] != name:
                    raise ParseError(f"Unmatched end tag at byte offset {len(out)}, expected")
                stack.pop()
            else:
                stack.append(name)
        elif tok.startswith("&") and tok.endswith(";"):
            if not _ENTITY_RE.fullmatch(tok):
                raise ParseError(f"Unsupported entity {tok!r}")
            out.append(html.unescape(tok))
        elif tok in {"<", ">", "&"}:
            if tok == ">":
                out.append(tok)  # Telegram tolerates a bare ">"
                continue
            raise ParseError(f"Unexpected {tok!r}: must be escaped")
        else:
            out.append(tok)
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2
