"""Sentence-aware chunking with character spans into the article text."""

from __future__ import annotations

import re
from collections.abc import Callable

from retrieval.types import Chunk

TokenCounter = Callable[[str], int]

_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "st",
    "jr", "sr", "inc", "corp", "co", "ltd", "vs", "etc", "no", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e",
}  # fmt: skip
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a likely start.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


def approx_tokens(text: str) -> int:
    """Estimate word-piece tokens without a tokenizer (about 1.3 per word)."""
    return int(len(text.split()) * 1.3) + 1


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of `text`; paragraphs always split."""
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        p_start, chunk = para.start(), para.group()
        last = 0
        for m in _END.finditer(chunk):
            word = re.search(r"([\w.]+)[.!?…]*[\"'”’)\]]*$", chunk[last : m.end()])
            if word and m.group().startswith(".") and word[1].rstrip(".").lower() in _ABBREV:
                continue
            if word and re.fullmatch(r"[A-Z]\.?", word[1].rstrip(".")):
                continue  # an initial such as "John F. Kennedy"
            spans.append(_trim(text, p_start + last, p_start + m.end()))
            last = m.end()
        if chunk[last:].strip():
            spans.append(_trim(text, p_start + last, p_start + len(chunk)))
    return _merge_attributions(text, [s for s in spans if s[1] > s[0]])


_SPEECH = re.compile(r"\b(said|asked|added|told|says|asks|adds|wrote|writes|replied|noted)\b")


def _merge_attributions(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep a short attribution ("Macron asked.") with the quote it closes."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        piece = text[start:end]
        if (
            merged
            and len(piece.split()) <= 6
            and _SPEECH.search(piece)
            and text[merged[-1][1] - 1] in "\"”’'"
            and "\n" not in text[merged[-1][1] : start]
        ):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


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
            pieces.append(_trim(text, piece_start, piece_end))
            piece_start, acc = piece_end, [w.group()]
    pieces.append(_trim(text, piece_start, end))
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
