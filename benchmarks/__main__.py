"""`python -m benchmarks` (`make bench`): speed and memory, measured side by side in one run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import DOCS, REPO, RTQA, SEED_QA, SEEDS
from benchmarks.phases import PHASES, reported_phases
from benchmarks.report import markdown, plot, render_table
from bot.cli import load_settings
from retrieval.dates import parse_date
from retrieval.evaluation.data import question_text

QUESTION = "What did Germany say about Macron's remarks?"


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure ingest throughput, latency and memory."
    )
    p.add_argument("--corpus", type=Path, default=RTQA / "corpus.jsonl")
    p.add_argument("--questions", type=Path, default=RTQA / "questions_dev.jsonl")
    p.add_argument("--sizes", default="seed,500,all", help="comma list: seed, N articles, all")
    p.add_argument("--work-dir", type=Path, default=None, help="indexes (default DATA_DIR/bench)")
    p.add_argument("--full-index", type=Path, default=None, help="reuse this data dir for 'all'")
    p.add_argument("--throughput-articles", type=int, default=60)
    p.add_argument("--n-questions", type=int, default=40)
    p.add_argument("--out", type=Path, default=DOCS / "benchmarks.md")
    p.add_argument("--plot", type=Path, default=DOCS / "benchmarks.png")
    names = ", ".join(p.name for p in reported_phases(set()))
    p.add_argument("--skip", default="", help=f"comma list of phases to skip: {names}")
    p.add_argument("--json", action="store_true")
    return p


def _worker(data_dir: Path, phase: str, *argv: str) -> dict[str, Any]:
    """Run one phase in a fresh process on `data_dir`; return the JSON it printed last."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_LLM": PHASES[phase].llm}
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", phase, *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise SystemExit(f"benchmark phase {phase} failed (exit {res.returncode})")
    result: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


def _questions(args: argparse.Namespace, seed: bool, work: Path) -> Path:
    """Write the question list for a serve worker: seed QA, or RealTime QA with as-of dates."""
    out: list[dict[str, Any]] = []
    if seed:
        qa = [json.loads(line) for line in SEED_QA.open()]
        out = [{"question": q["question"]} for q in qa] * 5
    else:
        for lineno, line in enumerate(args.questions.open(), 1):
            q = json.loads(line)
            if q.get("gold_doc_ids"):
                day = parse_date(q.get("question_date"))
                text = question_text(q, args.questions, lineno)
                out.append({"question": text, "as_of": day.isoformat() if day else None})
            if len(out) >= args.n_questions:
                break
    path = work / ("questions-seed.json" if seed else "questions-rtqa.json")
    path.write_text(json.dumps(out))
    return path


def _cold_start(data_dir: Path) -> float:
    """Median wall time of `newsdesk ask` in a new process, over five runs.

    With bytecode caching on, as an installed bot has it (pip compiles on install): one
    untimed run first writes the cache where PYTHONDONTWRITEBYTECODE kept it from being.
    """
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_LLM": "off"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for run in range(6):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", QUESTION],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        if run:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def _sizes(args: argparse.Namespace, work: Path, have_corpus: bool) -> list[dict[str, Any]]:
    """Ingest (incrementally) and time questions at every corpus size."""
    rows = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        if size != "seed" and not have_corpus:
            print(f"skipping size {size}: no corpus at {args.corpus}")
            continue
        if size == "seed":
            data, src, limit = work / "seed", SEEDS, None
        elif size == "all":
            data, src, limit = (args.full_index or work / "all"), args.corpus, None
        else:
            data, src, limit = work / f"n{size}", args.corpus, int(size)
        print(f"size {size}: ingesting (incremental) into {data} ...")
        ing = _worker(
            data, "ingest", "--source", str(src), *(["--limit", str(limit)] if limit else [])
        )
        q = _questions(args, size == "seed", work)
        print(f"size {size}: timing questions ...")
        srv = _worker(data, "serve", "--questions-json", str(q))
        row = {"size": size, **ing, **srv}
        if size != "seed":
            print(f"size {size}: one new article at a time while a reader asks ...")
            row["live"] = _worker(data, "live", "--questions-json", str(q))
        rows.append(row)
    return rows


def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Run every phase, print a table, write docs/benchmarks.md and a plot."""
    work = (args.work_dir or data_dir / "bench").resolve()
    work.mkdir(parents=True, exist_ok=True)
    have_corpus = args.corpus.is_file()
    results: dict[str, Any] = {}

    tp_dir = work / f"throughput-{os.getpid()}"
    source = args.corpus if have_corpus else SEEDS
    print(f"throughput: ingesting {args.throughput_articles} articles into a fresh index ...")
    results["throughput"] = _worker(
        tp_dir, "ingest", "--source", str(source), "--limit", str(args.throughput_articles)
    )
    shutil.rmtree(tp_dir, ignore_errors=True)

    results["sizes"] = _sizes(args, work, have_corpus)
    results["cold_start_seconds"] = _cold_start(work / "seed")
    reports = []
    for phase in reported_phases({x.strip() for x in args.skip.split(",")}):
        print(phase.intro or f"{phase.name} ...")
        results[phase.name] = _worker(work / "seed", phase.name)
        reports.append(results[phase.name]["report"])
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    table = render_table(results)
    print(table)
    print("\n".join(reports))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(results, table, reports))
    plot(results, args.plot)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m benchmarks`."""
    args = build_parser().parse_args(argv)
    results = run(args, load_settings().data_dir)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
