"""`python -m benchmarks.compare`: answer latency of two source trees, interleaved in one run.

Each tree (a git worktree, say the branch point and the change) answers in its own process
over the same index, question by question in a shuffled order, so both see the same load:
RealTime QA dev questions as of their dates, extractive mode, the way `eval answers` asks
them. Prints p50 / p95 of the whole answer for all questions, those with a time phrase and
the others, the per-stage timings, the load average, and whether both gave the same answers.

The server side (`--serve`) imports only `retrieval` and `bot`, from the tree on its
PYTHONPATH, so an older tree without this file can be measured too. Example (the change
against its branch point, checked out with `git worktree add --detach ../base BRANCH_POINT`):
    python -m benchmarks.compare --before ../base --after . --index-dir DATA_DIR
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STAGES = ("embed_ms", "vector_ms", "bm25_ms", "rerank_ms", "retrieve_ms")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    p.add_argument("--before", type=Path, help="source tree measured first (e.g. a worktree)")
    p.add_argument("--after", type=Path, help="source tree measured against it")
    p.add_argument("--index-dir", type=Path, help="data dir of a built index (only read)")
    p.add_argument("--questions", type=Path, default=None, help="default: RealTime QA dev")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="write every answer's timings here")
    p.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    return p


def serve(index_dir: Path) -> None:
    """Answer JSON lines {question, as_of} from stdin; print one JSON result per line."""
    from datetime import date

    from bot.cli import load_settings
    from retrieval.evaluation.runner import eval_settings
    from retrieval.service import Newsdesk

    svc = Newsdesk.open(eval_settings(load_settings(), index_dir), with_llm=False)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        q = json.loads(line)
        started = time.perf_counter()
        ans, res = svc.answer_traced(q["question"], as_of=date.fromisoformat(q["as_of"]))
        total = (time.perf_counter() - started) * 1000
        row = {"total_ms": total, "timings": ans.timings_ms, "answer": ans.answer}
        print(json.dumps({**row, "passages": [p.chunk_id for p in res.passages]}), flush=True)
    svc.close()


class Tree:
    """One tree's answering process."""

    def __init__(self, tree: Path, index_dir: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree), "NEWSDESK_ENV_FILE": ""}
        self.proc = subprocess.Popen(
            # -P: not benchmarks/ first on sys.path (its telegram.py would shadow the library)
            [sys.executable, "-P", str(Path(__file__).resolve()), "--serve", str(index_dir)],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()  # ready

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the answering process exited ({self.proc.wait()})")
        out: dict[str, Any] = json.loads(line)
        return out

    def ask(self, question: str, as_of: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"question": question, "as_of": as_of}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def compare(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Ask every question of both trees in a shuffled order; return one row per question."""
    from benchmarks import RTQA
    from retrieval.evaluation.quiz import load_quiz
    from retrieval.timephrases import parse_window

    quiz = load_quiz(args.questions or RTQA / "questions_dev.jsonl")
    qs = [(q.qid, q.question, q.as_of) for q in quiz if q.as_of][: args.limit]
    trees = {"before": Tree(args.before, args.index_dir), "after": Tree(args.after, args.index_dir)}
    rng = random.Random(0)
    rows: list[dict[str, Any]] = []
    try:
        for tree in trees.values():  # warm up: first question loads models and caches
            tree.ask(qs[0][1], qs[0][2].isoformat())
        for qid, question, as_of in qs:
            row: dict[str, Any] = {"qid": qid, "window": bool(parse_window(question, as_of))}
            for name in rng.sample(sorted(trees), 2):
                row[name] = trees[name].ask(question, as_of.isoformat())
            rows.append(row)
            row["load"] = os.getloadavg()[0]
    finally:
        for tree in trees.values():
            tree.close()
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    """p50 / p95 per part and stage, the load and answer agreement."""
    from retrieval.metrics import percentile  # here: serve() runs in trees without it

    loads = [r["load"] for r in rows]
    lines = [f"load average (1 min) {min(loads):.2f}-{max(loads):.2f}, {len(rows)} questions"]
    parts = {
        "all": rows,
        "time phrase": [r for r in rows if r["window"]],
        "no phrase": [r for r in rows if not r["window"]],
    }
    for part, rs in parts.items():
        cells = [f"{part:<12} n={len(rs):<4}"]
        for name in ("before", "after"):
            t = [r[name]["total_ms"] for r in rs]
            cells.append(f"{name} p50/p95 {percentile(t, 50):4.0f}/{percentile(t, 95):4.0f} ms")
        lines.append("  ".join(cells))
    for stage in STAGES:
        cells = [f"{stage:<12}"]
        for name in ("before", "after"):
            t = [r[name]["timings"].get(stage, 0.0) for r in rows]
            cells.append(f"{name} p50/p95 {percentile(t, 50):4.0f}/{percentile(t, 95):4.0f} ms")
        lines.append("  ".join(cells))
    same = sum(r["before"]["answer"] == r["after"]["answer"] for r in rows)
    same_p = sum(r["before"]["passages"] == r["after"]["passages"] for r in rows)
    lines.append(f"same answers {same}/{len(rows)}, same passages {same_p}/{len(rows)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    if not (args.before and args.after and args.index_dir):
        raise SystemExit("give --before TREE --after TREE --index-dir DIR")
    rows = compare(args)
    if args.out is not None:
        args.out.write_text(json.dumps(rows))
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
