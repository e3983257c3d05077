"""The recency prior: its shape, and its effect on a handful of dated toy articles."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from retrieval.retriever import recency_weight
from retrieval.service import Newsdesk
from retrieval.types import Article

AS_OF = date(2022, 6, 16)
PAST_TODAY = date(2026, 1, 1)  # "today" for the shape tests: AS_OF is historical


def test_flat_inside_the_window() -> None:
    for age in (0, 1, 6, 14):
        published = AS_OF - timedelta(days=age)
        assert recency_weight(published, AS_OF, 14, today=PAST_TODAY) == 1.0


def test_fades_after_the_window() -> None:
    w = [
        recency_weight(AS_OF - timedelta(days=a), AS_OF, 14, today=PAST_TODAY) for a in (15, 21, 60)
    ]
    assert 1.0 > w[0] > w[1] > w[2] > 0.0
    assert w[1] == pytest.approx(math.exp(-1))  # one decay constant (window / 2) past it


def test_future_and_undated() -> None:
    tomorrow = AS_OF + timedelta(days=1)
    # A historical question cannot have been answered by a later article.
    assert recency_weight(tomorrow, AS_OF, 14, today=PAST_TODAY) == 0.0
    # Live use: an article dated tomorrow comes from another time zone.
    assert recency_weight(tomorrow, AS_OF, 14, today=AS_OF) == 1.0
    assert recency_weight(AS_OF + timedelta(days=2), AS_OF, 14, today=AS_OF) == 0.0
    assert recency_weight(None, AS_OF, 14) == 0.0
    assert recency_weight(AS_OF, None, 14) == 0.0
    assert recency_weight(AS_OF, AS_OF, 0) == 0.0


def _article(doc_id: str, published: date, text: str) -> Article:
    return Article(
        doc_id=doc_id,
        title="",
        text=text,
        outlet="Harbour Gazette",
        published=published,
        source=f"toy#{doc_id}",
    )


STRIKE = (
    "Ferry workers in Port Elm walked out on {day}, halting the harbour ferry service. "
    "The union said the strike over pay would continue until the council made a new offer. "
    "Commuters queued for buses along the river road as the ferries stayed moored."
)


@pytest.fixture
def toy(service: Newsdesk) -> Newsdesk:
    service.ingest_articles(
        [
            _article("old", AS_OF - timedelta(days=300), STRIKE.format(day="a Monday last year")),
            _article("recent", AS_OF - timedelta(days=3), STRIKE.format(day="Monday")),
            _article("later", AS_OF + timedelta(days=5), STRIKE.format(day="a later Monday")),
            _article(
                "other",
                AS_OF - timedelta(days=2),
                "The council approved a new library budget for Port Elm on Tuesday. "
                "Councillors said the reading rooms would open longer in the evenings.",
            ),
            _article(
                "museum",
                AS_OF - timedelta(days=400),
                "The Port Elm maritime museum reopened its lighthouse gallery after repairs. "
                "Visitors can climb the tower on weekends, the curator said.",
            ),
        ]
    )
    return service


def test_recent_coverage_wins_over_older_and_later(toy: Newsdesk) -> None:
    question = "Why did the Port Elm ferry workers strike?"
    for system in ("hybrid", "bm25", "vector"):
        docs = toy.retriever.ranked_docs(question, as_of=AS_OF, system=system, k=5)
        assert docs[0] == "recent", system
    # Moved a year on, the same question prefers the coverage of that time.
    year_before = AS_OF - timedelta(days=300)
    assert toy.retriever.ranked_docs(question, as_of=year_before, k=3)[0] == "old"


def test_a_prior_not_a_cut(toy: Newsdesk) -> None:
    # Nothing recent is about the museum: the old article is still found, first.
    docs = toy.retriever.ranked_docs(
        "When can visitors climb the lighthouse tower at the maritime museum?", as_of=AS_OF, k=5
    )
    assert docs[0] == "museum"
