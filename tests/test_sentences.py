"""The one sentence splitter: stable spans for stored chunks, quotations kept whole."""

from __future__ import annotations

import hashlib
import json

import pytest

from retrieval.chunking import chunk_text
from retrieval.parse import parse_file, parse_jsonl
from retrieval.text import sentences, split_sentences
from retrieval.types import Article
from tests.conftest import FIXTURES, SEEDS, SHARED_EVAL

SPANS = json.loads((FIXTURES / "chunk_spans.json").read_text())
CORPUS = SHARED_EVAL / "realtimeqa" / "corpus.jsonl"


def _digest(spans: list[tuple[int, int]]) -> str:
    return hashlib.sha1(json.dumps([list(s) for s in spans]).encode()).hexdigest()[:16]


def test_seed_spans_are_those_the_index_was_built_with() -> None:
    (item,) = list(parse_file(SEEDS / "000_4b8ec6e6b5196a5a.txt", SEEDS))
    assert isinstance(item, Article)
    assert [list(s) for s in split_sentences(item.text)] == SPANS["seed"]["sentences"]
    chunks = [[c.start, c.end] for c in chunk_text(item.doc_id, item.text)]
    assert chunks == SPANS["seed"]["chunks"]


@pytest.mark.skipif(not CORPUS.is_file(), reason=f"RealTime QA corpus not at {CORPUS}")
def test_corpus_spans_are_those_the_index_was_built_with() -> None:
    expected = SPANS["corpus"]
    seen = 0
    for item in parse_jsonl(CORPUS):
        if isinstance(item, Article) and item.doc_id in expected:
            chunks = [(c.start, c.end) for c in chunk_text(item.doc_id, item.text)]
            assert [_digest(split_sentences(item.text)), _digest(chunks)] == expected[
                item.doc_id
            ], item.doc_id
            seen += 1
    assert seen == len(expected)


def test_abbreviations_initials_and_attributions() -> None:
    text = (
        "“Can we look away?” Macron asked. Mr. Smith met John F. Kennedy in the U.S. today. Done."
    )
    assert sentences(text) == [
        "“Can we look away?” Macron asked.",
        "Mr. Smith met John F. Kennedy in the U.S. today.",
        "Done.",
    ]


def test_whole_quotes_keep_a_quotation_in_one_sentence() -> None:
    text = "He said “I go. You stay.” Then he left. “One. Two.\n\nThree.”"
    assert sentences(text) == [
        "He said “I go.",
        "You stay.”",
        "Then he left.",
        "“One.",
        "Two.",
        "Three.”",
    ]
    assert sentences(text, whole_quotes=True) == [
        "He said “I go. You stay.”",
        "Then he left.",
        "“One. Two.",
        "Three.”",
    ]
