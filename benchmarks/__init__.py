"""Speed and memory benchmarks, run by `make bench` (`python -m benchmarks`); not in the wheel.

Every phase runs in its own process (`python -m benchmarks.worker PHASE`), so peak RSS is per
phase; the runner prints one table and writes docs/benchmarks.md and docs/benchmarks.png.
Paths to the repo's test data and ../shared live here, not in the product.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SEED_QA = REPO / "tests" / "fixtures" / "seed_dev_qa.jsonl"
RTQA = REPO.parent / "shared" / "eval" / "realtimeqa"
DOCS = REPO / "docs"
