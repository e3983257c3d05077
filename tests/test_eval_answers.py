"""The answer checks of `newsdesk eval answers` on hand-made answers."""

from __future__ import annotations

from retrieval.evaluation.data import SeedQuestion
from retrieval.evaluation.runner import AnswersEval, check_answer, mentions_all
from retrieval.types import Answer, Citation

CHUNK = "Pistorius said Macron’s quotes were not helpful.  No boots on the ground, he added."
TEXTS = {"doc::v::0000": CHUNK}
Q = SeedQuestion(
    qid="d01",
    question="What did Germany say about Macron's remarks?",
    answerable=True,
    must_mention_any=[["Pistorius"], ["not helpful", "boots on the ground"]],
    evidence=["Macron’s quotes were not helpful"],
)
UNANSWERABLE = SeedQuestion(qid="d07", question="Who won the 2022 World Cup?", answerable=False)


def _cite(n: int, quote: str, chunk_id: str = "doc::v::0000") -> Citation:
    return Citation(n, "doc", chunk_id, "Title", "RFE/RL", None, "", quote)


def _answer(text: str, citations: list[Citation], refused: bool = False) -> Answer:
    return Answer(question=Q.question, answer=text, refused=refused, mode="extractive",
                  citations=citations)  # fmt: skip


def test_mentions_all_needs_every_group() -> None:
    assert mentions_all("PISTORIUS: not helpful", Q.must_mention_any)
    assert not mentions_all("Pistorius spoke", Q.must_mention_any)
    assert mentions_all("anything", [])


def test_good_answer_passes_every_check() -> None:
    # Whitespace differences do not make a quote less verbatim.
    quote = "Macron’s quotes were not helpful. No boots on the ground"
    ans = _answer(f'Pistorius: "{quote}" [1]', [_cite(1, quote)])
    c = check_answer(Q, ans, TEXTS)
    assert (c.passed, c.citations_valid, c.evidence_hit) == (True, True, True)
    assert c.problems == []


def test_invalid_citations_are_reported() -> None:
    ans = _answer(
        "Pistorius found it not helpful [1] [3].",
        [_cite(1, "quotes were very helpful"), _cite(2, "x", chunk_id="gone::v::0001")],
    )
    c = check_answer(Q, ans, TEXTS)
    assert c.passed is True  # the wording passes, the citations do not
    assert c.citations_valid is False
    assert c.evidence_hit is True  # the passage [1] cites does hold the evidence
    assert sorted(c.problems) == [
        "[1] quote is not verbatim in its passage",
        "[2] cites an unknown passage gone::v::0001",
        "[3] names no citation",
    ]


def test_refusals_and_summary() -> None:
    refused = _answer("The coverage I have doesn't say.", [], refused=True)
    good = _answer('"Macron’s quotes were not helpful" [1] Pistorius', [_cite(1, "not helpful")])
    checks = [
        check_answer(Q, refused, TEXTS),  # a wrong refusal
        check_answer(UNANSWERABLE, refused, TEXTS),  # a right refusal
        check_answer(Q, good, TEXTS),
        check_answer(UNANSWERABLE, good, TEXTS),  # answered what it should have declined
    ]
    assert checks[0].passed is False and checks[0].evidence_hit is False
    assert checks[1].passed is None and checks[1].citations_valid is None
    summary = AnswersEval(mode="extractive", checks=checks).summary
    assert summary == {
        "mode": "extractive",
        "n": 4,
        "answerable": 2,
        "unanswerable": 2,
        "pass_rate": 0.5,
        "refusal_precision": 0.5,
        "refusal_recall": 0.5,
        "citation_validity": 1.0,
        "evidence_hit": 0.5,
    }
