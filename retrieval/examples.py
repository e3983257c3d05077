"""Example questions for /start: "What did <someone> say?" about the newest coverage.

The speakers come from the opening passages of the newest articles; a question is offered
only when the service answers it (extractively: fast) instead of declining.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from retrieval.answering.briefing import lead_passages
from retrieval.text import STOPWORDS, split_sentences

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

RECENT = 6  # newest articles looked at
TRIED = 6  # candidate questions answered at most (each costs a retrieval)

_NAME = r"(?:the\s+)?[A-Z][\w’'.-]+(?:\s+(?:of\s+)?[A-Z][\w’'.-]+){0,3}"
_SAID = r"(?:said|says|told|added|warned|announced)"
# "John Kirby told reporters", "the White House said"; "..., said Ingrid Maalouf"
_BEFORE = re.compile(rf"(?P<who>{_NAME})\s+(?:has\s+|had\s+|also\s+)?{_SAID}\b")
_AFTER = re.compile(rf"[,”\"]\s*{_SAID}\s+(?:[a-z]+\s+){{0,4}}?(?P<who>{_NAME})")


def speakers(text: str) -> list[str]:
    """Named people or organisations a text quotes, in order of appearance."""
    found: list[tuple[int, str]] = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        for pattern in (_BEFORE, _AFTER):
            for m in pattern.finditer(sentence):
                who = re.sub(r"^the\s+", "the ", m["who"])
                head = who.removeprefix("the ").split()[0].lower()
                if head not in STOPWORDS and not re.match(r"(?:He|She|They|It|We|I)\b", who):
                    found.append((start + m.start("who"), who))
    return list(dict.fromkeys(w for _, w in sorted(found)))


def example_questions(svc: Newsdesk, n: int = 2) -> list[str]:
    """Up to `n` questions about different recent articles that the service answers."""
    records = [r.doc_id for r in svc.latest(RECENT)]
    out: list[str] = []
    tried = 0
    for passage in lead_passages(svc, records):
        for who in speakers(passage.text)[:2]:
            if tried >= TRIED or len(out) >= n:
                return out
            question = f"What did {who} say?"
            tried += 1
            if not svc.quote(question).refused:
                out.append(question)
                break  # one question an article
    return out
