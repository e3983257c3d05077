"""Topic alerts for any front end: which chats hear about which newly stored articles.

`plan` asks the service which subscribed topics each new article matches (one search per
distinct topic, over the new articles only) and claims one message per article per chat in
the subscriptions file: never twice for one article or story, at most the hourly cap.
Telegram (bot/telegram/alerts.py) sends them; `newsdesk follow` prints the terminal user's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from bot.subscriptions import Alert, Claim, Subscriptions
from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.errors import NewsdeskError
from retrieval.types import Citation

log = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 100


@dataclass(frozen=True)
class Delivery:
    """One alert message: this article (its lead) to this chat, for this topic."""

    chat_id: int
    alert_id: int
    topic: str
    article: Citation


@dataclass
class Plan:
    """What one batch of new articles gives: messages to send, chats over their cap."""

    deliveries: list[Delivery] = field(default_factory=list)
    capped: set[int] = field(default_factory=set)


def check_topic(topic: str) -> str:
    """A topic as stored, or a ValueError whose message tells the user what is wrong."""
    topic = " ".join(topic.split())
    if not topic:
        raise ValueError("Give a topic, e.g. /alert Elm River flooding")
    if len(topic) > MAX_TOPIC_CHARS:
        raise ValueError(f"Keep a topic under {MAX_TOPIC_CHARS} characters.")
    return topic


def story_keys(settings: Settings, doc_ids: Collection[str]) -> dict[str, str]:
    """Each article's story: its text's fingerprint when the follower knows it, else its id."""
    try:
        from retrieval.web.state import WebState
    except ImportError:  # no [live] extra: no feeds, and no fingerprints either
        return {d: d for d in doc_ids}
    with WebState.open(settings) as state:
        prints = state.fingerprints(doc_ids)
    return {d: prints.get(d, d) for d in doc_ids}


def plan(
    service: NewsService,
    subs: Subscriptions,
    settings: Settings,
    doc_ids: Sequence[str],
    *,
    chats: Callable[[int], bool] = lambda _: True,
) -> Plan:
    """Match the new articles against every topic of the accepted chats; claim the messages.

    Blocking (retrieval, SQLite): async code runs it in a thread.
    """
    if not doc_ids:
        return Plan()
    by_chat: dict[tuple[int, str], Delivery] = {}
    for alerts in subs.topics(chats).values():
        topic = alerts[0].topic
        try:
            found = service.match(topic, doc_ids)
        except NewsdeskError as exc:  # a topic the service rejects matches nothing
            log.warning("Alert topic %r not matched: %s", topic, exc)
            continue
        for article in found:
            for a in alerts:  # one message per article and chat, whatever topics match
                by_chat.setdefault(
                    (a.chat_id, article.doc_id), Delivery(a.chat_id, a.id, a.topic, article)
                )
    if not by_chat:
        return Plan()
    stories = story_keys(settings, {d for _, d in by_chat})
    wanted = [Claim(chat, doc, stories[doc]) for chat, doc in by_chat]
    send, capped = subs.claim(wanted, settings.alerts_per_hour)
    return Plan([by_chat[(c.chat_id, c.doc_id)] for c in send], capped)


def alert_list(alerts: Sequence[Alert]) -> str:
    """The numbered topics, one a line (plain text)."""
    return "\n".join(f"{a.n}. {a.topic}" for a in alerts)


def plain_alert(d: Delivery) -> str:
    """An alert for a terminal: topic, headline, outlet and date, the lead quoted, the link."""
    a = d.article
    meta = ", ".join(p for p in (a.outlet, a.published.isoformat() if a.published else "") if p)
    lines = [f"Alert ({d.topic}): {a.title or 'Untitled'}" + (f" — {meta}" if meta else "")]
    lines.append(f"  “{' '.join(a.quote.split())}”")
    if a.url:
        lines.append(f"  {a.url}")
    return "\n".join(lines)
