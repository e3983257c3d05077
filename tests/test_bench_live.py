"""The live benchmark phase, small: articles added while a reader asks, then taken out again."""

from __future__ import annotations

from pathlib import Path

from benchmarks.live import build_parser, run
from retrieval.embedding import OnnxMiniLM
from tests.conftest import make_settings, service_on_copy


def test_live_phase_adds_and_removes_its_articles(
    tmp_path: Path, seeded_dir: Path, embedder: OnnxMiniLM
) -> None:
    data = tmp_path / "data"
    for svc in service_on_copy(seeded_dir, tmp_path, embedder):
        before = svc.stats().articles  # the copy, closed again before the phase opens it
    short = ["--repeat", "2", "--before-seconds", "0.3", "--after-seconds", "0.1"]
    opts = build_parser().parse_args(["--data-dir", str(data), *short, "--between-seconds", "0"])
    result = run(make_settings(data), [("Who is John Kirby?", None)], opts)
    assert result["ingest_new"] == 2 and result["new_article_found"]
    assert result["reader_errors"] == [] and result["reader_before"]["n"] >= 1
    assert result["articles"] == before
    for svc in service_on_copy(data, tmp_path / "again", embedder):
        assert svc.stats().articles == before, "the bench's articles are removed afterwards"
