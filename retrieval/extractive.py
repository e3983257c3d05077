"""Extractive answers: verbatim sentences from the top passages, each followed by [n].

The answerer lives in retrieval/answering/; this module keeps the names other modules use.
"""

from __future__ import annotations

from retrieval.answering import extractive_answer, format_date, refusal

__all__ = ["extractive_answer", "format_date", "refusal"]
