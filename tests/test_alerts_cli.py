"""`newsdesk alert add/list/remove`, and matches printed after `newsdesk follow --once`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, load_settings
from tests.web_fixtures.server import Site

CITY = "/feeds/city.xml"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`newsdesk` in this process, on a fresh data dir, offline and without an LLM."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TELEGRAM_BOT_TOKEN", "CHROMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_LLM", "off")
    monkeypatch.setenv("NEWSDESK_MAX_ALERTS", "2")
    monkeypatch.setenv("NEWSDESK_ENV_FILE", "")
    yield tmp_path / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The command as `newsdesk` runs it, minus main()'s logging set-up (global state)."""
    args = build_parser().parse_args(list(argv))
    code: int = args.func(args, load_settings())
    return code, capsys.readouterr().out


def test_alerts_from_the_terminal(
    cli: Path, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "alert", "list")[1].startswith("No alerts.")
    code, out = run(capsys, "alert", "add", "flood", "warning")
    assert code == 0 and out.startswith("Alert 1: flood warning.")
    assert run(capsys, "alert", "add", "Flood  Warning")[1].startswith("Already alerting")
    run(capsys, "alert", "add", "ferry strike")
    code, out = run(capsys, "alert", "add", "library")
    assert code == 1 and "the most allowed" in out
    assert run(capsys, "alert", "list")[1] == "1. flood warning\n2. ferry strike\n"

    code, out = run(capsys, "follow", "--once", site.url(CITY))
    assert code == 0 and "2 new article(s)" in out and "Alert (" not in out

    site.feed_version = 2  # the feed gains the flood warning
    code, out = run(capsys, "follow", "--once")
    alerts = [line for line in out.splitlines() if line.startswith("Alert (")]
    assert alerts == [
        "Alert (flood warning): Flood warning issued for Elm River valley"
        " — The Riverside Gazette, 2024-03-14"
    ]
    assert "orange flood warning" in out and site.url("/news/2024/03/14/") in out

    code, out = run(capsys, "follow", "--once")
    assert code == 0 and "Alert (" not in out, "never twice"
    assert run(capsys, "alert", "remove", "1")[1] == "Stopped alerts on “flood warning”.\n"
    assert run(capsys, "alert", "remove", "7")[0] == 1
