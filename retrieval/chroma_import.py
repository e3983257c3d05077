"""Import chromadb without the modules it (or its dependencies) import but a Newsdesk never runs.

- chromadb's telemetry imports the OTLP/gRPC span exporter (grpc and protobuf, about 150
  modules) and calls it only when `chroma_otel_collection_endpoint` is set;
- httpx imports its command-line client (click, rich, pygments) whenever those are installed,
  and only the `httpx` command calls it;
- tenacity (chromadb's retry library) imports tornado when it is installed (it is, for the
  bot's webhooks), to retry tornado coroutines, which nothing here has.

While chromadb is imported, each of the first two is a stand-in module whose entry point
imports the real module at its first call, so both still work; tornado is hidden, which gives
tenacity its documented no-tornado path (`tenacity.tornado = None`). All leave `sys.modules`
once chromadb is in, so a later import (the webhook server's tornado) gets the real module.
Together they are about a quarter of chromadb's import time, the longest step of a cold start
(docs/benchmarks.md). A module imported already is left as it is.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

# module -> the attribute the importing code binds (and calls later)
DEFERRED = {
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter": "OTLPSpanExporter",
    "httpx._main": "main",
}
# module -> the package whose import would bind it for good: hidden only while that is not in
HIDDEN = {"tornado": "tenacity"}
_lock = threading.Lock()


def _deferred(module: str, attr: str, stand_in: types.ModuleType) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get(module) is stand_in:
            del sys.modules[module]
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    return call


def import_chromadb() -> types.ModuleType:
    """Import chromadb (once; safe from any thread) and return it."""
    with _lock:
        if "chromadb" in sys.modules:
            return sys.modules["chromadb"]
        stand_ins: dict[str, types.ModuleType] = {}
        for module, attr in DEFERRED.items():
            if module.split(".")[0] in sys.modules:
                continue  # its package is in already: what it imported is settled
            stand_in = types.ModuleType(module, "Stand-in until the first call (chroma_import).")
            setattr(stand_in, attr, _deferred(module, attr, stand_in))
            stand_ins[module] = sys.modules[module] = stand_in
        hidden = [m for m, by in HIDDEN.items() if m not in sys.modules and by not in sys.modules]
        for module in hidden:
            sys.modules[module] = None  # type: ignore[assignment]  # `import` raises ImportError
        try:
            return importlib.import_module("chromadb")
        finally:
            for module, stand_in in stand_ins.items():
                if sys.modules.get(module) is stand_in:
                    del sys.modules[module]
            for module in hidden:
                if sys.modules.get(module, "") is None:
                    del sys.modules[module]
