"""Logging for entry points: stderr, quiet libraries, never print secrets.

Below WARNING only Newsdesk's own loggers speak, unless the level is DEBUG: libraries log
chatter a user cannot act on (bm25s wrote "Opened file and mmap objects" to the root logger
on every question).

Redaction is one record factory (`install_redaction`): every record made by any logger is
cleaned before any handler or filter sees it (pytest's capture too), message, arguments,
traceback and stack alike. It removes the secrets registered with it (the bot token, the
webhook secret, the OpenAI key) and anything shaped like a bot token or an `sk-` key.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"
NOISY = ("httpx", "httpcore", "chromadb", "urllib3", "bm25s", "onnxruntime")
OWN = ("bot", "retrieval", "benchmarks", "__main__")
_SHAPES = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b|\bsk-[A-Za-z0-9_-]{10,}")
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """Replace every registered secret, and anything shaped like a token or key, in `text`."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _SHAPES.sub(REDACTED, text)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken %-format: leave it to the handler to report
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text, so the traceback (which may quote a URL) is redacted too.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_redaction(*secrets: str) -> None:
    """Redact `secrets` (and token-shaped text) from every log record made from now on.

    A record factory is used rather than a handler filter: filters on loggers miss records
    from child loggers, and handlers (pytest's too) come and go.
    """
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if s)
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)


def quiet_http_logs() -> None:
    """httpx logs every request URL (which holds the bot token) at INFO: keep it to warnings."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class QuietFilter(logging.Filter):
    """Drop records below WARNING that are not Newsdesk's own (unless `libraries`)."""

    def __init__(self, *, libraries: bool = False) -> None:
        super().__init__()
        self.libraries = libraries  # DEBUG: let libraries' INFO and DEBUG through

    def filter(self, record: logging.LogRecord) -> bool:
        # Some libraries force their own logger to DEBUG on import, or log to root.
        own = record.name.split(".")[0] in OWN
        return own or self.libraries or record.levelno >= logging.WARNING


def configure_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    """Log to stderr, redacted (`install_redaction`), libraries at warnings unless DEBUG."""
    install_redaction(*(secrets or []))
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    debug = isinstance(numeric, int) and numeric <= logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(QuietFilter(libraries=debug))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def log_internal_error(exc: BaseException, path: Path, command: Sequence[str]) -> bool:
    """Append the traceback of an unexpected exception to `path`, redacted (`redact`).

    Returns False when the file cannot be written (the caller logs to stderr instead).
    """
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(exc))
    entry = f"{stamp} newsdesk {' '.join(command)}\n{text}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(redact(entry))
    except OSError:
        return False
    return True
