"""The tests' fake Bot API server; it lives in bot/telegram/fake_api.py so `bench` can use it."""

from bot.telegram.fake_api import Call, FakeBotAPI, Fault, ParseError, Sent, parse_telegram_html

__all__ = ["Call", "FakeBotAPI", "Fault", "ParseError", "Sent", "parse_telegram_html"]
