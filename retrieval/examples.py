"""Example questions for /start: "What did <someone> say?" about the newest coverage.

The speakers come from the opening passages of the newest articles; a question is offered
only when the service answers it (extractively: fast) instead of declining.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from retrieval.answering.briefing import lead_passages
from retrieval.answering.speakers import speakers as answer_speakers
from retrieval.text import STOPWORDS, split_sentences

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

RECENT = 6  # newest articles looked at
TRIED = 6  # candidate questions answered at most (each costs a retrieval)


def speakers(text: str) -> list[str]:
    """Named people or organisations a text quotes, in order of appearance (the answerer's
    own speaker rules, so that the question offered is one it matches)."""
    sents = [text[s:e] for s, e in split_sentences(text, whole_quotes=True)]
    found: list[str] = []
    for sentence, who in zip(sents, answer_speakers(sents), strict=True):
        if not re.search(r"[A-Z]", who) or who.split()[0].lower() in STOPWORDS:
            continue
        # "What did the White House say?": keep the article the speaker had
        the = re.search(rf"\bthe {re.escape(who)}", sentence, re.I)
        found.append(f"the {who}" if the else who)
    return list(dict.fromkeys(found))


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
