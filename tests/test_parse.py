"""Parsing and chunking: outlets, dates, boilerplate, front matter, sentence-aware spans."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path

import pytest

from retrieval import parse
from retrieval.chunking import chunk_text
from retrieval.dates import parse_date
from retrieval.parse import (
    MAX_ARTICLE_CHARS,
    Problem,
    clean_body,
    outlet_from_text,
    parse_file,
)
from retrieval.service import Newsdesk
from retrieval.text import split_sentences
from retrieval.types import Article
from tests.conftest import SEEDS


def test_seed_article_parses_with_outlet_date_and_no_boilerplate() -> None:
    (item,) = list(parse_file(SEEDS / "000_4b8ec6e6b5196a5a.txt", SEEDS))
    assert isinstance(item, Article)
    assert item.doc_id == "000_4b8ec6e6b5196a5a"
    assert item.title.startswith("Ukraine Never Asked For Foreign Troops")
    assert item.outlet == "RFE/RL"
    assert item.published == date(2024, 3, 5)
    assert item.text.startswith("(RFE/RL) —")  # the outlet's credit is kept
    assert "Leave a Reply" not in item.text and "email address" not in item.text
    assert "journalists report the news" not in item.text


def test_datelines() -> None:
    assert outlet_from_text("WASHINGTON (AP) — The Senate voted.") == "AP"
    assert outlet_from_text("(RFE/RL) — Ukrainian President") == "RFE/RL"
    assert outlet_from_text("New York CNN — “Squid Game” is back.") == "CNN"
    assert outlet_from_text("The Senate voted on Tuesday.") == ""


def test_dates() -> None:
    assert parse_date("2022/06/12") == date(2022, 6, 12)
    assert parse_date("2024-03-05T10:00:00Z") == date(2024, 3, 5)
    assert parse_date("March 5, 2024") == date(2024, 3, 5)
    assert parse_date("yesterday") is None and parse_date(None) is None


def test_boilerplate_is_stripped() -> None:
    body = (
        "Real news here.\n\nShare this:\nShare on Facebook\n\nMore news.\n\nLeave a Reply\n\nName"
    )
    assert clean_body(body) == "Real news here.\n\nMore news."


def test_markdown_front_matter(tmp_path: Path) -> None:
    md = tmp_path / "story.md"
    md.write_text(
        "---\ntitle: Port strike ends\noutlet: Baltic Times\npublished: 2024-03-02\n"
        "url: https://example.org/port\nauthor: A. Writer\n---\nDock workers returned to work.\n",
        encoding="utf-8",
    )
    (item,) = list(parse_file(md, tmp_path))
    assert isinstance(item, Article)
    assert (item.title, item.outlet, item.published, item.url, item.author) == (
        "Port strike ends",
        "Baltic Times",
        date(2024, 3, 2),
        "https://example.org/port",
        "A. Writer",
    )


def test_unsupported_and_missing(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    (problem,) = list(parse_file(tmp_path / "x.pdf", tmp_path))
    assert isinstance(problem, Problem) and "unsupported" in problem.reason
    (missing,) = list(parse_file(tmp_path / "nope.txt", tmp_path))
    assert isinstance(missing, Problem) and "no such file" in missing.reason


def test_sentences_keep_attributions_and_abbreviations() -> None:
    text = "“Can we look away?” Macron asked. Mr. Smith met Dr. Jones in the U.S. on Monday. Done."
    sents = [text[s:e] for s, e in split_sentences(text)]
    assert sents == [
        "“Can we look away?” Macron asked.",
        "Mr. Smith met Dr. Jones in the U.S. on Monday.",
        "Done.",
    ]


def test_chunks_are_exact_spans_within_the_token_budget() -> None:
    (item,) = list(parse_file(SEEDS / "000_4b8ec6e6b5196a5a.txt", SEEDS))
    assert isinstance(item, Article)
    chunks = chunk_text(item.doc_id, item.text, target_tokens=120, max_tokens=150)
    assert len(chunks) > 3
    for c in chunks:
        assert item.text[c.start : c.end] == c.text
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert all(i in covered for i, ch in enumerate(item.text) if not ch.isspace())
    assert any(a.end > b.start for a, b in itertools.pairwise(chunks))  # overlap


def test_long_sentence_is_split() -> None:
    text = "word " * 2000
    chunks = chunk_text("d", text.strip(), target_tokens=100, max_tokens=120)
    assert len(chunks) > 10


def test_an_article_over_the_size_limit_is_cut_with_a_note(tmp_path: Path) -> None:
    body = "The council met again on Tuesday. " * (MAX_ARTICLE_CHARS // 30)
    (tmp_path / "long.txt").write_text("A long article\n" + body, encoding="utf-8")
    note, article = parse_file(tmp_path / "long.txt", tmp_path)
    assert isinstance(note, Problem) and not note.skipped  # a warning, the article is kept
    assert f"first {MAX_ARTICLE_CHARS:,} of" in note.reason
    assert isinstance(article, Article) and len(article.text) == MAX_ARTICLE_CHARS

    line = {"id": "big", "title": "Big", "text": body}
    (tmp_path / "feed.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    note, article = parse_file(tmp_path / "feed.jsonl", tmp_path)
    assert isinstance(note, Problem) and note.source.endswith("feed.jsonl:1")
    assert isinstance(article, Article) and len(article.text) == MAX_ARTICLE_CHARS


def test_the_cut_is_a_note_in_the_ingest_report(
    tmp_path: Path, service: Newsdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse, "MAX_ARTICLE_CHARS", 2_000)  # embedding 500,000 takes minutes
    body = "The council met again on Tuesday. " * 100
    (tmp_path / "long.md").write_text("# A long article\n\n" + body, encoding="utf-8")
    report = service.ingest([tmp_path / "long.md"])
    assert report.new == 1 and not report.skipped
    assert any("article cut to its first" in why for _, why in report.warnings)
    assert "note " in report.summary() and "cut to its first" in report.summary()
