"""Who may talk to the bot and who may administer it, declared once for every handler."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler, filters

from bot.telegram.feature import Context
from retrieval.config import Settings

log = logging.getLogger(__name__)

GATE_GROUP = -1  # before every feature's handlers (group 0)


@dataclass(frozen=True)
class Access:
    """Allow-lists from the settings; both empty means the bot is open to everyone.

    When either list is set, a message is let in if its user is listed (anywhere) or its chat
    is listed (any member of that group). Admins are always let in.
    """

    users: frozenset[int]
    chats: frozenset[int]
    admins: frozenset[int]

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        return cls(
            frozenset(settings.allowed_user_ids),
            frozenset(settings.allowed_chat_ids),
            frozenset(settings.admin_ids),
        )

    @property
    def open(self) -> bool:
        return not self.users and not self.chats

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        """Whether this user in this chat may use the bot."""
        if self.open or (user_id is not None and user_id in self.admins):
            return True
        return (user_id is not None and user_id in self.users) or (
            chat_id is not None and chat_id in self.chats
        )

    def is_admin(self, user_id: int | None) -> bool:
        """Whether this user may run the admin commands."""
        return user_id is not None and user_id in self.admins


def admin_only(access: Access) -> filters.User:
    """The filter of admin-only handlers (it matches nobody when no admin is set)."""
    return filters.User(user_id=access.admins)


def gate(access: Access) -> TypeHandler[Update, Context, None]:
    """The group -1 handler that stops every update of a stranger or a bot.

    A stopped update reaches no other handler: no retrieval, no LLM call, no reply.
    """

    async def check(update: Update, context: Context) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or user.is_bot:
            raise ApplicationHandlerStop
        if not access.allows(user.id, chat.id if chat else None):
            log.info(
                "Ignored a message from user %s in chat %s: not allowed",
                user.id,
                chat.id if chat else None,
            )
            raise ApplicationHandlerStop

    return TypeHandler(Update, check)
