"""Sentence-aware chunking with character spans into the article text."""

from __future__ import annotations

import re
from collections.abc import Callable

from retrieval.text import split_sentences, trim_span
from retrieval.types import Chunk

TokenCounter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """Estimate word-piece tokens without a tokenizer (about 1.3 per word)."""
    return int(len(text.split()) * 1.3) + 1


def _split_long(
    text: str, span: tuple[int, int], max_tokens: int, count: TokenCounter
) -> list[tuple[int, int]]:
    """Cut an over-long sentence at word boundaries into pieces under max_tokens."""
    start, end = span
    pieces: list[tuple[int, int]] = []
    words = list(re.finditer(r"\S+", text[start:end]))
    piece_start = start
    acc: list[str] = []
    for w in words:
        acc.append(w.group())
        if count(" ".join(acc)) > max_tokens and len(acc) > 1:
            piece_end = start + w.start()
            pieces.append(trim_span(text, piece_start, piece_end))
            piece_start, acc = piece_end, [w.group()]
    pieces.append(trim_span(text, piece_start, end))
    return [p for p in pieces if p[1] > p[0]]


def chunk_text(
    doc_id: str,
    text: str,
    *,
    target_tokens: int = 200,
    max_tokens: int = 230,
    overlap_sentences: int = 1,
    count: TokenCounter = approx_tokens,
) -> list[Chunk]:
    """Group sentences into chunks of about `target_tokens`, overlapping by whole sentences."""
    sentences: list[tuple[int, int]] = []
    for span in split_sentences(text):
        if count(text[span[0] : span[1]]) > max_tokens:
            sentences.extend(_split_long(text, span, max_tokens, count))
        else:
            sentences.append(span)
    sizes = [count(text[s:e]) for s, e in sentences]
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, total = i, 0
        while j < len(sentences) and (j == i or total + sizes[j] <= target_tokens):
            total += sizes[j]
            j += 1
        start, end = sentences[i][0], sentences[j - 1][1]
        chunks.append(Chunk(doc_id, len(chunks), text[start:end], start, end))
        if j >= len(sentences):
            break
        # Step back for overlap, but always make progress.
        back = min(overlap_sentences, j - i - 1)
        if back and sum(sizes[j - back : j]) > target_tokens // 3:
            back = 0
        i = j - back
    return chunks
