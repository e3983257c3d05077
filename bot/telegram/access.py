"""Who may talk to the bot and who may administer it."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.config import Settings


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
        """Whether this user in this chat may ask questions."""
        if self.open or (user_id is not None and user_id in self.admins):
            return True
        return (user_id is not None and user_id in self.users) or (
            chat_id is not None and chat_id in self.chats
        )

    def is_admin(self, user_id: int | None) -> bool:
        """Whether this user may run /ingest and /stats."""
        return user_id is not None and user_id in self.admins
