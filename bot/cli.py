"""The `newsdesk` command: parse arguments, build settings and the service, dispatch."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.resources import files
from pathlib import Path

from pydantic import ValidationError

from bot import alerts_cli, eval_cli, live_cli, llm_cli
from bot.args import date_arg
from bot.logsetup import configure_logging, log_internal_error
from bot.render import render_answer
from retrieval.config import Settings
from retrieval.errors import ConfigError, IndexInUseError, NewsdeskError
from retrieval.service import Newsdesk
from retrieval.types import Answer

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, Settings], int]
# Feature modules that add subcommands: each has register(subparsers).
COMMAND_MODULES = (llm_cli, eval_cli, live_cli, alerts_cli)
# Modules of the optional extras (pyproject.toml), imported only by the features that need them.
EXTRAS = {"trafilatura": "live", "feedparser": "live", "xllamacpp": "local-llm"}
ERROR_LOG = "errors.log"  # in NEWSDESK_DATA_DIR: tracebacks of internal errors
EXIT_ERROR, EXIT_CONFIG, EXIT_IN_USE, EXIT_INTERNAL = 1, 2, 3, 70  # 70: EX_SOFTWARE


def default_seeds() -> Path:
    """The shipped coverage: the seeds/ folder, installed as the package `bot.seeds`."""
    root = files("bot.seeds")
    if not isinstance(root, Path):  # not unpacked on disk (a zip import): cannot be walked
        raise ConfigError(f"seeds at {root} are not a folder", user_message="No seeds folder.")
    return root


def _is_url(arg: str) -> bool:
    return arg.startswith(("http://", "https://"))


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest files, folders and URLs; print the summary."""
    targets: list[str] = args.paths or [str(default_seeds())]
    urls = [t for t in targets if _is_url(t)]
    paths = [t for t in targets if not _is_url(t)]
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        if args.rebuild:
            svc.rebuild()
        report = svc.ingest(paths, prune=args.prune, progress=True) if paths else None
        if urls:
            from retrieval.web import ingest_urls, require_extractor

            require_extractor()

            print(asyncio.run(ingest_urls(svc, settings, urls)).summary())
        if report is not None:
            print(report.summary())
    finally:
        svc.close()
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question and print it (or one JSON object with --json)."""
    if args.batch is not None:
        from bot.batch import run_batch

        return run_batch(args.batch, settings, as_of=args.as_of)
    if not args.question:
        print("newsdesk ask: give a question (or --batch FILE)", file=sys.stderr)
        return 2
    svc = Newsdesk.open(settings)
    try:
        answer = svc.answer(" ".join(args.question), as_of=args.as_of)
    finally:
        svc.close()
    return _print_answer(answer, as_json=args.json)


def cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    """Print a briefing: the newest articles, or the most relevant to a topic."""
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        answer = svc.brief(" ".join(args.topic), as_of=args.as_of)
    finally:
        svc.close()
    return _print_answer(answer, as_json=args.json)


def _print_answer(answer: Answer, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Open the REPL."""
    from bot.repl import Repl

    svc = Newsdesk.open(settings)
    try:
        return Repl(svc, settings, as_of=args.as_of).run()
    finally:
        svc.close()


def cmd_telegram(args: argparse.Namespace, settings: Settings) -> int:
    """Run the Telegram bot."""
    from bot.telegram.app import run_bot

    if settings.telegram_bot_token is None:
        print("TELEGRAM_BOT_TOKEN is not set (see README: create a bot with BotFather).")
        return 2
    svc = Newsdesk.open(settings)
    try:
        return run_bot(settings, svc)
    finally:
        svc.close()


def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest the shipped coverage (instant when unchanged), then the bot or the REPL."""
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        report = svc.ingest([default_seeds()], progress=True)
        if report.written or report.skipped:
            print(report.summary())
    finally:
        svc.close()
    if settings.telegram_bot_token is not None:
        return cmd_telegram(args, settings)
    return cmd_chat(args, settings)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the index holds."""
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        s = svc.stats()
    finally:
        svc.close()
    span = f"{s.first_published} to {s.last_published}" if s.first_published else "no dates"
    print(f"{s.articles} articles, {s.chunks} chunks, outlets: {', '.join(s.outlets) or '-'}")
    print(f"published: {span}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="newsdesk", description="Answer questions about news coverage, with citations."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("start", help="ingest seeds/, then the Telegram bot or the REPL")
    p.add_argument("--as-of", type=date_arg, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("ingest", help="ingest files, folders (.txt .md .jsonl) or URLs")
    p.add_argument("paths", nargs="*", help="files, folders or URLs (default: seeds/)")
    p.add_argument("--prune", action="store_true", help="drop articles whose source is gone")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it anew")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer one question (or many with --batch)")
    p.add_argument("question", nargs="*")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--as-of", type=date_arg, default=None, help="answer as of YYYY-MM-DD")
    p.add_argument(
        "--batch",
        type=Path,
        default=None,
        metavar="FILE",
        help="JSON lines of {question, as_of?, history?}: one JSON answer per line, in order",
    )
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("brief", help="a briefing: the newest coverage, or on a topic")
    p.add_argument("topic", nargs="*", help='e.g. "Ukraine", "this week" (default: all)')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--as-of", type=date_arg, default=None, help="as of YYYY-MM-DD")
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser("chat", help="interactive REPL")
    p.add_argument("--as-of", type=date_arg, default=None, help="answer as of YYYY-MM-DD")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("telegram", help="run the Telegram bot")
    p.set_defaults(func=cmd_telegram)

    p = sub.add_parser("stats", help="what the index holds")
    p.set_defaults(func=cmd_stats)

    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def load_settings() -> Settings:
    """Settings from the environment and .env (NEWSDESK_ENV_FILE picks another; empty: none)."""
    env_file = os.environ.get("NEWSDESK_ENV_FILE", ".env") or None
    return Settings(_env_file=env_file)


def secrets_of(settings: Settings) -> list[str]:
    """The secret values that must never reach a log."""
    return [
        s.get_secret_value()
        for s in (settings.telegram_bot_token, settings.openai_api_key, settings.webhook_secret)
        if s is not None
    ]


def start_logging(settings: Settings) -> None:
    """Log to stderr at NEWSDESK_LOG_LEVEL, secrets redacted."""
    configure_logging(settings.log_level, secrets_of(settings))


def missing_extra(exc: ImportError) -> str | None:
    """The optional extra whose module is missing, if `exc` is that; else None."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    return EXTRAS.get(exc.name.split(".")[0])


def internal_error(exc: Exception, settings: Settings, argv: Sequence[str]) -> int:
    """Log a bug's traceback (DATA_DIR/errors.log, else stderr); print one line."""
    logger.debug("internal error", exc_info=exc)
    path = settings.data_dir / ERROR_LOG
    if log_internal_error(exc, path, argv):
        where = str(path)
    else:
        logger.error("internal error", exc_info=exc)
        where = "the log above"
    print(f"newsdesk: internal error ({type(exc).__name__}); see {where}", file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsdesk` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"newsdesk: configuration error in {first['loc']}: {first['msg']}", file=sys.stderr)
        return EXIT_CONFIG
    start_logging(settings)
    func: Handler = args.func
    try:
        return func(args, settings)
    except IndexInUseError as exc:
        print(f"newsdesk: {exc.user_message}", file=sys.stderr)
        return EXIT_IN_USE
    except NewsdeskError as exc:
        logger.debug("failed", exc_info=True)
        print(f"newsdesk: {exc.user_message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except ImportError as exc:
        extra = missing_extra(exc)
        if extra is None:
            return internal_error(exc, settings, argv)
        print(
            f"newsdesk: `{args.command}` needs the optional `{extra}` extra "
            f"(pip install 'newsdesk[{extra}]').",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except Exception as exc:  # a bug: the traceback to the log, one line to the terminal
        return internal_error(exc, settings, argv)


if __name__ == "__main__":
    sys.exit(main())
