"""Answers on the seed article: the shipped questions, refusals, verbatim citations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from retrieval.service import Newsdesk
from retrieval.types import Answer, Turn

QA = [
    json.loads(line) for line in (Path(__file__).parent / "fixtures" / "seed_dev_qa.jsonl").open()
]
SEED_TEXT = (
    Path(__file__).resolve().parent.parent / "seeds" / "000_4b8ec6e6b5196a5a.txt"
).read_text()


def _norm(text: str) -> str:
    return " ".join(text.split())


def assert_citations_valid(answer: Answer) -> None:
    """Every [n] is a citation; every quote is verbatim article text."""
    numbers = {c.n for c in answer.citations}
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert used <= numbers, (used, numbers)
    for c in answer.citations:
        assert c.quote and c.quote in SEED_TEXT, c.quote
        assert c.doc_id and c.chunk_id.startswith(c.doc_id)


@pytest.mark.parametrize("qa", [q for q in QA if q["answerable"]], ids=lambda q: q["id"])
def test_answerable_questions(seeded_service: Newsdesk, qa: dict) -> None:
    answer = seeded_service.answer(qa["question"])
    assert not answer.refused, answer.answer
    assert answer.mode == "extractive"
    text = answer.answer.lower()
    for group in qa["must_mention_any"]:
        assert any(s.lower() in text for s in group), (group, answer.answer)
    assert any(
        any(ev in c.quote or _norm(ev) in _norm(c.quote) for ev in qa["evidence"])
        for c in answer.citations
    ) or any(ev in answer.answer for ev in qa["evidence"])
    assert_citations_valid(answer)
    # Quoted text in the answer appears in the article (after whitespace folding).
    for quoted in re.findall(r'"(.+?)" \[\d+\]', answer.answer):
        assert _norm(quoted) in _norm(SEED_TEXT)


@pytest.mark.parametrize("qa", [q for q in QA if not q["answerable"]], ids=lambda q: q["id"])
def test_unanswerable_questions_are_declined(seeded_service: Newsdesk, qa: dict) -> None:
    answer = seeded_service.answer(qa["question"])
    assert answer.refused
    assert "doesn't say" in answer.answer
    assert answer.citations == []


def test_pistorius_is_named_with_a_source(seeded_service: Newsdesk) -> None:
    answer = seeded_service.answer("What did Germany say about Macron's remarks?")
    assert "Pistorius" in answer.answer
    c = answer.citations[0]
    assert (
        c.outlet == "RFE/RL" and c.published is not None and c.published.isoformat() == "2024-03-05"
    )
    assert c.title.startswith("Ukraine Never Asked For Foreign Troops")


def test_follow_up_uses_the_previous_turn(seeded_service: Newsdesk) -> None:
    first = seeded_service.answer("What did the Czech president say about red lines?")
    follow = seeded_service.answer(
        "What did he say about training soldiers?",
        [Turn(first.question, first.answer, first.standalone_question)],
    )
    assert not follow.refused
    assert "train Ukrainian soldiers" in follow.answer
    assert follow.standalone_question != follow.question


def test_json_shape(seeded_service: Newsdesk) -> None:
    data = seeded_service.answer("Which news agency quoted Sergei Naryshkin?").to_json()
    assert set(data) >= {"question", "answer", "refused", "mode", "citations", "timings_ms"}
    assert set(data["citations"][0]) == {
        "n", "doc_id", "chunk_id", "title", "outlet", "published", "url", "quote",
    }  # fmt: skip
    json.dumps(data)


def test_empty_index_declines(service: Newsdesk) -> None:
    answer = service.answer("What did Germany say about Macron's remarks?")
    assert answer.refused


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_bad_questions_get_a_clear_message(seeded_service: Newsdesk, question: str) -> None:
    from retrieval.errors import InputRejectedError

    with pytest.raises(InputRejectedError) as err:
        seeded_service.answer(question)
    assert err.value.user_message


def test_hostile_question_is_just_text(seeded_service: Newsdesk) -> None:
    answer = seeded_service.answer('<b>&amp;</b> \'; DROP TABLE articles; -- {"$where": 1}')
    assert answer.refused
    assert seeded_service.stats().articles == 1


def test_who_criticized_that_names_a_critic(seeded_service: Newsdesk) -> None:
    first = seeded_service.answer("What did Germany say about Macron's remarks?")
    follow = seeded_service.answer(
        "who criticized that?", [Turn(first.question, first.answer, first.standalone_question)]
    )
    assert not follow.refused
    assert "Pistorius" in follow.answer or "Naryshkin" in follow.answer, follow.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is John Kirby?", "National Security Council spokesman John Kirby"),
        ("What did John Kirby say?", "just asking for the tools and capabilities"),
        ("Has Zelenskiy asked Western countries to send troops?", "tools and capabilities"),
    ],
)
def test_questions_on_their_own(seeded_service: Newsdesk, question: str, expected: str) -> None:
    answer = seeded_service.answer(question)
    assert not answer.refused and expected in answer.answer, answer.answer
    assert_citations_valid(answer)


def test_briefings_are_never_refusals(seeded_service: Newsdesk) -> None:
    for question in ("What's new?", "summarize the coverage", "What happened this week?"):
        answer = seeded_service.answer(question)
        assert not answer.refused and answer.citations, answer.answer
        assert answer.answer.count("[1]") == 1 and "Ukraine Never Asked" in answer.answer
    assert not seeded_service.brief("Macron").refused
