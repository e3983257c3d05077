"""Settings: environment variables and `.env`, one object for every part of Newsdesk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _env(name: str, default: Any, description: str) -> Any:
    return Field(default, validation_alias=AliasChoices(name), description=description)


IdList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    """Every knob of Newsdesk; each field maps to the environment variable in its alias."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Storage and retrieval
    data_dir: Path = _env(
        "NEWSDESK_DATA_DIR", Path("data"), "Chroma, lexical index, chat and feed state."
    )
    chroma_host: str | None = _env("CHROMA_HOST", None, "Use a Chroma server at this host.")
    chroma_port: int = _env("CHROMA_PORT", 8000, "Port of the Chroma server.")
    collection: str = _env("NEWSDESK_COLLECTION", "newsdesk", "Chroma collection name prefix.")
    embed_backend: Literal["onnx", "openai"] = _env(
        "NEWSDESK_EMBED_BACKEND", "onnx", "onnx (offline, default) or openai."
    )
    openai_embed_model: str = _env(
        "NEWSDESK_OPENAI_EMBED_MODEL", "text-embedding-3-small", "Model for the openai backend."
    )
    top_k: int = _env("NEWSDESK_TOP_K", 12, "Passages given to the answerer.")
    min_relevance: float = _env(
        "NEWSDESK_MIN_RELEVANCE", 0.25, "Relevance gate: below this the bot declines."
    )
    embed_batch: int = _env(
        "NEWSDESK_EMBED_BATCH", 1, "Texts per ONNX call (padded to the longest); 1 is fastest here."
    )
    ingest_batch: int = _env("NEWSDESK_INGEST_BATCH", 256, "Chunks embedded and written at a time.")
    recency_days: int = _env("NEWSDESK_RECENCY_DAYS", 14, "Window of the recency prior.")
    log_level: str = _env("NEWSDESK_LOG_LEVEL", "INFO", "Logging level.")

    # LLM answers
    openai_api_key: SecretStr | None = _env("OPENAI_API_KEY", None, "Key of the LLM server.")
    openai_base_url: str | None = _env("OPENAI_BASE_URL", None, "OpenAI-compatible base URL.")
    llm: Literal["", "auto", "off", "local"] = _env(
        "NEWSDESK_LLM", "auto", "auto, off, or local (start a llama.cpp server)."
    )
    llm_model: str = _env("NEWSDESK_LLM_MODEL", "gpt-4o-mini", "Model name for LLM answers.")
    local_model: Path | None = _env("NEWSDESK_LOCAL_MODEL", None, "GGUF for NEWSDESK_LLM=local.")
    llm_timeout: float = _env("NEWSDESK_LLM_TIMEOUT", 30.0, "Seconds per LLM request.")
    llm_max_retries: int = _env("NEWSDESK_LLM_MAX_RETRIES", 2, "Retries on 429/5xx.")
    llm_max_tokens: int = _env("NEWSDESK_LLM_MAX_TOKENS", 400, "Output token cap.")
    llm_temperature: float = _env("NEWSDESK_LLM_TEMPERATURE", 0.1, "Sampling temperature.")
    history_turns: int = _env("NEWSDESK_HISTORY_TURNS", 6, "Turns kept for follow-ups.")
    first_token_deadline: float = _env(
        "NEWSDESK_FIRST_TOKEN_DEADLINE", 8.0, "Seconds to the LLM's first token, else quotes."
    )
    answer_deadline: float = _env(
        "NEWSDESK_ANSWER_DEADLINE", 20.0, "Seconds to the LLM's whole answer, else quotes."
    )

    # Telegram
    telegram_bot_token: SecretStr | None = _env("TELEGRAM_BOT_TOKEN", None, "From BotFather.")
    telegram_api_base_url: str = _env(
        "TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot", "Bot API base_url."
    )
    webhook_url: str | None = _env("NEWSDESK_WEBHOOK_URL", None, "Public URL: webhook mode.")
    webhook_listen: str = _env("NEWSDESK_WEBHOOK_LISTEN", "0.0.0.0", "Webhook listen address.")
    webhook_port: int = _env("NEWSDESK_WEBHOOK_PORT", 8443, "Webhook listen port.")
    webhook_secret: SecretStr | None = _env(
        "NEWSDESK_WEBHOOK_SECRET", None, "Secret token Telegram sends with every update."
    )
    allowed_user_ids: IdList = _env("NEWSDESK_ALLOWED_USER_IDS", [], "Empty: anyone.")
    allowed_chat_ids: IdList = _env("NEWSDESK_ALLOWED_CHAT_IDS", [], "Empty: any chat.")
    admin_ids: IdList = _env("NEWSDESK_ADMIN_IDS", [], "Users allowed /ingest and /stats.")
    rate_per_minute: int = _env("NEWSDESK_RATE_PER_MINUTE", 10, "Questions per user a minute.")
    daily_cap: int = _env("NEWSDESK_DAILY_CAP", 200, "Questions a user may ask a day.")
    max_question_chars: int = _env("NEWSDESK_MAX_QUESTION_CHARS", 1000, "Longest question.")
    max_concurrent_llm: int = _env("NEWSDESK_MAX_CONCURRENT_LLM", 4, "Simultaneous answers.")
    max_alerts: int = _env("NEWSDESK_MAX_ALERTS", 10, "Topic alerts one chat may set.")
    alerts_per_hour: int = _env("NEWSDESK_ALERTS_PER_HOUR", 20, "Alerts one chat gets an hour.")

    # Live coverage
    follow_every: str = _env("NEWSDESK_FOLLOW_EVERY", "15m", "Feed polling interval.")
    fetch_timeout: float = _env("NEWSDESK_FETCH_TIMEOUT", 20.0, "Seconds per web request.")
    fetch_max_bytes: int = _env("NEWSDESK_FETCH_MAX_BYTES", 5_000_000, "Largest page fetched.")

    @field_validator("allowed_user_ids", "allowed_chat_ids", "admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return [int(p) for p in parts if p]
        return value

    @field_validator(
        "chroma_host",
        "openai_base_url",
        "webhook_url",
        "openai_api_key",
        "telegram_bot_token",
        "webhook_secret",
        "local_model",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def llm_enabled(self) -> bool:
        """Answer with an LLM when one is configured and not switched off."""
        if self.llm == "off":
            return False
        if self.llm == "local":
            return True
        return bool(self.openai_base_url or self.openai_api_key)


ENV_VARS: dict[str, str] = {
    str(field.validation_alias.choices[0]): name  # type: ignore[union-attr]
    for name, field in Settings.model_fields.items()
}
