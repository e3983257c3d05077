"""The registry of benchmark phases: what runs in a worker process, and how it is reported.

To add a phase, write `phase(settings, args) -> dict` in a module of this package (the dict
carries a `report` string for the terminal and docs/benchmarks.md) and add one `Phase` line
to PHASES; `--skip NAME` leaves it out of a run.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from retrieval.config import Settings

PhaseFn = Callable[[Settings, argparse.Namespace], dict[str, Any]]


@dataclass(frozen=True)
class Phase:
    """One measured phase, run by `python -m benchmarks.worker NAME`."""

    name: str
    target: str  # "module:function", imported in the worker only
    intro: str = ""  # printed by the runner before the phase
    llm: str = "off"  # NEWSDESK_LLM of the worker
    reported: bool = True  # run after the index sizes, on the seed index; has a `report`

    def load(self) -> PhaseFn:
        """Import the phase's function."""
        module, _, name = self.target.partition(":")
        return cast(PhaseFn, getattr(importlib.import_module(module), name))


PHASES: dict[str, Phase] = {
    p.name: p
    for p in (
        # The index phases: the runner calls them per corpus size and builds the table.
        Phase("ingest", "benchmarks.index:ingest_phase", reported=False),
        Phase("serve", "benchmarks.index:serve_phase", reported=False),
        Phase("live", "benchmarks.live:phase", reported=False),
        # Reported phases, in the order they run.
        Phase(
            "telegram",
            "benchmarks.telegram:phase",
            "telegram: 100 chats x 5 questions against the fake Bot API ...",
        ),
        Phase(
            "alerts",
            "benchmarks.alerts:phase",
            "alerts: 1,000 subscribed chats, one matching article, against the fake Bot API ...",
        ),
        Phase(
            "llm",
            "benchmarks.llm:phase",
            "llm: local llama.cpp server with the packaged tiny model ...",
            llm="local",
        ),
    )
}


def reported_phases(skip: set[str]) -> list[Phase]:
    """The reported phases of a run, in order, without those skipped."""
    return [p for p in PHASES.values() if p.reported and p.name not in skip]
