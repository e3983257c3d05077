"""What a feature module exports (`FEATURE`): its handlers and its command menu entries.

A feature is one module of handlers (questions, info, admin, buttons ...) that
`build_application` adds in the order of `bot.telegram.app.FEATURES`. Access is not a
feature's concern: strangers are stopped before any handler (`bot.telegram.access.gate`), and
admin-only handlers carry `admin_only(services.access)` in their filters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from telegram import Bot, BotCommand, Update
from telegram.ext import BaseHandler, ContextTypes, filters

if TYPE_CHECKING:
    from bot.telegram.services import Services

Context = ContextTypes.DEFAULT_TYPE
Handler = BaseHandler[Update, Context, Any]
NEW = filters.UpdateType.MESSAGE  # edited messages are ignored


class Background(Protocol):
    """A feature's task in the bot process (alert delivery, digests), run while it runs."""

    def start(self) -> None:
        """Start (in the running event loop, once the bot is initialised)."""

    async def stop(self) -> None:
        """Stop, letting work in progress finish briefly."""


@dataclass(frozen=True)
class Feature:
    """One feature of the bot.

    `handlers(services)` builds its handlers; within group 0 the first handler that matches
    an update handles it, so a feature lists its own fallbacks (say "/stats is for admins")
    after the handlers they stand in for. `menu` (command -> description) goes into every
    chat's command menu, `admin_menu` only into admins' private chats. `background(services,
    bot)`, if any, makes the feature's task, started after the bot is initialised and stopped
    with it.
    """

    handlers: Callable[[Services], Sequence[Handler]]
    menu: Mapping[str, str] = field(default_factory=dict)
    admin_menu: Mapping[str, str] = field(default_factory=dict)
    background: Callable[[Services, Bot], Background] | None = None

    @property
    def commands(self) -> list[BotCommand]:
        """The menu entries for every chat."""
        return [BotCommand(c, d) for c, d in self.menu.items()]

    @property
    def admin_commands(self) -> list[BotCommand]:
        """The menu entries for admins' private chats only."""
        return [BotCommand(c, d) for c, d in self.admin_menu.items()]
