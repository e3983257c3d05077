"""Topic alerts: which newly arrived articles a topic matches, and how each is announced.

A topic matches an article when the question "topic" would be answered from that article
alone: the same hybrid retriever, re-ranker and relevance gate as questions, run on the new
articles only (each article is judged on its own passages). A topic is a few words, each of
them meant (as news-alert services treat them), so the article must also name most of them:
the gate alone takes half of "Riverside council" (an article on the Riverside river gauge)
as evidence enough for a question. An article is announced by its lead: headline, outlet,
date, link and the lead sentence quoted, as a Citation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import TYPE_CHECKING

from retrieval.answering import analyse
from retrieval.answering.briefing import lead_passages, lead_sentence
from retrieval.answering.evidence import coverage, term_weights
from retrieval.gate import judge
from retrieval.rerank import POOL, rerank
from retrieval.retriever import CANDIDATES, Scored, to_passage
from retrieval.text import content_stems
from retrieval.types import Citation

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

MAX_CANDIDATES = 2000  # chunks fetched per side when many articles arrive at once
# Weighted share of the topic's words an article must name (evidence.term_weights: a name
# weighs 2, a plain word 1, a generic one 0.3): both words of a two-word topic, all three
# plain words of a three-word one, all but a plain word of "Name word word" or longer.
TOPIC_COVERAGE = 0.75


def match_topic(
    svc: Newsdesk, topic: str, doc_ids: Collection[str], *, as_of: date | None = None
) -> list[Citation]:
    """The articles among `doc_ids` that `topic` matches, as their leads, newest first."""
    registry = svc.retriever.registry
    ids = {d for d in doc_ids if d in registry}
    if not ids:
        return []
    query = svc.check_question(topic)
    spec = analyse(query)
    weights = term_weights(spec)
    candidates = min(MAX_CANDIDATES, max(CANDIDATES, 8 * len(ids)))
    items = [
        i
        for i in svc.retriever.search(query, as_of=as_of or date.today(), candidates=candidates)
        if i.meta.doc_id in ids
    ]
    by_doc: dict[str, list[Scored]] = {}
    for item in items:  # best first: each article's candidates, re-ranked as for a question
        got = by_doc.setdefault(item.meta.doc_id, [])
        if len(got) < POOL:
            got.append(item)
    matched = []
    for doc_id, pool in by_doc.items():
        named = content_stems(" ".join(f"{i.meta.title}\n{i.text}" for i in pool))
        if coverage(weights, named) < TOPIC_COVERAGE:
            continue
        top = rerank(spec, pool, k=svc.settings.top_k)
        svc.retriever.similarity(query, top)
        if judge(spec, [to_passage(i) for i in top], svc.settings.min_relevance).relevant:
            matched.append(doc_id)
    return lead_citations(svc, matched)


def lead_citations(svc: Newsdesk, doc_ids: Sequence[str]) -> list[Citation]:
    """Each article's lead sentence, cited (numbered in order), newest first."""
    passages = sorted(
        lead_passages(svc, doc_ids), key=lambda p: p.published or date.min, reverse=True
    )
    cited = []
    for n, p in enumerate(passages, 1):
        s, e = lead_sentence(p.text)
        cited.append(Citation.of(n, p, p.text[s:e]))
    return cited
