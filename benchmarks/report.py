"""The benchmark report: one Markdown table with targets, the phases' reports, a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGETS = {
    "ingest_ratio": ">= 0.8",
    "seed answer p95": "<= 100 ms",
    "full answer p95": "<= 250 ms",
    "full retrieval p95": "<= 50 ms",
    "cold start": "<= 1.5 s",
    "ingest RSS": "<= 800 MB",
    "serve RSS": "<= 500 MB",
    "live add": "<= 2 s",
    "live reader": "max <= 500 ms",
}


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
        rows += _live_rows(name, s.get("live"))
    width = max(len(a) for a, _, _ in rows)
    lines = [f"| {'measure'.ljust(width)} | value | target |", f"|{'-' * (width + 2)}|---|---|"]
    lines += [f"| {a.ljust(width)} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def _live_rows(name: str, live: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """The live phase at one size: adding an article while a reader asks questions."""
    if not live:
        return []
    during = live["reader_during"]
    reader = "-"
    if during.get("n"):
        reader = f"{during['p50_ms']:.0f} / {during['p95_ms']:.0f} / {during['max_ms']:.0f}"
    return [
        (
            f"{name}: add one article while reading, median of 3 (s)",
            f"{live['ingest_median_seconds']:.2f}",
            TARGETS["live add"],
        ),
        (
            f"{name}: reader during the adds p50 / p95 / max (ms)",
            reader
            + ("" if not live["reader_errors"] else f" ({len(live['reader_errors'])} errors)"),
            TARGETS["live reader"],
        ),
        (
            f"{name}: live peak RSS serving / with the adds (MB)",
            f"{live['serve_peak_rss_mb']:.0f} / {live['ingest_peak_rss_mb']:.0f}",
            f"{TARGETS['serve RSS']} / {TARGETS['ingest RSS']}",
        ),
    ]


def markdown(r: dict[str, Any], table: str, reports: list[str]) -> str:
    """docs/benchmarks.md: how it was measured, the table, each phase's report, the plot."""
    extra = "".join(f"\n```\n{rep}\n```\n" for rep in reports)
    return (
        "# Benchmarks\n\n"
        f"Measured by `python -m benchmarks` on {r['measured_at']} (2 cores, int8 MiniLM ONNX, "
        "embedded Chroma), every number from the same run. Each phase runs in its own process, "
        "so peak RSS is per phase; cold start is the median of five fresh `newsdesk ask` processes "
        "with Python's bytecode cache, as an installed bot has it. Reproduce: `make bench` "
        "(uses ../shared/eval/realtimeqa; the "
        "indexes are kept under DATA_DIR/bench and reused; the first run embeds the whole corpus, "
        "about 26 minutes here, and `--full-index DIR` reuses an `eval retrieval` index).\n\n"
        f"{table}\n{extra}\n![latency against corpus size](benchmarks.png)\n"
    )


def plot(r: dict[str, Any], path: Path) -> None:
    """Latency against corpus size (needs matplotlib, the `bench` extra)."""
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
