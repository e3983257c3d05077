"""Hits@k and MRR@10 on tiny hand-made rankings with exact expected values."""

from __future__ import annotations

import pytest

from retrieval.evaluation.metrics import (
    docs_by_best_chunk,
    first_hit_rank,
    reciprocal_rank,
    score_rankings,
)


def test_docs_by_best_chunk_keeps_first_occurrence() -> None:
    assert docs_by_best_chunk(["a", "b", "a", "c", "b", "d"]) == ["a", "b", "c", "d"]


def test_first_hit_rank_counts_distinct_documents() -> None:
    # Chunks of "x" twice before the gold doc: the gold doc is the 2nd distinct document.
    assert first_hit_rank(["x", "x", "g"], ["g"]) == 2
    assert first_hit_rank(["x", "y"], ["g"]) is None
    # With several gold docs, the first one found counts.
    assert first_hit_rank(["x", "g2", "g1"], ["g1", "g2"]) == 2


def test_reciprocal_rank_cutoff() -> None:
    assert reciprocal_rank(1) == 1.0
    assert reciprocal_rank(4) == 0.25
    assert reciprocal_rank(10) == 0.1
    assert reciprocal_rank(11) == 0.0
    assert reciprocal_rank(None) == 0.0


def test_score_rankings_exact_values() -> None:
    gold = {"q1": ["a"], "q2": ["b"], "q3": ["c"], "q4": ["d"]}
    rankings = {
        "q1": ["a", "x"],  # rank 1
        "q2": ["x", "x", "y", "z", "b"],  # distinct docs x, y, z, b -> rank 4
        "q3": [f"n{i}" for i in range(10)] + ["c"],  # rank 11: outside the top 10
        # q4 is missing: a miss
    }
    scores = score_rankings(rankings, gold)
    assert scores.n == 4
    assert scores.hits == {1: 0.25, 4: 0.5, 10: 0.5}
    assert scores.mrr == pytest.approx((1 + 0.25) / 4)
    assert scores.to_json() == {
        "hits@1": 0.25,
        "hits@4": 0.5,
        "hits@10": 0.5,
        "mrr@10": 0.3125,
    }


def test_score_rankings_ignores_questions_without_gold_in_mapping() -> None:
    # Rankings for questions not in `gold` do not change n.
    scores = score_rankings({"q1": ["a"], "extra": ["z"]}, {"q1": ["a"]})
    assert scores.n == 1
    assert scores.hits[1] == 1.0
    assert scores.mrr == 1.0


def test_score_rankings_empty() -> None:
    scores = score_rankings({}, {})
    assert scores.n == 0
    assert scores.mrr == 0.0


def test_percentile_is_nearest_rank() -> None:
    from retrieval.metrics import percentile

    assert percentile([], 95) == 0.0
    assert percentile([5.0], 50) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0, 5.0], 50) == 3.0
    assert percentile(range(1, 101), 95) == 95.0
