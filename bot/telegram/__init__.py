"""Telegram front end (python-telegram-bot): see docs/telegram.md."""
