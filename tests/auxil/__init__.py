"""Test doubles at the network edge: a fake Bot API and a scripted OpenAI-compatible server.

They live here, not in the product; the tests import them as `tests.auxil.*` (as
python-telegram-bot's tests do), and the benchmarks under benchmarks/ use the fake Bot API too.
"""
