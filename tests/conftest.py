"""Shared fixtures: the real embedding model, settings on a temp dir, a seeded service, the
scripted OpenAI-compatible server (tests/auxil/llm_fakes.py) with an answerer on it, the fake
Bot API and the local news site."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.service import Newsdesk
from retrieval.store import Store
from retrieval.types import Passage
from tests.auxil.fake_bot_api import FakeBotAPI
from tests.auxil.llm_fakes import ScriptedLLM, seed_passages
from tests.web_fixtures.server import Site, serve_site

if TYPE_CHECKING:
    from retrieval.llm.answerer import LLMAnswerer

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SHARED_EVAL = REPO.parent / "shared" / "eval"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_settings(data_dir: Path, **kw: object) -> Settings:
    """Settings for tests: no .env, no LLM, data under a temp dir."""
    kw.setdefault("llm", "off")
    return Settings(_env_file=None, data_dir=data_dir, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def embedder() -> OnnxMiniLM:
    """The real int8 MiniLM, loaded once per test session."""
    return OnnxMiniLM()


def open_service(settings: Settings, embedder: OnnxMiniLM) -> Newsdesk:
    """Open a service reusing the session's embedding model."""
    return Newsdesk(settings, Store(settings, embedder.model_id, embedder.dim), embedder)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def service(settings: Settings, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    svc = open_service(settings, embedder)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, embedder: OnnxMiniLM) -> Path:
    """A data dir with seeds/ ingested once; copy it to use it."""
    data = tmp_path_factory.mktemp("seeded") / "data"
    svc = open_service(make_settings(data), embedder)
    svc.ingest([SEEDS])
    svc.close()
    return data


def service_on_copy(src: Path, tmp_path: Path, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    """Yield a service over a private copy of the index in `src`, closed afterwards."""
    data = tmp_path / "data"
    shutil.copytree(src, data)
    svc = open_service(make_settings(data), embedder)
    yield svc
    svc.close()


@pytest.fixture
def seeded_service(tmp_path: Path, seeded_dir: Path, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    """A service over a private copy of the seeded index."""
    yield from service_on_copy(seeded_dir, tmp_path, embedder)


@pytest.fixture
def fake() -> Iterator[ScriptedLLM]:
    """A scripted OpenAI-compatible server on 127.0.0.1."""
    with ScriptedLLM() as server:
        yield server


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """A fake Bot API on 127.0.0.1 (tests/auxil/fake_bot_api.py)."""
    with FakeBotAPI() as fake_api:
        yield fake_api


@pytest.fixture
def site() -> Iterator[Site]:
    """The tests' small news site on 127.0.0.1 (tests/web_fixtures)."""
    with serve_site() as s:
        yield s


def llm_settings(tmp_path: Path, fake: ScriptedLLM, **kw: object) -> Settings:
    """Settings for an LLM answerer on the scripted server (data under tmp_path/data)."""
    kw.setdefault("llm_timeout", 5.0)
    return make_settings(
        tmp_path / "data",
        llm="auto",
        openai_base_url=fake.base_url,
        openai_api_key="sk-test",
        llm_model="test-model",
        **kw,
    )


@pytest.fixture
def llm(tmp_path: Path, fake: ScriptedLLM) -> Iterator[LLMAnswerer]:
    """An LLM answerer on the scripted server."""
    from retrieval.llm.answerer import LLMAnswerer

    answerer = LLMAnswerer(llm_settings(tmp_path, fake))
    yield answerer
    answerer.close()


@pytest.fixture
def passages() -> list[Passage]:
    """Two passages cut from the seed article: [1] White House, [2] Germany."""
    return seed_passages()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for running `newsdesk` in a subprocess: offline, no LLM, temp data."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSDESK_", "OPENAI_", "TELEGRAM_", "CHROMA_"))
    }
    env.update(
        {
            "NEWSDESK_DATA_DIR": str(data_dir),
            "NEWSDESK_LLM": "off",
            "NEWSDESK_ENV_FILE": "",  # a developer's .env must not leak into the tests
            "HF_HUB_OFFLINE": "1",
        }
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real `newsdesk` entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=REPO,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_chroma(path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start a real `chroma run` server on 127.0.0.1 with its data in `path`; wait until up."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(exe).exists():
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    log = (path / "server.log").open("w")
    proc = subprocess.Popen(
        [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma server exited: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma server did not start within 60 s")


def stop_chroma(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on 127.0.0.1, started for the session and stopped after."""
    proc, port = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield "127.0.0.1", port
    stop_chroma(proc)
