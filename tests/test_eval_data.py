"""Loaders of the evaluation files: question, baseline, seed QA and corpus formats."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from retrieval.dates import parse_date
from retrieval.evaluation.data import (
    EvalDataError,
    load_baseline,
    load_corpus,
    load_questions,
    load_seed_questions,
)


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_parse_date_formats() -> None:
    assert parse_date("2022/06/16") == date(2022, 6, 16)
    assert parse_date("2022-06-16") == date(2022, 6, 16)
    assert parse_date("2022-06-16T10:00:00Z") == date(2022, 6, 16)
    assert parse_date(None) is None
    assert parse_date("") is None
    assert parse_date("June 2022") is None
    assert parse_date("2022/13/40") is None


def test_load_questions_both_schemas(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "q.jsonl",
        [
            {
                "question_id": "20220617_0",
                "question_sentence": "Which show was green lit?",
                "gold_doc_ids": ["g1"],
                "question_date": "2022/06/16",
                "choices": ["a", "b"],
            },
            {"question": "Plain question?", "gold_doc_ids": ["g2", "g3"], "as_of": "2024-03-05"},
            {"question_id": "no_gold", "question_sentence": "Unanswered?", "gold_doc_ids": []},
        ],
    )
    qs = load_questions(path)
    assert [q.qid for q in qs] == ["20220617_0", "line2", "no_gold"]
    assert qs[0].question == "Which show was green lit?"
    assert qs[0].as_of == date(2022, 6, 16)
    assert qs[1].gold_doc_ids == ["g2", "g3"]
    assert qs[1].as_of == date(2024, 3, 5)
    assert qs[2].gold_doc_ids == []
    assert qs[2].as_of is None


def test_load_questions_rejects_bad_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"gold_doc_ids": ["x"]}\n', encoding="utf-8")
    with pytest.raises(EvalDataError, match=r"bad\.jsonl:1") as exc:
        load_questions(bad)
    assert "bad.jsonl:1" in exc.value.user_message  # shown by the CLI as is
    (tmp_path / "junk.jsonl").write_text("not json\n", encoding="utf-8")
    with pytest.raises(EvalDataError):
        load_questions(tmp_path / "junk.jsonl")
    with pytest.raises(EvalDataError):
        load_questions(tmp_path / "missing.jsonl")


def test_load_baseline_orders_by_rank(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "b.jsonl",
        [
            {
                "question_id": "q1",
                "ranked": [
                    {"rank": 2, "url": "u2", "doc_id": "d2"},
                    {"rank": 1, "url": "u1", "doc_id": "d1"},
                ],
            },
            {"question_id": "q2", "ranked": []},
        ],
    )
    assert load_baseline(path) == {"q1": ["d1", "d2"], "q2": []}


def test_load_seed_questions(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.jsonl",
        [
            {
                "id": "d01",
                "question": "What did Germany say?",
                "answerable": True,
                "must_mention_any": [["Pistorius"], ["not helpful", "boots"]],
                "evidence": ["not helpful"],
            },
            {"id": "d06", "question": "Who won?", "answerable": False},
        ],
    )
    qs = load_seed_questions(path)
    assert qs[0].must_mention_any == [["Pistorius"], ["not helpful", "boots"]]
    assert qs[0].evidence == ["not helpful"]
    assert qs[1].answerable is False
    assert qs[1].must_mention_any == []


def test_load_corpus_body_only_drops_titles(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.jsonl",
        [
            {
                "doc_id": "a1",
                "url": "https://example.com/a",
                "title": "Headline",
                "text": "Body one.",
                "authors": ["A", "B"],
                "publish_date": "2022/06/12",
                "origin": "gcs",
            },
            {"doc_id": "a2", "title": None, "text": "Body two.", "publish_date": None},
        ],
    )
    with_titles = load_corpus(path)
    assert with_titles[0].title == "Headline"
    assert with_titles[0].published == date(2022, 6, 12)
    assert with_titles[0].author == "A, B"
    assert with_titles[1].title == ""
    assert with_titles[1].published is None
    assert [a.title for a in load_corpus(path, titles=False)] == ["", ""]
