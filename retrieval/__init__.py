"""Newsdesk core: ingest news coverage, retrieve passages, answer with checked citations."""
