"""A process killed with SIGKILL mid-ingest leaves a store (and BM25) a re-run makes exact."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from retrieval.chunking import chunk_text
from retrieval.embedding import OnnxMiniLM
from retrieval.parse import parse_file
from retrieval.types import Article
from tests.conftest import REPO, cli_env, make_settings, open_service

TOPICS = ["harbour", "election", "drought", "vaccine", "railway", "festival", "strike", "summit"]
CITIES = ["Tallinn", "Riga", "Vilnius", "Gdansk", "Tartu", "Kaunas", "Turku", "Oulu", "Lodz"]


def _corpus(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            topic, city = TOPICS[i % len(TOPICS)], CITIES[i % len(CITIES)]
            body = " ".join(
                f"Paragraph {j} of report {i}: the {topic} in {city} drew {i * 7 + j} people, "
                f"officials said on day {j}."
                for j in range(16)
            )
            fh.write(
                json.dumps({"id": f"doc{i:03d}", "title": f"{topic} in {city} #{i}", "text": body})
                + "\n"
            )


def test_sigkill_mid_ingest_then_rerun_is_consistent(tmp_path: Path, embedder: OnnxMiniLM) -> None:
    corpus = tmp_path / "corpus.jsonl"
    _corpus(corpus, 150)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", str(corpus)],
        cwd=REPO,
        env=cli_env(data, NEWSDESK_INGEST_BATCH="16"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    marker = data / ".ingest-running"
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(2.0)  # let it write a few batches (about 10 chunks/s at the least)
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert marker.exists()

    settings = make_settings(data)
    svc = open_service(settings, embedder)
    report = svc.ingest([corpus])
    assert not marker.exists()
    expected = 0
    for item in parse_file(corpus, corpus):
        assert isinstance(item, Article)
        expected += len(chunk_text(item.doc_id, item.text, count=embedder.count_tokens))
    registry = svc.store.registry()
    assert len(registry) == 150
    metas = list(svc.store.iter_chunk_meta())
    assert len(metas) == expected == svc.store.count_chunks()
    keys = [(m.doc_id, m.chunk) for _, m in metas]
    assert len(keys) == len(set(keys))  # no duplicates
    assert all(registry[m.doc_id].version == m.version for _, m in metas)
    assert report.new + report.unchanged == 150
    # The lexical index holds exactly the registered version of every article, and finds them.
    assert svc.retriever.lexical.view().versions() == {d: r.version for d, r in registry.items()}
    hits = svc.retriever.search("festival in Kaunas report 149", system="bm25")
    assert hits and hits[0].meta.doc_id == "doc149"
    svc.close()
