"""Deliver replies: split HTML, plain-text resend on parse errors, typing, LLM streaming."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.telegram.render import esc, split_message, to_plain
from retrieval.types import Answer

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def link_preview(url: str | None) -> LinkPreviewOptions:
    """A small preview of `url` (an article's page), or none when it is not a web link."""
    if url and url.startswith(("http://", "https://")):
        return LinkPreviewOptions(url=url, prefer_small_media=True)
    return NO_PREVIEW


def answer_link(answer: Answer) -> str | None:
    """The url of the first cited article that has one (the preview of an answer)."""
    if answer.refused:
        return None
    return next((c.url for c in answer.citations if c.url.startswith("http")), None)


STREAM_EVERY = 1.0  # seconds between visible updates of a growing answer (per chat)
TYPING_DELAY = 0.4  # seconds of work before "typing…" is shown


def is_parse_error(exc: BaseException) -> bool:
    return isinstance(exc, BadRequest) and "can't parse entities" in exc.message.lower()


def is_not_modified(exc: BaseException) -> bool:
    return isinstance(exc, BadRequest) and "message is not modified" in exc.message.lower()


async def send_html(
    bot: Bot,
    chat_id: int,
    html: str,
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
    preview: Message | None = None,
    link: str | None = None,
) -> list[Message]:
    """Send `html` in parts under 4,096 characters; the first part replies to `reply_to`,
    the last carries `markup`. A `preview` message (LLM streaming by edits) becomes part one.
    The first part shows a small link preview of `link` (say the first cited article), the
    others none. If Telegram can't parse the HTML, the rest is resent as plain text.
    """
    parts = split_message(html)
    sent: list[Message] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        shows = link_preview(link if i == 0 else None)
        try:
            sent.append(
                await _send_part(bot, chat_id, part, ParseMode.HTML, reply_to if i == 0 else None,
                                 markup if last else None, preview if i == 0 else None, shows)
            )  # fmt: skip
        except BadRequest as exc:
            if not is_parse_error(exc):
                raise
            log.warning("Telegram could not parse a reply (%s); resending as plain text", exc)
            plain = split_message(to_plain("\n\n".join(parts[i:])), html=False)
            for k, piece in enumerate(plain):
                sent.append(
                    await _send_part(
                        bot, chat_id, piece, None,
                        reply_to if i == 0 and k == 0 else None,
                        markup if k == len(plain) - 1 else None,
                        preview if i == 0 and k == 0 else None,
                        link_preview(link if i == 0 and k == 0 else None),
                    )
                )  # fmt: skip
            break
    return sent


async def _send_part(
    bot: Bot,
    chat_id: int,
    text: str,
    parse_mode: str | None,
    reply_to: int | None,
    markup: InlineKeyboardMarkup | None,
    preview: Message | None,
    shows: LinkPreviewOptions = NO_PREVIEW,
) -> Message:
    if preview is not None:
        try:
            edited = await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=preview.message_id,
                parse_mode=parse_mode,
                reply_markup=markup,
                link_preview_options=shows,
            )
            return edited if isinstance(edited, Message) else preview
        except BadRequest as exc:
            if is_not_modified(exc):
                return preview
            raise
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    return await bot.send_message(
        chat_id,
        text,
        parse_mode=parse_mode,
        reply_parameters=reply,
        reply_markup=markup,
        link_preview_options=shows,
    )


async def reply_text(message: Message, text: str) -> Message:
    """A plain-text reply quoting `message` (still sent if that message is gone)."""
    return await message.get_bot().send_message(
        message.chat_id,
        text,
        reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
        link_preview_options=NO_PREVIEW,
    )


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int, delay: float = TYPING_DELAY) -> AsyncIterator[None]:
    """Show "typing…" in the chat while the body runs (Telegram clears it after ~5 s).

    Nothing is sent for answers ready within `delay`: under Telegram's flood limits
    (~30 requests a second) a typing action for a 20 ms answer would halve throughput.
    """

    async def keep_typing() -> None:
        await asyncio.sleep(delay)
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:  # cosmetic: never fail an answer over it
                log.debug("typing action failed: %s", exc)
            await asyncio.sleep(4.5)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class StreamPreview:
    """Shows a growing LLM answer: `sendMessageDraft`, or (if that fails) one edited message.

    Updates at most once every STREAM_EVERY seconds; failures only cost the preview.
    """

    def __init__(self, bot: Bot, chat_id: int, reply_to: int | None) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.reply_to = reply_to
        self.draft_id = random.randint(1, 2**31 - 1)
        self.use_drafts = True
        self.message: Message | None = None  # the edited message when drafts are unavailable
        self._last = 0.0
        self._shown = ""

    async def update(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if (
            not text.strip()
            or text == self._shown
            or (not force and now - self._last < STREAM_EVERY)
        ):
            return
        self._last, self._shown = now, text
        shown = esc(text[-3900:]) + " …"
        try:
            if self.use_drafts:
                await self.bot.send_message_draft(
                    self.chat_id, self.draft_id, shown, parse_mode=ParseMode.HTML
                )
            elif self.message is None:
                self.message = await _send_part(
                    self.bot, self.chat_id, shown, ParseMode.HTML, self.reply_to, None, None
                )
            else:
                await _send_part(
                    self.bot, self.chat_id, shown, ParseMode.HTML, None, None, self.message
                )
        except BadRequest as exc:
            if self.use_drafts:
                log.info("sendMessageDraft unavailable (%s); streaming by edits", exc)
                self.use_drafts = False
            else:
                log.debug("preview edit failed: %s", exc)
        except TelegramError as exc:
            log.debug("preview update failed: %s", exc)


async def stream_answer(
    preview: StreamPreview | None, events: AsyncIterator[str | Answer]
) -> Answer:
    """Consume `service.astream` events, updating `preview` if any; return the final Answer."""
    text = ""
    final: Answer | None = None
    async for event in events:
        if isinstance(event, Answer):
            final = event
        elif preview is not None:
            text += event
            await preview.update(text)
    if final is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return final
