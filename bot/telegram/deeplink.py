"""Deep links `t.me/BOT?start=PAYLOAD` that open the bot with a question or an alert topic.

A payload is one letter (`q` a question, `a` an alert topic) and the text in base64url
without padding: Telegram allows 64 characters of `A-Z a-z 0-9 _ -`, which leaves room for
47 bytes of UTF-8 ("What did Germany say about Macron's remarks?" fits). Longer text is cut
at a word boundary so the link still works.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal

from telegram import Message
from telegram.ext import filters

MAX_PAYLOAD = 64  # Telegram's limit for start parameters
Kind = Literal["question", "alert"]
_PREFIX: dict[Kind, str] = {"question": "q", "alert": "a"}
_KIND = {v: k for k, v in _PREFIX.items()}


@dataclass(frozen=True)
class DeepLink:
    """What a start payload asks for."""

    kind: Kind
    text: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def encode(kind: Kind, text: str) -> str:
    """The start payload for `text` (cut at a word boundary to fit Telegram's limit)."""
    text = " ".join(text.split())
    room = (MAX_PAYLOAD - 1) * 3 // 4  # bytes that base64 turns into 63 characters
    raw = text.encode("utf-8")
    if len(raw) > room:
        cut = raw[:room].decode("utf-8", "ignore")
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
        raw = text.encode("utf-8")
    return _PREFIX[kind] + _b64(raw)


def decode(payload: str) -> DeepLink | None:
    """The question or topic of a start payload, or None when it is not one of ours."""
    if not payload or len(payload) > MAX_PAYLOAD or payload[0] not in _KIND:
        return None
    body = payload[1:]
    if not re.fullmatch(r"[A-Za-z0-9_-]+", body):
        return None
    try:
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    text = " ".join(text.split())
    return DeepLink(_KIND[payload[0]], text) if text else None


def link(username: str, kind: Kind, text: str) -> str:
    """The t.me link that opens a private chat with the bot on this question or topic."""
    return f"https://t.me/{username}?start={encode(kind, text)}"


def payload_of(message: Message) -> DeepLink | None:
    """The deep link a `/start PAYLOAD` message opens with, if it is one of ours."""
    parts = (message.text or "").split()
    if len(parts) != 2 or not parts[0].lower().startswith("/start"):
        return None
    return decode(parts[1])


class Opens(filters.MessageFilter):
    """Messages `/start PAYLOAD` whose payload is a deep link of `kind` (any kind: None)."""

    def __init__(self, kind: Kind | None = None) -> None:
        super().__init__(name=f"deeplink.Opens({kind})")
        self.kind = kind

    def filter(self, message: Message) -> bool:
        link = payload_of(message)
        return link is not None and (self.kind is None or link.kind == self.kind)
