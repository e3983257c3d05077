"""Keep the bot token out of every log line, and quiet httpx's per-request logging."""

from __future__ import annotations

import logging
import threading
from typing import Any

REDACTED = "[REDACTED]"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """Replace every registered secret in `text`."""
    for secret in _secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_record(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken %-format: leave it to the handler to report
        return
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text, so the traceback (which may quote a URL) is redacted too.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_redaction(*secrets: str) -> None:
    """Redact `secrets` from every log record made from now on, by any logger or handler.

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
    """httpx logs every request URL (which holds the token) at INFO: keep it to warnings."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class RedactingFilter(logging.Filter):
    """A handler filter doing the same redaction, for handlers set up before the factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True
