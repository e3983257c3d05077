"""`newsdesk eval retrieval` and `newsdesk eval answers`: measure Newsdesk on known answers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.args import date_arg
from retrieval.config import Settings
from retrieval.evaluation.data import EvalDataError
from retrieval.service import Newsdesk

# The evaluation runners are imported by the commands that use them: every `newsdesk`
# command imports this module to register its parser (cold start).


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def cmd_eval_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    """Rank documents for every gold question and print Hits@k / MRR@10 per system."""
    from retrieval.evaluation.runner import format_retrieval_table, run_retrieval_eval

    result = run_retrieval_eval(
        settings,
        args.corpus,
        args.questions,
        baseline=args.baseline,
        k=args.k,
        index_dir=args.index_dir,
        limit=args.limit,
        body_only=args.body_only,
        progress=not args.json and sys.stderr.isatty(),
    )
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    if result.ingest is not None and result.ingest.written:
        print(result.ingest.summary())
    print(f"index: {result.index_dir}")
    print(format_retrieval_table(result))
    return 0


def cmd_eval_quiz(args: argparse.Namespace, settings: Settings) -> int:
    """RealTime QA mode: answer recall, exclusivity, ceiling, declines, latency per set."""
    from bot.cli import default_seeds
    from retrieval.evaluation.quiz_runner import format_quiz_table, run_quiz_eval

    if not args.corpus or len(args.corpus) != 1:
        raise EvalDataError("RealTime QA questions need one --corpus (the corpus.jsonl)")
    result = run_quiz_eval(
        settings,
        args.corpus[0],
        args.questions,
        seeds=default_seeds(),
        baseline=args.baseline,
        index_dir=args.index_dir,
        weeks=args.weeks,
        sets=[s.strip() for s in args.sets.split(",") if s.strip()],
        limit=args.limit,
        details=args.details,
        progress=not args.json and sys.stderr.isatty(),
    )
    if args.json:
        print(json.dumps(result.summary()))
    else:
        print(f"index: {result.index_dir}")
        print(format_quiz_table(result))
    return 0


def cmd_eval_answers(args: argparse.Namespace, settings: Settings) -> int:
    """Ask the seed questions through the bot's service and score the answers."""
    from retrieval.evaluation.data import load_seed_questions
    from retrieval.evaluation.quiz import is_quiz_file
    from retrieval.evaluation.runner import format_answers_table, run_answers_eval

    if is_quiz_file(args.questions):
        return cmd_eval_quiz(args, settings)
    questions = load_seed_questions(args.questions)
    if not questions:
        raise EvalDataError(f"No questions in {args.questions}")
    svc = Newsdesk.open(settings)
    try:
        if args.corpus:
            svc.ingest(args.corpus, progress=not args.json)
        elif svc.stats().articles == 0:
            from bot.cli import default_seeds

            svc.ingest([default_seeds()], progress=not args.json)
        result = run_answers_eval(
            svc, questions, as_of=args.as_of, progress=not args.json and sys.stderr.isatty()
        )
    finally:
        svc.close()
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(format_answers_table(result))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `eval retrieval` and `eval answers` to the `newsdesk` parser."""
    p = subparsers.add_parser("eval", help="measure retrieval and answers on known questions")
    sub = p.add_subparsers(dest="eval_command", required=True)

    r = sub.add_parser(
        "retrieval",
        help="Hits@k and MRR@10 of the bot's retriever (and vector, BM25, a baseline)",
    )
    r.add_argument("--corpus", type=Path, required=True, help="articles, one JSON a line")
    r.add_argument("--questions", type=Path, required=True, help="questions with gold_doc_ids")
    r.add_argument("--baseline", type=Path, default=None, help="rankings file to compare with")
    r.add_argument("--k", type=_positive, default=10, help="documents ranked per question")
    r.add_argument(
        "--index-dir", type=Path, default=None, help="index folder (default: under the data dir)"
    )
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.add_argument("--limit", type=_positive, default=None, help="only the first N questions")
    r.add_argument(
        "--body-only",
        action="store_true",
        help="index article bodies without headlines (an honest variant when titles leak)",
    )
    r.set_defaults(func=cmd_eval_retrieval)

    a = sub.add_parser(
        "answers",
        help="seed QA: pass rate, refusals, citations; RealTime QA: answer recall and more",
    )
    a.add_argument(
        "--questions", type=Path, required=True, help="seed QA or RealTime QA, one JSON a line"
    )
    a.add_argument(
        "--corpus",
        type=Path,
        nargs="*",
        default=None,
        help="ingest these first (default: seeds/ when the index is empty)",
    )
    a.add_argument("--as-of", type=date_arg, default=None, help="answer as of YYYY-MM-DD")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    q = a.add_argument_group("RealTime QA mode (questions with choices and answer_text)")
    q.add_argument("--baseline", type=Path, default=None, help="web-search results (removed set)")
    q.add_argument("--index-dir", type=Path, default=None, help="index folder of the corpus")
    q.add_argument(
        "--weeks",
        choices=("held-out", "tuning", "all"),
        default="all",
        help="every second week is held out from tuning (default: all, reported per part)",
    )
    q.add_argument(
        "--sets",
        default="answerable,off-topic,removed",
        help="comma-separated: answerable, off-topic (seed-only index), removed",
    )
    q.add_argument("--limit", type=_positive, default=None, help="only the first N questions")
    q.add_argument("--details", type=Path, default=None, help="write every check as JSON lines")
    a.set_defaults(func=cmd_eval_answers)
