"""A fake Telegram Bot API server on 127.0.0.1 for the tests and the benchmarks.

It speaks the real HTTP protocol python-telegram-bot uses (form-encoded POSTs to
`/bot<token>/<method>`, file downloads from `/file/bot<token>/<path>`), keeps the chats'
messages and the answers to inline queries, validates HTML the way Telegram does (balanced
known tags, valid entities, text length) and injects faults on request: 429 with
`retry_after`, 400 "can't parse entities", 5xx, a timeout and 409 Conflict.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from tests.auxil.bot_api_http import ApiError, Fault, Handler, Server, fault_response
from tests.auxil.bot_api_methods import BotMethods, Call, Sent
from tests.auxil.telegram_html import ParseError, parse_telegram_html, utf16_len

__all__ = ["Call", "FakeBotAPI", "Fault", "ParseError", "Sent", "parse_telegram_html"]


class FakeBotAPI(BotMethods):
    """A Bot API server in a background thread; use as a context manager or start()/stop()."""

    def __init__(
        self, token: str = "123456:TEST-token_secret", *, username: str = "newsdesk_test_bot"
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.drafts: list[dict[str, Any]] = []
        self.inline_answers: dict[str, dict[str, Any]] = {}  # inline query id -> the answer
        self.pushed_at: dict[int, float] = {}  # question message id -> when it was pushed
        self.replies: dict[int, list[Sent]] = {}  # question message id -> messages replying to it
        self._lock = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeBotAPI:
        """Listen on a free port of 127.0.0.1."""
        api = self

        class BoundHandler(Handler):
            fake = api

        self._server = Server(("127.0.0.1", 0), BoundHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake every long poll."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The python-telegram-bot `base_url` (TELEGRAM_API_BASE_URL) of this server."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what a user does ----------------------------------------------------------------
    def user(self, user_id: int, *, is_bot: bool = False) -> dict[str, Any]:
        return {"id": user_id, "is_bot": is_bot, "first_name": f"User{user_id}"}

    def chat(self, chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
        kind = chat_type or ("private" if chat_id > 0 else "supergroup")
        if kind == "private":
            return {"id": chat_id, "type": kind, "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def push_message(
        self,
        chat_id: int,
        *,
        is_bot: bool = False,
        edited: bool = False,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to: int | None = None,
        **content: Any,
    ) -> int:
        """Queue an incoming message (any content fields) and return its message id."""
        message_id = next(self._message_ids)
        msg: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": self.user(user_id if user_id is not None else abs(chat_id), is_bot=is_bot),
            **content,
        }
        with self._lock:
            if reply_to is not None and (chat_id, reply_to) in self._messages:
                msg["reply_to_message"] = self._messages[(chat_id, reply_to)]
            self._messages[(chat_id, message_id)] = msg
            self.pushed_at[message_id] = time.monotonic()
            key = "edited_message" if edited else "message"
            if edited:
                msg["edit_date"] = int(time.time())
            self._updates.append({"update_id": next(self._update_ids), key: msg})
            self._lock.notify_all()
        return message_id

    def push_text(self, chat_id: int, text: str, **kwargs: Any) -> int:
        """Queue a text message; commands and @mentions of any name get their entities."""
        entities = [
            {"type": "bot_command" if m.group(0)[0] == "/" else "mention",
             "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
            for m in re.finditer(r"(?:^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?)|@[A-Za-z0-9_]{5,}", text)
        ]  # fmt: skip
        if entities:
            kwargs["entities"] = entities
        return self.push_message(chat_id, text=text, **kwargs)

    def push_photo(self, chat_id: int, **kwargs: Any) -> int:
        photo = [{"file_id": "photo1", "file_unique_id": "p1", "width": 90, "height": 90}]
        return self.push_message(chat_id, photo=photo, **kwargs)

    def push_document(self, chat_id: int, file_name: str, content: bytes, **kwargs: Any) -> int:
        """Queue an uploaded document whose bytes the bot can fetch with getFile."""
        file_id = f"doc{len(self._files) + 1}"
        with self._lock:
            self._files[file_id] = (f"documents/{file_id}_{file_name}", content)
        doc = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": "text/plain",
            "file_size": len(content),
        }
        return self.push_message(chat_id, document=doc, **kwargs)

    def push_callback(self, chat_id: int, message_id: int, data: str, *, user_id: int) -> str:
        """Queue a button press on a message the bot sent."""
        with self._lock:
            msg = self._messages[(chat_id, message_id)]
            query_id = f"cq{next(self._update_ids)}"
            cq = {
                "id": query_id,
                "from": self.user(user_id),
                "chat_instance": str(chat_id),
                "message": msg,
                "data": data,
            }
            self._updates.append({"update_id": next(self._update_ids), "callback_query": cq})
            self._lock.notify_all()
        return query_id

    def push_inline_query(self, user_id: int, query: str) -> str:
        """Queue an inline query (`@bot query` typed in some chat); return its id."""
        with self._lock:
            query_id = f"iq{next(self._update_ids)}"
            iq = {"id": query_id, "from": self.user(user_id), "query": query, "offset": "",
                  "chat_type": "private"}  # fmt: skip
            self._updates.append({"update_id": next(self._update_ids), "inline_query": iq})
            self._lock.notify_all()
        return query_id

    def inject(self, method: str, kind: str, **kwargs: Any) -> None:
        """Make the next call(s) of `method` fail; see `Fault` for the kinds."""
        with self._lock:
            self._faults.setdefault(method, []).append(Fault(kind, **kwargs))

    # -- what the tests read -------------------------------------------------------------
    def messages(self, chat_id: int | None = None) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if chat_id is None or s.chat_id == chat_id]

    def replies_to(self, message_id: int) -> list[Sent]:
        """Messages the bot sent as replies to `message_id`."""
        with self._lock:
            return list(self.replies.get(message_id, ()))

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition"
    ) -> None:
        """Poll `predicate` until true; fail with `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    async def wait_messages(
        self, chat_id: int, count: int = 1, timeout: float = 30.0
    ) -> list[Sent]:
        """Wait until the bot has sent at least `count` messages to `chat_id`."""
        await self.wait_for(
            lambda: len(self.messages(chat_id)) >= count, timeout, f"{count} messages to {chat_id}"
        )
        return self.messages(chat_id)

    # -- the server side -----------------------------------------------------------------
    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        faults = self._faults.get(method) or []
        for fault in faults:
            if fault.chat_id is not None and str(fault.chat_id) != str(params.get("chat_id")):
                continue
            if fault.kind == "parse" and params.get("parse_mode") is None:
                continue
            fault.times -= 1
            if fault.times <= 0:
                faults.remove(fault)
            return fault
        return None

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        """Answer one Bot API call: (HTTP status, JSON body, seconds to stall first)."""
        with self._lock:
            call = Call(method, params, time.monotonic())
            self.calls.append(call)
            fault = self._take_fault(method, params)
        if fault is not None and fault.kind == "slow":  # stall, then answer normally
            time.sleep(fault.delay)
            fault = None
        if fault is not None:
            status, body, delay = fault_response(fault)
            call.status = status
            return status, body, delay
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}, 0.0
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return 200, {"ok": True, "result": True}, 0.0
        try:
            with self._lock:
                result = handler(params)
        except ParseError as exc:
            call.status = 400
            desc = f"Bad Request: can't parse entities: {exc}"
            return 400, {"ok": False, "error_code": 400, "description": desc}, 0.0
        except ApiError as exc:
            call.status = exc.code
            return exc.code, {"ok": False, "error_code": exc.code, "description": str(exc)}, 0.0
        return 200, {"ok": True, "result": result}, 0.0

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self._lock:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, 0.5))
            return list(self._updates[:limit])

    def file_bytes(self, path: str) -> bytes | None:
        with self._lock:
            for file_path, content in self._files.values():
                if file_path == path:
                    return content
        return None
