"""Logging for entry points: stderr, quiet chatty libraries, never print secrets."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
NOISY = ("httpx", "httpcore", "chromadb", "urllib3", "bm25s", "onnxruntime")
_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{10,}")


class RedactFilter(logging.Filter):
    """Replace anything shaped like a Telegram bot token or an API key with a placeholder."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return _KEY.sub("[REDACTED]", _TOKEN.sub("[REDACTED]", text))

    def filter(self, record: logging.LogRecord) -> bool:
        # Some libraries (bm25s) force their own logger to DEBUG on import.
        if record.name.split(".")[0] in NOISY and record.levelno < logging.WARNING:
            return False
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def configure_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    """Log to stderr; httpx logs request URLs (which carry the bot token): keep it quiet."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_internal_error(
    exc: BaseException, path: Path, command: Sequence[str], secrets: list[str] | None = None
) -> bool:
    """Append the traceback of an unexpected exception to `path`, secrets redacted.

    Returns False when the file cannot be written (the caller logs to stderr instead).
    """
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(exc))
    entry = f"{stamp} newsdesk {' '.join(command)}\n{text}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(RedactFilter(secrets).redact(entry))
    except OSError:
        return False
    return True
