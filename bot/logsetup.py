"""Logging for entry points: stderr, quiet libraries, never print secrets.

Below WARNING only Newsdesk's own loggers speak, unless the level is DEBUG: libraries
log chatter a user cannot act on (bm25s writes "Opened file and mmap objects" to the root
logger on every question).
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
NOISY = ("httpx", "httpcore", "chromadb", "urllib3", "bm25s", "onnxruntime")
OWN = ("bot", "retrieval", "__main__")
_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{10,}")


class RedactFilter(logging.Filter):
    """Replace anything shaped like a Telegram bot token or an API key with a placeholder."""

    def __init__(self, secrets: list[str] | None = None, *, libraries: bool = False) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s]
        self.libraries = libraries  # let libraries' INFO and DEBUG through

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return _KEY.sub("[REDACTED]", _TOKEN.sub("[REDACTED]", text))

    def filter(self, record: logging.LogRecord) -> bool:
        # Some libraries (bm25s) force their own logger to DEBUG on import, or log to root.
        own = record.name.split(".")[0] in OWN
        if record.levelno < logging.WARNING and not own and not self.libraries:
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
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    debug = isinstance(numeric, int) and numeric <= logging.DEBUG
    handler.addFilter(RedactFilter(secrets, libraries=debug))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
