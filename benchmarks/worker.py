"""`python -m benchmarks.worker PHASE`: run one phase in this process and print its JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.phases import PHASES
from bot.cli import load_settings, start_logging


def build_parser() -> argparse.ArgumentParser:
    """The worker's arguments: the phase and what the index phases need."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    p.add_argument("phase", choices=sorted(PHASES))
    p.add_argument("--source", type=Path, action="append", default=[])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--questions-json", type=Path, default=None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the phase with the environment's settings; the last stdout line is its JSON."""
    args = build_parser().parse_args(argv)
    settings = load_settings()
    start_logging(settings)
    result = PHASES[args.phase].load()(settings, args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
