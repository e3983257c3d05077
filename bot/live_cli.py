"""`newsdesk follow`, `unfollow`, `feeds` and `latest`: live coverage from the terminal."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.alerts_cli import print_matches
from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.errors import ConfigError

if TYPE_CHECKING:
    from retrieval.web.follow import FollowReport

logger = logging.getLogger(__name__)

# retrieval.web needs the `live` extra (trafilatura, feedparser): it is imported by the
# commands that use it, so the others and `--help` work without it (bot.cli names the extra).


def _every_seconds(text: str) -> float:
    from retrieval.web.follow import MIN_EVERY_SECONDS, parse_every

    seconds = parse_every(text)
    if seconds < MIN_EVERY_SECONDS:
        raise ConfigError(
            f"interval {text!r} below the minimum",
            user_message=f"Poll at most once a minute (got --every {text}).",
        )
    return seconds


def _print_report(report: FollowReport) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(f"[{stamp}] {report.summary()}", flush=True)


def _reporter(svc: NewsService, settings: Settings) -> Callable[[FollowReport], None]:
    """Print a round's report, then the new articles that match the user's alerts."""

    def report_round(report: FollowReport) -> None:
        _print_report(report)
        print_matches(svc, settings, report.stored)

    return report_round


def cmd_follow(args: argparse.Namespace, settings: Settings) -> int:
    """Follow feeds: check them once (--once) or every --every until interrupted."""
    from retrieval.service import Newsdesk
    from retrieval.web.extract import require_extractor
    from retrieval.web.follow import follow_loop, follow_once, list_feeds

    require_extractor()
    every = _every_seconds(args.every or settings.follow_every)
    if not args.feeds and not list_feeds(settings):
        print("No feeds followed yet. Usage: newsdesk follow FEED_URL ...")
        return 2
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        report_round = _reporter(svc, settings)
        if args.once:
            report = asyncio.run(follow_once(svc, settings, args.feeds or None))
            report_round(report)
            return 1 if report.feeds and len(report.errors) == len(report.feeds) else 0
        print(f"Following feeds every {args.every or settings.follow_every} (Ctrl-C to stop).")
        loop = follow_loop(svc, settings, args.feeds or None, every=every, on_report=report_round)
        asyncio.run(loop)
    except KeyboardInterrupt:
        print("\nStopped following.")
    finally:
        svc.close()
    return 0


def cmd_unfollow(args: argparse.Namespace, settings: Settings) -> int:
    """Stop following a feed, by url or by its number in `newsdesk feeds`."""
    from retrieval.web.follow import unfollow_feed

    removed = unfollow_feed(settings, args.feed)
    if removed is None:
        print(f"Not following {args.feed}. See `newsdesk feeds`.")
        return 1
    print(f"Stopped following {removed}.")
    return 0


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """List followed feeds with last check, last new item and last error."""
    from retrieval.web.follow import list_feeds

    feeds = list_feeds(settings)
    if not feeds:
        print("No feeds followed. Add one with: newsdesk follow FEED_URL")
        return 0
    for n, feed in enumerate(feeds, 1):
        print(f"{n}. {feed.describe()}")
    return 0


def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    """List the newest articles in the index."""
    from retrieval.service import Newsdesk

    svc = Newsdesk.open(settings, with_llm=False)
    try:
        records = svc.latest(args.n)
    finally:
        svc.close()
    if not records:
        print("No dated articles in the index yet.")
        return 0
    for r in records:
        day = r.published.isoformat() if r.published else "undated"
        outlet = f" ({r.outlet})" if r.outlet else ""
        print(f"{day}  {r.title}{outlet}")
        if r.url:
            print(f"            {r.url}")
    return 0


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= n <= 100:
        raise argparse.ArgumentTypeError("choose between 1 and 100")
    return n


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the live-coverage subcommands to the `newsdesk` parser."""
    p = subparsers.add_parser("follow", help="follow RSS/Atom feeds and ingest new articles")
    p.add_argument("feeds", nargs="*", metavar="FEED_URL", help="feeds to follow (and remember)")
    p.add_argument("--every", default=None, help="poll interval, e.g. 15m, 1h (default: 15m)")
    p.add_argument("--once", action="store_true", help="check the feeds once and exit")
    p.set_defaults(func=cmd_follow)

    p = subparsers.add_parser("unfollow", help="stop following a feed")
    p.add_argument("feed", metavar="FEED_URL_OR_NUMBER")
    p.set_defaults(func=cmd_unfollow)

    p = subparsers.add_parser("feeds", help="list followed feeds, last check and errors")
    p.set_defaults(func=cmd_feeds)

    p = subparsers.add_parser("latest", help="list the newest articles")
    p.add_argument("-n", type=_positive, default=10, help="how many (default 10)")
    p.set_defaults(func=cmd_latest)
