"""Briefings: "What's new?", "summarize the coverage", `/brief`: headlines and leads, cited."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from retrieval.answering.compose import format_date
from retrieval.answering.select import _BOILERPLATE
from retrieval.retriever import Scored, to_passage
from retrieval.store import chunk_id
from retrieval.text import STOPWORDS, split_sentences
from retrieval.timephrases import parse_window
from retrieval.types import Answer, AnswerMode, Citation, Passage

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

BRIEF_ITEMS = 5
DIGEST_ITEMS = 10  # a digest lists more: every new article, up to this many
_ASKS = re.compile(
    r"\b(?:what(?:'s| is| are)?\s+(?:new|the (?:latest|news|headlines?))|"
    r"what(?:'s| is)? happening|what(?:'s| is)? going on|(?:any|the) (?:latest|news|headlines?)|"
    r"latest (?:news|coverage|articles?|stories|reporting)|summar(?:y|ise|ize)|"
    r"brief me|briefing|catch me up|recap|overview|round-?up|"
    r"what (?:has )?happened|what did i miss|top stories|headlines?)\b",
    re.I,
)
_FILLER = frozenset(
    [
        "new",
        "latest",
        "news",
        "headline",
        "headlines",
        "happen",
        "happened",
        "happening",
        "going",
        "summary",
        "summarise",
        "summarize",
        "brief",
        "briefing",
        "me",
        "catch",
        "recap",
        "overview",
        "roundup",
        "round-up",
        "miss",
        "top",
        "stories",
        "story",
        "coverage",
        "article",
        "articles",
        "reporting",
        "please",
        "give",
        "tell",
        "show",
        "us",
        "anything",
        "everything",
        "today",
        "week",
        "month",
        "year",
        "yesterday",
        "past",
        "last",
        "this",
        "since",
        "days",
        "weeks",
        "months",
        "ago",
        "recent",
        "recently",
        "what's",
        "whats",
        "on",
        "in",
        "about",
        "regarding",
        "around",
        "with",
        "of",
        "for",
    ]
)


def briefing_topic(question: str) -> str | None:
    """The topic of a briefing request ("" for none), or None when it is not one.

    "What's new?" and "what happened this week?" have no topic; "summarize the coverage of
    the solar farm" has one. "What happened to the ferry?" is a question, not a briefing:
    with a topic only explicit briefing words ("latest", "summarize", "brief") count.
    """
    text = question.replace("’", "'")
    m = _ASKS.search(text)
    # A briefing asks for it up front ("What's new on ...", "Summarize ..."); "Which country
    # made headlines this week?" is a question.
    if (
        m is None
        or m.start() > 20
        or re.match(r"\W*(?:which|who|whom|whose|where|when|why|how)\b", text, re.I)
    ):
        return None
    toks = re.findall(r"[A-Za-z0-9][\w’'.-]*", question.replace("’", "'"))
    rest = [re.sub(r"'s$", "", t).rstrip(".") for t in toks]
    rest = [w for w in rest if w.lower() not in STOPWORDS and w.lower() not in _FILLER]
    rest = [w for w in rest if not re.fullmatch(r"\d+", w) and not _month(w.lower())]
    topic = " ".join(rest)
    if topic and re.match(r"what (?:has )?happened|what's going on", m.group().lower()):
        return None
    return topic


def _month(word: str) -> bool:
    return word[:3] in {
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    } and word.isalpha()  # fmt: skip


def lead_sentence(text: str) -> tuple[int, int]:
    """The span of the first sentence of an article that reads as news (not boilerplate)."""
    spans = split_sentences(text, whole_quotes=True)
    for s, e in spans:
        piece = text[s:e]
        if len(piece.split()) >= 8 and not _BOILERPLATE.search(piece):
            return s, e
    return spans[0] if spans else (0, min(len(text), 300))


def compose_briefing(
    question: str,
    items: Sequence[Passage],
    *,
    topic: str = "",
    window: tuple[date, date] | None = None,
    note: str = "",
    as_of: date | None = None,
    mode: AnswerMode = "extractive",
    of: int | None = None,
) -> Answer:
    """Headline, outlet, date and the lead sentence quoted and cited, newest first.

    `of` is how many articles there were to choose from, when more than are shown.
    """
    ordered = sorted(items, key=lambda p: p.published or date.min, reverse=True)
    citations: list[Citation] = []
    lines = [_intro(len(ordered), topic, window, note, of)]
    for n, p in enumerate(ordered, start=1):
        s, e = lead_sentence(p.text)
        quote = p.text[s:e]
        citations.append(Citation.of(n, p, quote))
        meta = ", ".join(x for x in (p.outlet, format_date(p.published)) if x)
        head = p.title or "(untitled)"
        lines.append(f"{n}. {head}" + (f" ({meta})" if meta else ""))
        lines.append(f'   "{" ".join(quote.split())}" [{n}]')
    return Answer(
        question=question,
        answer="\n".join(lines),
        refused=False,
        mode=mode,
        citations=citations,
        as_of=as_of,
    )


def _intro(
    n: int, topic: str, window: tuple[date, date] | None, note: str, of: int | None = None
) -> str:
    about = f" about {topic}" if topic else ""
    span = ""
    if window is not None:
        a, b = window
        span = (
            f" from {format_date(a)}" if a == b else f" from {format_date(a)} to {format_date(b)}"
        )
    head = f"{note}\n" if note else ""
    plural = "s" if (of or n) != 1 else ""
    count = f"{n} of {of}" if of and of > n else f"{n}"
    return f"{head}The coverage{about}{span}, newest first ({count} article{plural}):"


EMPTY = "The coverage is empty: no articles have been ingested yet."
NONE_OF_THOSE = "None of those articles is in the coverage (any more)."


def empty_briefing(question: str, mode: AnswerMode = "extractive", why: str = EMPTY) -> Answer:
    """The briefing of an empty index (or selection): say so (there is nothing to refuse)."""
    return Answer(
        question=question,
        answer=why,
        refused=False,
        mode=mode,
    )


def build_briefing(
    svc: Newsdesk,
    question: str,
    topic: str,
    as_of: date,
    *,
    doc_ids: Sequence[str] | None = None,
) -> tuple[Answer, list[Passage]]:
    """The briefing for a question: with a topic its most relevant articles, else the newest;
    a time phrase in the question limits it to that window, `doc_ids` to those articles
    (a digest: up to DIGEST_ITEMS of them, all dates). Never a refusal."""
    mode: AnswerMode = "llm" if svc.llm else "extractive"
    window = parse_window(question, as_of)
    records = list(svc.retriever.registry.values())
    limit = BRIEF_ITEMS
    if doc_ids is not None:
        wanted = set(doc_ids)
        records = [r for r in records if r.doc_id in wanted]
        limit = DIGEST_ITEMS
        if not records:
            return empty_briefing(question, mode, NONE_OF_THOSE), []
    if not records:
        return empty_briefing(question, mode), []
    note = ""
    docs: list[str] = []
    if topic and doc_ids is not None:
        # judged article by article, as topic alerts are: the selection may be small
        docs = [c.doc_id for c in svc.match(topic, [r.doc_id for r in records], as_of=as_of)]
        if not docs:
            note = f"None of these articles is about {topic}; here are the newest of them."
            topic = ""
    elif topic:
        result = svc.retrieve(topic, as_of=as_of, window=window)
        if result.relevant:
            docs = list(dict.fromkeys(p.doc_id for p in result.passages))
        else:
            note = f"I found nothing about {topic}; here is the newest coverage instead."
            topic = ""
    if not topic:
        dated = [r for r in records if r.published and r.published <= as_of] or records
        if doc_ids is not None:
            dated = records  # a digest's articles have just arrived: keep the undated too
        inside = [
            r for r in dated if window and r.published and window[0] <= r.published <= window[1]
        ]
        if window and not inside:
            note = (
                f"Nothing in the coverage was published from {format_date(window[0])} "
                f"to {format_date(window[1])}; here is the newest before that."
            )
            window = None
        pool = sorted(inside or dated, key=lambda r: r.published or date.min, reverse=True)
        docs = [r.doc_id for r in pool]
    passages = lead_passages(svc, docs[:limit])
    answer = compose_briefing(
        question, passages, topic=topic, window=window, note=note, as_of=as_of, mode=mode,
        of=len(docs) if doc_ids is not None else None,
    )  # fmt: skip
    return answer, passages


def lead_passages(svc: Newsdesk, doc_ids: Sequence[str]) -> list[Passage]:
    """The first chunk of each article, as a citable passage."""
    registry = svc.retriever.registry
    ids = [chunk_id(d, registry[d].version, 0) for d in doc_ids if d in registry]
    if not ids:
        return []
    found = {cid: (text, meta) for cid, text, meta, _ in svc.store.get_chunks(ids)}
    return [to_passage(Scored(cid, *found[cid])) for cid in ids if cid in found]
