"""chromadb imported without its gRPC exporter and httpx's CLI, which still work when called."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import sys
    from retrieval.chroma_import import DEFERRED, HIDDEN, import_chromadb

    chromadb = import_chromadb()
    assert import_chromadb() is chromadb
    skipped = ("grpc", "google.protobuf", "click", "rich", "tornado")
    loaded = [m for m in skipped if m in sys.modules]
    assert not loaded, loaded
    assert not any(m in sys.modules for m in [*DEFERRED, *HIDDEN]), "a stand-in stayed behind"
    import tenacity
    import tornado.web  # hidden only while chromadb was imported

    assert tenacity.tornado is None and tornado.web.Application

    from chromadb.telemetry import opentelemetry as otel

    exporter = otel.OTLPSpanExporter(endpoint="http://127.0.0.1:9")
    assert type(exporter).__module__.endswith("grpc.trace_exporter"), type(exporter)
    import httpx

    try:
        httpx.main(["--help"])  # httpx's command, bound to the stand-in's entry point
    except SystemExit as done:
        assert done.code == 0, done
    import httpx._main

    assert httpx._main.__file__ and "click" in sys.modules  # the real one, on request
    print("ok")
    """
)


def test_chromadb_imports_without_the_deferred_modules_which_still_work() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "Usage" in out.stdout and out.stdout.strip().endswith("ok")
