"""The HTTP side of the fake Bot API: routing, form decoding and the scripted faults."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote


class Backend(Protocol):
    """What the HTTP layer needs from the fake (FakeBotAPI)."""

    token: str

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], float]: ...

    def file_bytes(self, path: str) -> bytes | None: ...


@dataclass
class Fault:
    """A fault to apply to the next calls of one method."""

    kind: str  # "429", "parse", "5xx", "timeout" (stall, then 500), "slow", "conflict"
    times: int = 1
    retry_after: int = 1
    delay: float = 3.0
    chat_id: int | None = None


class ApiError(Exception):
    """A Bot API error answer (HTTP status and description)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code


def json_field(value: Any) -> Any:
    """Decode a form field that carries JSON (reply_markup, reply_parameters)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def fault_response(fault: Fault) -> tuple[int, dict[str, Any], float]:
    if fault.kind == "429":
        desc = f"Too Many Requests: retry after {fault.retry_after}"
        params = {"retry_after": fault.retry_after}
        return 429, {"ok": False, "error_code": 429, "description": desc, "parameters": params}, 0
    if fault.kind == "parse":
        desc = "Bad Request: can't parse entities: Unsupported start tag at byte offset 0"
        return 400, {"ok": False, "error_code": 400, "description": desc}, 0.0
    if fault.kind == "5xx":
        return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, 0.0
    if fault.kind == "conflict":
        desc = (
            "Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running"
        )
        return 409, {"ok": False, "error_code": 409, "description": desc}, 0.0
    if fault.kind == "timeout":
        return 500, {"ok": False, "error_code": 500, "description": "timed out"}, fault.delay
    raise ValueError(f"unknown fault {fault.kind!r}")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up (timeouts, shutdown) are part of the script


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: Backend

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request stderr lines
        return

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (a timeout fault): nothing to do
            self.close_connection = True

    def do_GET(self) -> None:
        prefix = f"/file/bot{self.fake.token}/"
        path = unquote(self.path)
        if path.startswith(prefix):
            content = self.fake.file_bytes(path[len(prefix) :])
            if content is not None:
                self._reply(200, content, "application/octet-stream")
                return
        self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        prefix = f"/bot{self.fake.token}/"
        path = unquote(self.path)
        if not path.startswith(prefix):
            self._reply(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
            return
        method = path[len(prefix) :].split("?", 1)[0]
        ctype = self.headers.get("Content-Type", "")
        params: dict[str, Any]
        if "json" in ctype and raw:
            params = json.loads(raw)
        else:
            params = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        status, body, delay = self.fake.handle(method, params)
        if delay:
            time.sleep(delay)
        self._reply(status, json.dumps(body).encode())
