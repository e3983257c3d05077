"""`newsdesk alert add/list/remove`: topic alerts for the terminal user.

`newsdesk follow` prints the matches of each round after its report (`print_matches`); the
alerts live in the same subscriptions file as the bot's (chat `LOCAL_CHAT`), with the same
caps and the same never-twice rule.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from retrieval.config import Settings

if TYPE_CHECKING:
    from retrieval.api import NewsService

# bot.alerts and bot.subscriptions are imported by the commands that use them: every
# `newsdesk` command imports this module to register its parser (cold start).


def cmd_alert(args: argparse.Namespace, settings: Settings) -> int:
    """Add, list or remove the terminal user's topic alerts."""
    from bot.alerts import alert_list, check_topic
    from bot.subscriptions import LOCAL_CHAT, Subscriptions

    subs = Subscriptions.in_data_dir(settings.data_dir)
    try:
        if args.action == "list":
            mine = subs.alerts(LOCAL_CHAT)
            print(alert_list(mine) if mine else "No alerts. Add one: newsdesk alert add TOPIC")
            return 0
        text = " ".join(args.topic)
        if args.action == "remove":
            gone = subs.remove_alert(LOCAL_CHAT, text)
            if gone is None:
                print(f"No alert {text}. See `newsdesk alert list`.")
                return 1
            print(f"Stopped alerts on “{gone.topic}”.")
            return 0
        try:
            topic = check_topic(text)
        except ValueError as exc:
            print(str(exc).replace("/alert", "newsdesk alert add"))
            return 2
        outcome, mine = subs.add_alert(LOCAL_CHAT, topic, settings.max_alerts)
    finally:
        subs.close()
    if outcome == "full":
        print(f"You have {len(mine)} alerts, the most allowed (NEWSDESK_MAX_ALERTS).")
        print(alert_list(mine))
        return 1
    if outcome == "exists":
        print(f"Already alerting on “{topic}”.")
        return 0
    print(f"Alert {len(mine)}: {topic}. `newsdesk follow` prints the new articles it matches.")
    return 0


def print_matches(service: NewsService, settings: Settings, doc_ids: Sequence[str]) -> int:
    """Print the terminal user's alerts among newly stored articles; return how many."""
    if not doc_ids:
        return 0
    from bot.alerts import plain_alert, plan
    from bot.subscriptions import LOCAL_CHAT, Subscriptions

    subs = Subscriptions.in_data_dir(settings.data_dir)
    try:
        found = plan(service, subs, settings, doc_ids, chats=lambda c: c == LOCAL_CHAT)
    finally:
        subs.close()
    for delivery in found.deliveries:
        print(plain_alert(delivery), flush=True)
    if found.capped:
        print(f"More articles matched your alerts: over {settings.alerts_per_hour} an hour.")
    return len(found.deliveries)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `newsdesk alert` to the parser."""
    p = subparsers.add_parser("alert", help="topic alerts: printed by `newsdesk follow`")
    p.add_argument("action", choices=["add", "list", "remove"])
    p.add_argument("topic", nargs="*", help="the topic (add), or its number or topic (remove)")
    p.set_defaults(func=cmd_alert)
