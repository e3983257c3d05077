"""`newsdesk bench`: speed and memory, measured side by side in one run."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrieval.config import Settings

REPO = Path(__file__).resolve().parent.parent
RTQA = REPO.parent / "shared" / "eval" / "realtimeqa"
SEED_QA = REPO / "tests" / "fixtures" / "seed_dev_qa.jsonl"
TARGETS = {
    "ingest_ratio": ">= 0.8",
    "seed answer p95": "<= 100 ms",
    "full answer p95": "<= 250 ms",
    "full retrieval p95": "<= 50 ms",
    "cold start": "<= 2.5 s",
    "ingest RSS": "<= 1 GB",
    "serve RSS": "<= 600 MB",
}


def register(sub: Any) -> None:
    """Add `bench` and its internal worker command."""
    p = sub.add_parser("bench", help="measure ingest throughput, latency and memory")
    p.add_argument("--corpus", type=Path, default=RTQA / "corpus.jsonl")
    p.add_argument("--questions", type=Path, default=RTQA / "questions_dev.jsonl")
    p.add_argument("--sizes", default="seed,500,all", help="comma list: seed, N articles, all")
    p.add_argument("--work-dir", type=Path, default=None, help="indexes (default DATA_DIR/bench)")
    p.add_argument("--full-index", type=Path, default=None, help="reuse this data dir for 'all'")
    p.add_argument("--throughput-articles", type=int, default=60)
    p.add_argument("--n-questions", type=int, default=40)
    p.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--plot", type=Path, default=REPO / "docs" / "benchmarks.png")
    p.add_argument("--skip", default="", help="comma list of phases to skip: telegram, llm")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)

    w = sub.add_parser("bench-worker", help=argparse.SUPPRESS)
    w.add_argument("phase", choices=["ingest", "serve", "telegram", "llm"])
    w.add_argument("--source", type=Path, action="append", default=[])
    w.add_argument("--limit", type=int, default=None)
    w.add_argument("--questions-json", type=Path, default=None)
    w.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run one measured phase in this process and print its JSON."""
    from retrieval.benchmark import dump, ingest_worker, serve_worker

    if args.phase == "ingest":
        print(dump(ingest_worker(settings, args.source, args.limit)))
    elif args.phase == "telegram":
        print(dump(_telegram_phase(settings)))
    elif args.phase == "llm":
        print(dump(_llm_phase(settings)))
    else:
        questions = json.loads(args.questions_json.read_text()) if args.questions_json else []
        print(dump(serve_worker(settings, questions)))
    return 0


def _telegram_phase(settings: Settings) -> dict[str, Any]:
    import logging

    from bot.telegram.bench import format_report, run_telegram_bench
    from retrieval.service import Newsdesk

    # 500 "Answered chat ..." lines would bury the table.
    for name in ("bot.telegram", "telegram"):
        logging.getLogger(name).setLevel(logging.WARNING)
    svc = Newsdesk.open(settings, with_llm=False)
    try:
        result = run_telegram_bench(settings, svc)
    finally:
        svc.close()
    result["report"] = format_report(result)
    return result


def _llm_phase(settings: Settings) -> dict[str, Any]:
    from retrieval.llm.bench import bench_service
    from retrieval.service import Newsdesk

    svc = Newsdesk.open(settings)
    try:
        questions = [json.loads(line)["question"] for line in SEED_QA.open()]
        result = bench_service(svc, questions)
    finally:
        svc.close()
    if result is None:
        return {"report": "LLM: not configured"}
    return {**result.summary(), "report": "\n".join(result.lines())}


def _worker(data_dir: Path, *argv: str, llm: str = "off") -> dict[str, Any]:
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_LLM": llm}
    res = subprocess.run(
        [sys.executable, "-m", "bot.cli", "bench-worker", *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise SystemExit(f"bench worker {argv[0]} failed (exit {res.returncode})")
    result: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


def _questions(args: argparse.Namespace, seed: bool, work: Path) -> Path:
    """Write the question list for a serve worker: seed QA, or RealTime QA with as-of dates."""
    out: list[dict[str, Any]] = []
    if seed:
        qa = [json.loads(line) for line in SEED_QA.open()]
        out = [{"question": q["question"]} for q in qa] * 5
    else:
        for line in args.questions.open():
            q = json.loads(line)
            if q.get("gold_doc_ids"):
                day = str(q.get("question_date", "")).replace("/", "-") or None
                out.append({"question": q["question_sentence"], "as_of": day})
            if len(out) >= args.n_questions:
                break
    path = work / ("questions-seed.json" if seed else "questions-rtqa.json")
    path.write_text(json.dumps(out))
    return path


def _cold_start(data_dir: Path) -> float:
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_LLM": "off"}
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "ask",
                "What did Germany say about Macron's remarks?",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run every phase, print a table, write docs/benchmarks.md and a plot."""
    work = (args.work_dir or settings.data_dir / "bench").resolve()
    work.mkdir(parents=True, exist_ok=True)
    have_corpus = args.corpus.is_file()
    results: dict[str, Any] = {"sizes": []}

    tp_dir = work / f"throughput-{os.getpid()}"
    source = args.corpus if have_corpus else REPO / "seeds"
    print(f"throughput: ingesting {args.throughput_articles} articles into a fresh index ...")
    results["throughput"] = _worker(
        tp_dir, "ingest", "--source", str(source), "--limit", str(args.throughput_articles)
    )
    subprocess.run(["rm", "-rf", str(tp_dir)], check=False)

    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        if size != "seed" and not have_corpus:
            print(f"skipping size {size}: no corpus at {args.corpus}")
            continue
        if size == "seed":
            data, src, limit = work / "seed", REPO / "seeds", None
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
        results["sizes"].append({"size": size, **ing, **srv})
    results["cold_start_seconds"] = _cold_start(work / "seed")
    skip = {x.strip() for x in args.skip.split(",")}
    reports = []
    if "telegram" not in skip:
        print("telegram: 100 chats x 5 questions against the fake Bot API ...")
        results["telegram"] = _worker(work / "seed", "telegram")
        reports.append(results["telegram"]["report"])
    if "llm" not in skip:
        print("llm: local llama.cpp server with the packaged tiny model ...")
        results["llm"] = _worker(work / "seed", "llm", llm="local")
        reports.append(results["llm"]["report"])
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    table = render_table(results)
    print(table)
    print("\n".join(reports))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_markdown(results, table, reports))
    _plot(results, args.plot)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def render_table(r: dict[str, Any]) -> str:
    """A Markdown table of every number, targets beside them."""
    tp = r["throughput"]
    rows = [
        ("raw embedding (chunks/s)", f"{tp.get('raw_chunks_per_s', float('nan')):.1f}", ""),
        ("ingest (chunks/s)", f"{tp.get('ingest_chunks_per_s', float('nan')):.1f}", ""),
        (
            "ingest / raw embedding",
            f"{tp.get('ingest_ratio', float('nan')):.2f}",
            TARGETS["ingest_ratio"],
        ),
        ("cold start to first answer (s)", f"{r['cold_start_seconds']:.2f}", TARGETS["cold start"]),
    ]
    for s in r["sizes"]:
        name = f"{s['size']} ({s['articles']} articles, {s['chunks']} chunks)"
        full = s["size"] == "all"
        answer_target = TARGETS["seed answer p95"] if s["size"] == "seed" else ""
        if full:
            answer_target = TARGETS["full answer p95"]
        rss = f"{s['ingest_peak_rss_mb']:.0f} / {s['serve_peak_rss_mb']:.0f}"
        rows += [
            (
                f"{name}: retrieval p50 / p95 (ms)",
                f"{s['retrieval_p50_ms']:.1f} / {s['retrieval_p95_ms']:.1f}",
                TARGETS["full retrieval p95"] if full else "",
            ),
            (
                f"{name}: answer p50 / p95 (ms)",
                f"{s['answer_p50_ms']:.1f} / {s['answer_p95_ms']:.1f}",
                answer_target,
            ),
            (
                f"{name}: peak RSS ingest / serve (MB)",
                rss,
                f"{TARGETS['ingest RSS']} / {TARGETS['serve RSS']}",
            ),
        ]
    width = max(len(a) for a, _, _ in rows)
    lines = [f"| {'measure'.ljust(width)} | value | target |", f"|{'-' * (width + 2)}|---|---|"]
    lines += [f"| {a.ljust(width)} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def _markdown(r: dict[str, Any], table: str, reports: list[str]) -> str:
    extra = "".join(f"\n```\n{rep}\n```\n" for rep in reports)
    return (
        "# Benchmarks\n\n"
        f"Measured by `newsdesk bench` on {r['measured_at']} (2 cores, int8 MiniLM ONNX, "
        "embedded Chroma), every number from the same run. Each phase runs in its own process, "
        "so peak RSS is per phase. Reproduce: `make bench` (uses ../shared/eval/realtimeqa; the "
        "indexes are kept under DATA_DIR/bench and reused; the first run embeds the whole corpus, "
        "about 26 minutes here, and `--full-index DIR` reuses an `eval retrieval` index).\n\n"
        f"{table}\n{extra}\n![latency against corpus size](benchmarks.png)\n"
    )


def _plot(r: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (make bench installs it)")
        return
    sizes = r["sizes"]
    if not sizes:
        return
    x = [s["articles"] for s in sizes]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (
        ("retrieval_p50_ms", "retrieval p50"),
        ("retrieval_p95_ms", "retrieval p95"),
        ("answer_p50_ms", "answer p50"),
        ("answer_p95_ms", "answer p95"),
    ):
        ax.plot(x, [s[key] for s in sizes], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("articles in the index")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Newsdesk latency against corpus size")
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
