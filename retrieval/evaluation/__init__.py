"""Retrieval and answer evaluation on question sets with known answers."""
