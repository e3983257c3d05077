"""Ranking metrics: Hits@k and MRR@10 over documents ranked by their best chunk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_KS: tuple[int, ...] = (1, 4, 10)
MRR_CUTOFF = 10


def docs_by_best_chunk(chunk_doc_ids: Iterable[str]) -> list[str]:
    """Turn a best-first list of chunk doc ids into distinct documents, best chunk first."""
    seen: set[str] = set()
    ranked: list[str] = []
    for doc_id in chunk_doc_ids:
        if doc_id not in seen:
            seen.add(doc_id)
            ranked.append(doc_id)
    return ranked


def first_hit_rank(ranking: Sequence[str], gold: Iterable[str]) -> int | None:
    """Return the 1-based rank of the first gold document among distinct documents, or None."""
    gold_set = set(gold)
    for rank, doc_id in enumerate(docs_by_best_chunk(ranking), start=1):
        if doc_id in gold_set:
            return rank
    return None


def hits_at(rank: int | None, k: int) -> float:
    """Return 1.0 when the first gold document is within the top k."""
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, cutoff: int = MRR_CUTOFF) -> float:
    """Return 1/rank of the first gold document, 0 when it is missing or below the cutoff."""
    return 1.0 / rank if rank is not None and rank <= cutoff else 0.0


@dataclass(frozen=True)
class RankingScores:
    """Mean Hits@k and MRR@10 of one system over n questions."""

    n: int
    hits: dict[int, float]
    mrr: float

    def to_json(self, digits: int = 4) -> dict[str, float]:
        data = {f"hits@{k}": round(v, digits) for k, v in sorted(self.hits.items())}
        data[f"mrr@{MRR_CUTOFF}"] = round(self.mrr, digits)
        return data


def score_rankings(
    rankings: Mapping[str, Sequence[str]],
    gold: Mapping[str, Iterable[str]],
    ks: Sequence[int] = DEFAULT_KS,
) -> RankingScores:
    """Score a ranking per question id against gold doc ids; a missing ranking is a miss.

    Every question in `gold` counts, so a system that skipped a question is not rewarded.
    Rankings may list a document more than once (one entry per chunk): only its first,
    best-ranked occurrence counts.
    """
    n = len(gold)
    if n == 0:
        return RankingScores(n=0, hits={k: 0.0 for k in ks}, mrr=0.0)
    hit_sums = dict.fromkeys(ks, 0.0)
    rr_sum = 0.0
    for qid, gold_ids in gold.items():
        rank = first_hit_rank(rankings.get(qid, ()), gold_ids)
        for k in ks:
            hit_sums[k] += hits_at(rank, k)
        rr_sum += reciprocal_rank(rank)
    return RankingScores(n=n, hits={k: s / n for k, s in hit_sums.items()}, mrr=rr_sum / n)
