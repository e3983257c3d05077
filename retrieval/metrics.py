"""The one percentile: latency figures in /stats, the evaluation and the benchmarks."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], pct: float) -> float:
    """Return the nearest-rank `pct`-th percentile (0-100) of `values`; 0.0 when empty."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return float(ordered[k])
