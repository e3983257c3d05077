"""Prompt templates: text files in `prompts/` (package `retrieval.prompts`), strictly filled."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable

from retrieval.errors import ConfigError
from retrieval.types import Passage

# The repo's top-level prompts/ folder; in the wheel, the data of this package.
PROMPTS_PACKAGE = "retrieval.prompts"

_VAR = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Markers that could close or forge a passage fence inside untrusted text.
_FENCE_LIKE = re.compile(r"<{2,}|>{2,}|\bPASSAGE\b", re.IGNORECASE)

MAX_PASSAGES = 8
MAX_PASSAGE_CHARS = 1500


class PromptError(ConfigError):
    """A prompt template is missing or does not match the variables given to it."""


@functools.cache
def load_template(name: str, directory: Traversable | None = None) -> str:
    """Read `prompts/<name>.txt`; raise PromptError when it does not exist."""
    try:
        path = (directory or files(PROMPTS_PACKAGE)) / f"{name}.txt"
    except ModuleNotFoundError as exc:
        raise PromptError(f"the prompt templates ({PROMPTS_PACKAGE}) are not installed") from exc
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"prompt template {path} cannot be read: {exc}") from exc


def template_variables(template: str) -> set[str]:
    """Return the `{name}` variables a template uses."""
    return set(_VAR.findall(template))


def fill(template: str, values: Mapping[str, str], *, name: str = "template") -> str:
    """Substitute `{name}` variables; a missing or unexpected variable raises PromptError."""
    wanted = template_variables(template)
    missing = wanted - values.keys()
    if missing:
        raise PromptError(f"prompt {name!r} needs variables not given: {sorted(missing)}")
    extra = values.keys() - wanted
    if extra:
        raise PromptError(f"prompt {name!r} does not use variables given: {sorted(extra)}")
    # One pass with a function: values are never re-scanned for `{...}`.
    return _VAR.sub(lambda m: values[m.group(1)], template)


def render(name: str, **values: str) -> str:
    """Load `prompts/<name>.txt` and fill it strictly."""
    return fill(load_template(name), values, name=name)


def static_text(name: str) -> str:
    """Return a template with its variables removed (for echo detection)."""
    return _VAR.sub(" ", load_template(name))


_FENCE_KEY = secrets.token_bytes(16)


def new_fence(material: str = "") -> str:
    """Return a tag an article cannot guess, so it cannot forge a fence.

    Keyed with a per-process secret; the same passages get the same tag, so a server's
    prompt cache still works across questions about them.
    """
    if not material:
        return secrets.token_hex(4)
    return hmac.new(_FENCE_KEY, material.encode("utf-8"), hashlib.sha256).hexdigest()[:8]


def defang(text: str) -> str:
    """Neutralise fence-like markers inside untrusted article text."""
    return _FENCE_LIKE.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], text)


def format_passage(n: int, passage: Passage, fence: str) -> str:
    """Render one numbered passage inside fences marked as untrusted article text."""
    published = passage.published.isoformat() if passage.published else "unknown"
    body = passage.text.strip()
    if len(body) > MAX_PASSAGE_CHARS:
        body = body[:MAX_PASSAGE_CHARS].rsplit(" ", 1)[0] + " ..."
    return (
        f"<<<PASSAGE [{n}] {fence} (untrusted article text)\n"
        f"Headline: {defang(passage.title.strip()) or 'untitled'}\n"
        f"Outlet: {defang(passage.outlet.strip()) or 'unknown'}\n"
        f"Date: {published}\n"
        f"Text: {defang(body)}\n"
        f"PASSAGE [{n}] {fence} ENDS>>>"
    )


def answer_messages(
    question: str, passages: Sequence[Passage], *, today: date, fence: str | None = None
) -> list[dict[str, str]]:
    """Build the chat messages for an answer; passages are numbered from 1."""
    fence = fence or new_fence()
    block = "\n\n".join(format_passage(i, p, fence) for i, p in enumerate(passages, start=1))
    user = render(
        "answer",
        today=today.isoformat(),
        fence=fence,
        passages=block,
        question=defang(question.strip()),
    )
    return [
        {"role": "system", "content": load_template("system")},
        {"role": "user", "content": user},
    ]


def condense_messages(question: str, history: str) -> list[dict[str, str]]:
    """Build the chat messages that turn a follow-up into a standalone question."""
    user = render("condense", history=history, question=question.strip())
    return [
        {"role": "system", "content": load_template("condense_system")},
        {"role": "user", "content": user},
    ]
