"""A scripted OpenAI-compatible chat server on 127.0.0.1 for deterministic LLM tests."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from retrieval.types import Passage

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_4b8ec6e6b5196a5a.txt"


def seed_passages() -> list[Passage]:
    """Two hand-made passages cut from the seed article: [1] White House, [2] Germany."""
    text = SEED.read_text(encoding="utf-8")
    title = text.splitlines()[0].strip()
    macron = re.search(r"Macron\s+earlier", text)  # the seed has a no-break space here
    assert macron is not None
    spans = [
        (text.index("(RFE/RL)"), macron.start()),
        (text.index("Germany\u2019s defense"), text.index("During his visit")),
    ]
    return [
        Passage(
            chunk_id=f"seed:{i}",
            doc_id="seed",
            text=text[a:b].strip(),
            title=title,
            outlet="RFE/RL",
            published=date(2024, 3, 5),
            url="https://www.rferl.org/a/ukraine-troops",
            start=a,
            end=b,
        )
        for i, (a, b) in enumerate(spans)
    ]


@dataclass
class Reply:
    """One scripted response to a chat completion request."""

    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    hang: float = 0.0  # seconds to wait before answering (a stop() ends the wait)
    cut_after: int | None = None  # stream this many content chunks, then drop the connection
    chunk_delay: float = 0.0  # seconds before each streamed content chunk (a slow model)
    finish_reason: str = "stop"


Responder = Callable[[dict[str, Any]], Reply]


def deltas(text: str) -> list[str]:
    """Split text into word-sized stream deltas."""
    return re.findall(r"\s*\S+", text) or [text]


def echo_system(body: dict[str, Any]) -> Reply:
    """A model that repeats its system prompt."""
    return Reply(text=str(body["messages"][0]["content"]))


def passage_texts(body: dict[str, Any]) -> dict[int, str]:
    """Return the numbered passage texts found in the last user message."""
    user = str(body["messages"][-1]["content"])
    found = re.findall(r"<<<PASSAGE \[(\d+)\].*?\nText: (.*?)\nPASSAGE \[\1\]", user, re.S)
    return {int(n): t for n, t in found}


def quote_first_passage(body: dict[str, Any]) -> Reply:
    """A well-behaved model: quote the first full sentence of passage [1] and cite it."""
    texts = passage_texts(body)
    if not texts:
        return Reply(text="NOT IN COVERAGE")
    first = texts[min(texts)]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", first) if len(s.strip()) > 20]
    sentence = (sentences or [first.strip()])[0].rstrip(".")
    return Reply(text=f'The coverage reports: "{sentence}" [{min(texts)}].')


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        self._json(status, {"error": {"message": message, "type": code, "code": code}}, headers)

    def _authorised(self) -> bool:
        fake = self.server.fake
        if fake.api_key is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {fake.api_key}":
            return True
        self._error(401, "Incorrect API key provided.", "invalid_api_key")
        return False

    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path.rstrip("/") in ("/health", "/v1/health"):
            self._json(200, {"status": "ok"})
            return
        if self.path.rstrip("/") != "/v1/models":
            self._error(404, "not found", "not_found")
            return
        if not self._authorised():
            return
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in fake.models]
        self._json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, "not found", "not_found")
            return
        fake.requests.append(body)
        fake.arrived.append(time.monotonic())
        if not self._authorised():
            return
        model = str(body.get("model", ""))
        if fake.models and model not in fake.models:
            self._error(404, f"The model `{model}` does not exist.", "model_not_found")
            return
        reply = fake.next_reply(body)
        if reply.hang:
            fake.stopping.wait(reply.hang)
        try:
            if reply.status != 200:
                self._error(reply.status, reply.error or "scripted error", "error", reply.headers)
            elif body.get("stream"):
                self._stream(reply, model)
            else:
                self._complete(reply, model)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _complete(self, reply: Reply, model: str) -> None:
        self._json(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.text},
                        "finish_reason": reply.finish_reason,
                    }
                ],
            },
        )

    def _chunk(self, payload: dict[str, Any] | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        data = f"data: {text}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, reply: Reply, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        self._chunk(chunk({"role": "assistant", "content": ""}, None))
        for i, piece in enumerate(deltas(reply.text)):
            if reply.cut_after is not None and i >= reply.cut_after:
                # Drop the connection mid-body: no final chunk, no [DONE].
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if reply.chunk_delay and self.server.fake.stopping.wait(reply.chunk_delay):
                return
            self._chunk(chunk({"content": piece}, None))
        self._chunk(chunk({}, reply.finish_reason))
        self._chunk("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: ScriptedLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are part of the script


class ScriptedLLM:
    """An OpenAI-compatible server whose replies are scripted; records every request."""

    def __init__(
        self,
        *,
        models: tuple[str, ...] = ("test-model",),
        api_key: str | None = None,
        default: Reply | Responder | None = None,
    ) -> None:
        self.models = models
        self.api_key = api_key
        self.default: Reply | Responder = default or quote_first_passage
        self.script: deque[Reply | Responder] = deque()
        self.requests: list[dict[str, Any]] = []
        self.arrived: list[float] = []  # time.monotonic() of each chat request
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def env(self) -> dict[str, str]:
        """The environment that points a `newsdesk` process at this server."""
        return {
            "NEWSDESK_LLM": "auto",
            "OPENAI_BASE_URL": self.base_url,
            "OPENAI_API_KEY": self.api_key or "sk-test-key-never-logged",
            "NEWSDESK_LLM_MODEL": self.models[0],
        }

    def push(self, *replies: Reply | Responder) -> None:
        """Queue replies for the next requests (then the default applies)."""
        self.script.extend(replies)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        item = self.script.popleft() if self.script else self.default
        return item(body) if callable(item) else item

    def start(self) -> ScriptedLLM:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
