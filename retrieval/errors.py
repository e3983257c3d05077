"""One error hierarchy; every error carries a message that is safe to show a user."""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base error: `user_message` is safe for a chat or a terminal, `str()` is for logs."""

    user_message: str = "Something went wrong while answering. Please try again."

    def __init__(self, detail: str | None = None, *, user_message: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        super().__init__(detail or self.user_message)


class ConfigError(NewsdeskError):
    """The configuration is wrong or incomplete."""

    user_message = "Newsdesk is not configured correctly."


class IndexInUseError(NewsdeskError):
    """Another process is writing to the same on-disk index."""

    user_message = (
        "The index is in use by another Newsdesk process that is writing to it. "
        "Wait for it to finish (or stop it) and try again."
    )


class IndexMismatchError(NewsdeskError):
    """The index was built with another embedding model."""


class StoreUnavailableError(NewsdeskError):
    """The Chroma store cannot be reached or opened."""

    user_message = "The coverage index is not reachable right now."


class InputRejectedError(NewsdeskError):
    """A question or upload was refused (empty, too long, wrong type)."""


class IngestError(NewsdeskError):
    """One input could not be ingested; the rest of the run goes on."""


class LLMError(NewsdeskError):
    """The language model failed: unreachable, wrong key, unknown model, timeout."""

    user_message = "The language model is not available right now."


class RateLimitedError(NewsdeskError):
    """A user asked too often."""

    user_message = "You're asking a bit fast. Please wait a moment and try again."
