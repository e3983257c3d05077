"""Test doubles at the network edge: a fake Bot API and a scripted OpenAI-compatible server.

They live here, not in the product, and the tests import them as `auxil.*` (tests/ is on
sys.path); the benchmarks under benchmarks/ use the fake Bot API too.
"""
