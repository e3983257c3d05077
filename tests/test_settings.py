"""Settings: `.env.example` and the fields stay in step; env parsing; secrets stay secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retrieval.config import ENV_VARS, Settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_env_example_lists_every_setting() -> None:
    names = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), re.MULTILINE))
    assert names == set(ENV_VARS)


def test_env_example_parses_to_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    from_file = Settings(_env_file=EXAMPLE)
    default = Settings(_env_file=None)
    assert from_file.model_dump() == default.model_dump()


def test_env_vars_and_id_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_ALLOWED_USER_IDS", "12, 34")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    monkeypatch.setenv("CHROMA_HOST", "")
    s = Settings(_env_file=None)
    assert s.allowed_user_ids == [12, 34]
    assert s.chroma_host is None
    assert s.telegram_bot_token is not None
    assert "ABCDEFGHIJ" not in repr(s) and "ABCDEFGHIJ" not in str(s.model_dump())


def test_llm_enabled_only_when_configured() -> None:
    assert not Settings(_env_file=None, llm="auto").llm_enabled
    assert Settings(_env_file=None, openai_base_url="http://127.0.0.1:1/v1").llm_enabled
    assert not Settings(_env_file=None, openai_base_url="http://x/v1", llm="off").llm_enabled


def test_readme_explains_every_setting() -> None:
    readme = (EXAMPLE.parent / "README.md").read_text(encoding="utf-8")
    assert [name for name in ENV_VARS if f"`{name}`" not in readme] == []
