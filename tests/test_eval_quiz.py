"""`newsdesk eval answers` RealTime QA mode: the metrics on hand-made answers, then a tiny run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from retrieval.evaluation.quiz import (
    QuizQuestion,
    held_out_weeks,
    is_quiz_file,
    load_quiz,
    refusal_scores,
    score_quiz,
    select_part,
    summarize,
)
from retrieval.evaluation.quiz_runner import format_quiz_table, run_quiz_eval
from retrieval.types import Answer, Citation, Passage
from tests.conftest import SEEDS, make_settings

Q = QuizQuestion(
    qid="q1",
    question="Which show was green lit for a new season?",
    as_of=None,
    week="20220617",
    choices=["“Game of Thrones”", "“Squid Game”", "“Friends”"],
    answers=["“Squid Game”"],
)


def _passage(text: str) -> Passage:
    return Passage("d::v::0000", "d", text, "T", "CNN", None, "", 0, len(text))


def _answer(text: str, quote: str = "", refused: bool = False) -> Answer:
    cites = [Citation(1, "d", "d::v::0000", "T", "CNN", None, "", quote)] if quote else []
    return Answer(Q.question, text, refused, "extractive", cites, {"total_ms": 10.0})


def test_recall_folds_case_quotes_and_punctuation() -> None:
    shown = [_passage('Netflix said "squid game" is coming back.')]
    c = score_quiz(Q, _answer('"Netflix said \\"squid game\\" is coming back." [1]'), shown)
    assert (c.recall, c.exclusive, c.ceiling, c.refused) == (True, True, True, False)
    # the answer may sit in a citation's quote rather than the answer text
    assert score_quiz(Q, _answer("See [1].", quote="Squid Game's return"), shown).recall


def test_hedging_is_not_exclusive_and_refusals_score_nothing() -> None:
    shown = [_passage("Squid Game, Friends and others.")]
    hedge = score_quiz(Q, _answer("Squid Game or Friends [1]"), shown)
    assert hedge.recall and not hedge.exclusive
    refused = score_quiz(Q, _answer("Squid Game", refused=True), shown)
    assert not refused.recall and refused.ceiling and refused.refused
    missing = score_quiz(Q, _answer("Friends [1]"), [_passage("Friends")])
    assert not missing.recall and not missing.ceiling


def test_summary_and_refusal_scores() -> None:
    good = score_quiz(Q, _answer("Squid Game [1]"), [])
    bad = score_quiz(Q, _answer("no", refused=True), [])
    s = summarize([good, bad])
    assert (s["n"], s["answer_recall"], s["declined"], s["p95_ms"]) == (2, 0.5, 0.5, 10.0)
    assert (s["tentative"], s["recall_confident"], s["recall_tentative"]) == (0.0, 1.0, None)
    closest = score_quiz(Q, replace(_answer("Friends [1]"), tentative=True), [])
    s = summarize([good, closest])
    assert (s["tentative"], s["recall_confident"], s["recall_tentative"]) == (0.5, 1.0, 0.0)
    scores = refusal_scores([good, bad], [bad, bad, good])
    assert scores == {"refusal_precision": round(2 / 3, 4), "refusal_recall": round(2 / 3, 4)}


def test_weeks_alternate_between_tuning_and_held_out() -> None:
    weeks = ["20220617", "20220701", "20220715", "20220722"]
    assert held_out_weeks(weeks) == {"20220701", "20220722"}
    qs = [QuizQuestion(f"q{i}", "?", None, w, [], ["a"]) for i, w in enumerate(weeks)]
    assert [q.week for q in select_part(qs, "held-out")] == ["20220701", "20220722"]
    assert [q.week for q in select_part(qs, "tuning")] == ["20220617", "20220715"]
    assert len(select_part(qs, "all")) == 4


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_tiny_realtimeqa_run(tmp_path: Path) -> None:
    corpus = _write(
        tmp_path / "corpus.jsonl",
        [
            {"doc_id": "a1", "title": None, "publish_date": "2022/06/12", "url": "",
             "text": "Netflix announced on Sunday that the hit South Korean show Squid Game "
             "is officially coming back for a second season."},
            {"doc_id": "a2", "title": "Tennis", "publish_date": "2022/06/13", "url": "",
             "text": "Serena Williams said she would retire from tennis after the US Open."},
        ],
    )  # fmt: skip
    questions = _write(
        tmp_path / "questions.jsonl",
        [
            {"question_id": "q1", "question_date": "2022/06/16", "week": "20220617",
             "question_sentence": "Which hit South Korean show is coming back for a second season?",
             "choices": ["Game of Thrones", "Squid Game"], "answer_text": ["Squid Game"],
             "gold_doc_ids": ["a1"]},
            {"question_id": "q2", "question_date": "2022/06/16", "week": "20220701",
             "question_sentence": "Which tennis champion is set to retire after the US Open?",
             "choices": ["Serena Williams", "Venus Williams"], "answer_text": ["Serena Williams"],
             "gold_doc_ids": ["a2"]},
            {"question_id": "q3", "question_date": "2022/06/16", "week": "20220701",
             "question_sentence": "Unscored: no answer_text", "choices": ["x"], "answer_text": []},
        ],
    )  # fmt: skip
    baseline = _write(
        tmp_path / "baseline.jsonl",
        [{"question_id": "q1", "ranked": [{"doc_id": "a1", "rank": 1}]}],
    )
    assert is_quiz_file(questions) and len(load_quiz(questions)) == 2
    details = tmp_path / "details.jsonl"
    result = run_quiz_eval(
        make_settings(tmp_path / "data"),
        corpus,
        questions,
        seeds=SEEDS,
        baseline=baseline,
        index_dir=tmp_path / "idx",
        details=details,
    )
    answerable = {c.qid: c for c in result.checks["answerable"]}
    assert answerable["q1"].recall and answerable["q1"].ceiling
    assert answerable["q2"].recall and answerable["q2"].exclusive
    assert all(c.refused for c in result.checks["off-topic"])  # the seed article says nothing
    removed = {c.qid: c for c in result.checks["removed"]}
    assert "a1" not in removed["q1"].docs and not removed["q1"].recall
    summary = result.summary()
    assert summary["held_out_weeks"] == ["20220701"]
    assert summary["parts"]["held-out"]["answerable"]["n"] == 1
    assert summary["parts"]["all"]["refusal"]["refusal_recall"] == 1.0
    assert "held-out" in format_quiz_table(result)
    assert len(details.read_text().splitlines()) == 6
