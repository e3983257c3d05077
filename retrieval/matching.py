"""Topic alerts: which newly arrived articles a topic matches, and how each is announced.

A topic matches an article when the question "topic" would be answered from that article
alone: the same hybrid retriever and the same relevance gate as questions, run on the new
articles only (each article is judged on its own passages). An article is announced by its
lead: headline, outlet, date, link and the lead sentence quoted, as a Citation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import TYPE_CHECKING

from retrieval.chunking import split_sentences
from retrieval.gate import relevance
from retrieval.retriever import CANDIDATES, Scored, to_passage
from retrieval.store import chunk_id
from retrieval.types import Citation, Passage

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

MAX_CANDIDATES = 2000  # chunks fetched per side when many articles arrive at once
LEAD_MIN_WORDS = 8  # a shorter first sentence is a dateline or a caption: take the next


def match_topic(
    svc: Newsdesk, topic: str, doc_ids: Collection[str], *, as_of: date | None = None
) -> list[Citation]:
    """The articles among `doc_ids` that `topic` matches, as their leads, newest first."""
    registry = svc.retriever.registry
    ids = {d for d in doc_ids if d in registry}
    if not ids:
        return []
    query = svc.check_question(topic)
    candidates = min(MAX_CANDIDATES, max(CANDIDATES, 8 * len(ids)))
    items = [
        i
        for i in svc.retriever.search(query, as_of=as_of or date.today(), candidates=candidates)
        if str(i.meta.get("doc_id")) in ids
    ]
    by_doc: dict[str, list[Scored]] = {}
    for item in items:  # best first: each article's top passages, as a question would get
        got = by_doc.setdefault(str(item.meta.get("doc_id")), [])
        if len(got) < svc.settings.top_k:
            got.append(item)
    matched = []
    for doc_id, top in by_doc.items():
        svc.retriever.similarity(query, top)
        ok, _ = relevance(query, [to_passage(i) for i in top], svc.settings.min_relevance)
        if ok:
            matched.append(doc_id)
    return lead_citations(svc, matched)


def lead_passages(svc: Newsdesk, doc_ids: Sequence[str]) -> list[Passage]:
    """The first passage of each article, newest first."""
    registry = svc.retriever.registry
    ids = [chunk_id(d, registry[d].version, 0) for d in doc_ids if d in registry]
    if not ids:
        return []
    got = svc.store.chunks.get(ids=ids, include=["documents", "metadatas"])
    passages = [
        to_passage(Scored(cid, doc or "", dict(meta or {})))
        for cid, doc, meta in zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
        )
    ]
    return sorted(passages, key=lambda p: p.published or date.min, reverse=True)


def lead_citations(svc: Newsdesk, doc_ids: Sequence[str]) -> list[Citation]:
    """Each article's lead sentence, cited (numbered in order), newest first."""
    return [
        Citation.of(n, p, lead_sentence(p)) for n, p in enumerate(lead_passages(svc, doc_ids), 1)
    ]


def lead_sentence(passage: Passage) -> str:
    """The first sentence of an article's first passage that reads as news."""
    spans = split_sentences(passage.text)
    for start, end in spans:
        if len(passage.text[start:end].split()) >= LEAD_MIN_WORDS:
            return passage.text[start:end]
    return passage.text[spans[0][0] : spans[0][1]] if spans else passage.text[:300]
