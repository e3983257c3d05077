"""Newsdesk front ends: the CLI, the REPL and the Telegram bot."""
