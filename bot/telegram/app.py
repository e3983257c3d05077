"""Wiring: build the python-telegram-bot Application and run it (polling or webhook).

`build_application(settings, services)` is the one place that wires the bot: the access gate
(group -1), then every feature's handlers in the order of `FEATURES`, then the catch-all for
unknown commands, and the one error handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.logsetup import install_redaction, quiet_http_logs
from bot.telegram import admin, alerts, briefs, buttons, digests, info, inline, questions
from bot.telegram.access import GATE_GROUP, gate
from bot.telegram.feature import Context, Feature
from bot.telegram.follower import Follower
from bot.telegram.services import Services
from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.errors import ConfigError, NewsdeskError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_CONFIG, EXIT_CONFLICT = 0, 1, 2, 3
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
]
POLL_TIMEOUT = 10  # seconds of getUpdates long polling
APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."

# The features, in the order their handlers are tried (group 0: the first handler that matches
# an update handles it). A new feature is a module exporting FEATURE plus one line here.
FEATURES: tuple[Feature, ...] = (
    info.FEATURE,  # /start /help /sources /latest
    briefs.FEATURE,  # /brief [topic]
    admin.FEATURE,  # /ingest /follow /unfollow /feeds /stats (before questions: admin files)
    questions.FEATURE,  # private text, mentions, replies to the bot, /ask
    alerts.FEATURE,  # /alert /alerts /unalert, and their delivery (before buttons: its own)
    digests.FEATURE,  # /digest /timezone, and the digests on schedule
    buttons.FEATURE,  # Sources, 👍 / 👎
    inline.FEATURE,  # @bot question, from any chat
)
COMMANDS: list[BotCommand] = [c for f in FEATURES for c in f.commands]
ADMIN_ONLY: list[BotCommand] = [c for f in FEATURES for c in f.admin_commands]
ADMIN_COMMANDS: list[BotCommand] = [*COMMANDS, *ADMIN_ONLY]  # admins' private chats only


def bot_token(settings: Settings) -> str:
    """The bot token, or a ConfigError saying how to get one."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token.strip():
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set",
            user_message="Set TELEGRAM_BOT_TOKEN (from @BotFather; see docs/telegram.md).",
        )
    return token.strip()


def file_base_url(base_url: str) -> str:
    """The file download base for a Bot API base_url (…/bot -> …/file/bot)."""
    base = base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def build_application(
    settings: Settings, services: Services, *, http_timeout: float = 10.0
) -> Application:  # type: ignore[type-arg]
    """The Application with every handler, the flood-limit rate limiter and concurrency."""
    token = bot_token(settings)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if settings.webhook_url and not secret:
        raise ConfigError(
            "webhook without secret",
            user_message="Webhook mode needs NEWSDESK_WEBHOOK_SECRET (checked on every request).",
        )
    install_redaction(token, secret)
    quiet_http_logs()
    base_url = settings.telegram_api_base_url.rstrip("/")

    follower = Follower.create(services)  # ConfigError: bad NEWSDESK_FOLLOW_EVERY

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        # Command menus are a nicety: a failure here must not stop the bot.
        try:
            await app.bot.set_my_commands(COMMANDS, scope=BotCommandScopeAllPrivateChats())
            await app.bot.set_my_commands(COMMANDS, scope=BotCommandScopeAllGroupChats())
        except TelegramError as exc:
            log.warning("Could not set the command menu: %s", exc)
        for admin_id in sorted(settings.admin_ids):
            # an admin's private chat (chat id = user id) also lists the admin commands;
            # it fails until that admin has started the bot once
            try:
                scope = BotCommandScopeChat(admin_id)
                await app.bot.set_my_commands(ADMIN_COMMANDS, scope=scope)
            except TelegramError as exc:
                log.info("No admin command menu for %s yet: %s", admin_id, exc)
        if follower is not None:
            follower.start()
            log.info("Following feeds every %s", settings.follow_every)
        for task in background:
            task.start()

    async def post_stop(app: Application) -> None:  # type: ignore[type-arg]
        if follower is not None:
            await follower.stop()
        for task in background:
            await task.stop()

    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_base_url(base_url))
        # Different chats concurrently; questions.py keeps each chat in order with a lock
        # and bounds simultaneous answers with a semaphore.
        .concurrent_updates(256)
        # Telegram flood limits, retrying after 429s as long as retry_after says.
        .rate_limiter(AIORateLimiter(max_retries=3))
        .connect_timeout(min(http_timeout, 10.0))
        .read_timeout(http_timeout)
        .write_timeout(http_timeout)
        .pool_timeout(http_timeout)
        .get_updates_read_timeout(http_timeout)
        .post_init(post_init)
        .post_stop(post_stop)
        .build()
    )
    background = [f.background(services, app.bot) for f in FEATURES if f.background]
    app.bot_data["follower"] = follower
    app.bot_data["background"] = background
    app.bot_data["menus"] = (COMMANDS, ADMIN_ONLY)  # for /help
    app.add_handler(gate(services.access), group=GATE_GROUP)
    for feature in FEATURES:
        app.add_handlers(feature.handlers(services))
    app.add_handler(info.unknown_command())  # last: a command no feature took
    app.add_error_handler(on_error)
    return app


async def on_error(update: object, context: Context) -> None:
    """The one error handler: the traceback to the log, a short apology to the chat.

    Updates of strangers never get here: the access gate stopped them before any handler.
    """
    err = context.error
    if isinstance(err, Conflict):
        log.error("409 Conflict from the Bot API: another process uses this bot token.")
        return
    if update is None and isinstance(err, NetworkError):
        log.warning("Bot API request failed (will retry): %s", err)
        return
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("Error while handling update %s", update_id, exc_info=err)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    text = err.user_message if isinstance(err, NewsdeskError) else APOLOGY
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.warning("Could not send the apology to chat %s: %s", update.effective_chat.id, exc)


async def serve(
    app: Application,  # type: ignore[type-arg]
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> int:
    """Run `app` until `stop` is set (SIGTERM/SIGINT set it) or another poller appears.

    Returns an exit code. Stopping finishes the answers in flight before returning.
    """
    stop = stop or asyncio.Event()
    code = EXIT_OK

    def on_poll_error(exc: TelegramError) -> None:
        nonlocal code
        if isinstance(exc, Conflict):
            log.error(
                "Another process is polling updates with this bot token (409 Conflict). "
                "Stop the other instance (only one may poll), then start again."
            )
            code = EXIT_CONFLICT
            stop.set()
        else:
            log.warning("Fetching updates failed (retrying): %s", exc)

    try:
        await app.initialize()
    except InvalidToken:
        log.error("The Bot API rejected TELEGRAM_BOT_TOKEN: check it with @BotFather.")
        return EXIT_CONFIG
    except NetworkError as exc:
        log.error("Cannot reach the Bot API at %s: %s", settings.telegram_api_base_url, exc)
        return EXIT_ERROR
    loop = asyncio.get_running_loop()
    signals: list[int] = []
    try:
        if app.post_init is not None:
            await app.post_init(app)
        updater = app.updater
        assert updater is not None
        if settings.webhook_url:
            await _start_webhook(app, settings)
        else:
            await updater.start_polling(
                timeout=POLL_TIMEOUT,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=on_poll_error,
            )
        await app.start()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, stop.set)
                    signals.append(sig)
        mode = "webhook" if settings.webhook_url else "long polling"
        log.info("Newsdesk bot @%s is running (%s)", app.bot.username, mode)
        await stop.wait()
        log.info("Stopping: finishing the answers in flight")
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if app.post_stop is not None:  # stops the feed follower (serve calls the hooks itself)
            await app.post_stop(app)
        await app.shutdown()
    log.info("Newsdesk bot stopped")
    return code


async def _start_webhook(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    assert settings.webhook_secret is not None  # checked by build_application
    url = str(settings.webhook_url).rstrip("/")
    path = url.split("://", 1)[-1].partition("/")[2]
    assert app.updater is not None
    await app.updater.start_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=path,
        webhook_url=url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=ALLOWED_UPDATES,
    )


def run_bot(settings: Settings, service: NewsService) -> int:
    """Run the Telegram bot until SIGTERM/SIGINT; return a process exit code."""
    quiet_http_logs()
    services = Services.create(settings, service)
    try:
        app = build_application(settings, services)
        return asyncio.run(serve(app, settings))
    except ConfigError as exc:
        log.error("%s", exc.user_message)
        return EXIT_CONFIG
    finally:
        services.close()
