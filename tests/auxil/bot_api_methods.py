"""The Bot API methods of the fake server: what each call does to the fake's chats.

`FakeBotAPI` (fake_bot_api.py) dispatches a call `NAME` to `_m_NAME` here, under its lock.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from tests.auxil.bot_api_http import ApiError, json_field
from tests.auxil.telegram_html import MAX_TEXT, parse_telegram_html


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Sent:
    """A message the bot sent (and its edits)."""

    message_id: int
    chat_id: int
    text: str
    parse_mode: str | None
    reply_to: int | None
    reply_markup: dict[str, Any] | None
    at: float
    edits: list[str] = field(default_factory=list)


class BotMethods:
    """The methods; the state is the fake's (set up in FakeBotAPI.__init__)."""

    bot_id: int
    username: str
    sent: list[Sent]
    drafts: list[dict[str, Any]]
    replies: dict[int, list[Sent]]
    inline_answers: dict[str, dict[str, Any]]
    _message_ids: itertools.count[int]
    _messages: dict[tuple[int, int], dict[str, Any]]
    _files: dict[str, tuple[str, bytes]]

    def chat(self, chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Newsdesk",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        visible = parse_telegram_html(text) if params.get("parse_mode") == "HTML" else text
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        reply = json_field(params.get("reply_parameters"))
        reply_to = int(reply["message_id"]) if isinstance(reply, dict) else None
        markup = json_field(params.get("reply_markup"))
        message_id = next(self._message_ids)
        msg: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": self._m_getMe({}),
            "text": visible,
        }
        if isinstance(markup, dict):
            msg["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = msg
        sent = Sent(message_id, chat_id, text, params.get("parse_mode"), reply_to,
                    markup if isinstance(markup, dict) else None, time.monotonic())  # fmt: skip
        self.sent.append(sent)
        if reply_to is not None:
            self.replies.setdefault(reply_to, []).append(sent)
        return msg

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        msg = self._messages.get((chat_id, message_id))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        text = str(params.get("text", ""))
        visible = parse_telegram_html(text) if params.get("parse_mode") == "HTML" else text
        markup = json_field(params.get("reply_markup"))
        if visible == msg["text"] and markup == msg.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        msg["text"] = visible
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                sent.edits.append(text)
                sent.text, sent.parse_mode = text, params.get("parse_mode")
                sent.reply_markup = markup if isinstance(markup, dict) else sent.reply_markup
        return msg

    def _m_sendMessageDraft(self, params: dict[str, Any]) -> bool:
        if int(params["chat_id"]) <= 0:
            raise ApiError(400, "Bad Request: drafts can be sent only to private chats")
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            parse_telegram_html(text)
        self.drafts.append({**params, "at": time.monotonic()})
        return True

    def _m_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        """Check the results as Telegram does (ids, count, message texts) and keep them."""
        query_id = str(params["inline_query_id"])
        if query_id in self.inline_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        results = json_field(params.get("results")) or []
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: too many inline query results")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or any(not i or len(i.encode()) > 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for r in results:
            content = r.get("input_message_content") or {}
            text = str(content.get("message_text", ""))
            shown = parse_telegram_html(text) if content.get("parse_mode") == "HTML" else text
            if not r.get("title") or not shown.strip() or len(shown) > MAX_TEXT:
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY or too long")
        button = json_field(params.get("button"))
        self.inline_answers[query_id] = {**params, "results": results, "button": button,
                                         "at": time.monotonic()}  # fmt: skip
        return True

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content),
                "file_path": path}  # fmt: skip

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
