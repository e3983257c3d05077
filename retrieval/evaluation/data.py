"""Loaders for evaluation files: questions with gold documents, baseline rankings, seed QA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from retrieval.dates import parse_date
from retrieval.errors import NewsdeskError
from retrieval.types import Article


class EvalDataError(NewsdeskError):
    """An evaluation file is missing or malformed; the message says which and where."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, user_message=detail)


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise EvalDataError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalDataError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise EvalDataError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, record


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


@dataclass(frozen=True)
class EvalQuestion:
    """A question with the documents that answer it and the date it was asked."""

    qid: str
    question: str
    gold_doc_ids: list[str]
    as_of: date | None


def load_questions(path: Path) -> list[EvalQuestion]:
    """Load RealTime QA questions or `{"question", "gold_doc_ids", "as_of"}` records."""
    questions: list[EvalQuestion] = []
    for lineno, rec in _records(path):
        text = question_text(rec, path, lineno)
        qid = rec.get("question_id") or rec.get("id") or f"line{lineno}"
        as_of = parse_date(rec.get("question_date") or rec.get("as_of"))
        gold = _str_list(rec.get("gold_doc_ids"))
        questions.append(EvalQuestion(str(qid), text, gold, as_of))
    return questions


def question_text(rec: dict[str, Any], path: Path, lineno: int) -> str:
    """The question of a RealTime QA (`question_sentence`) or plain (`question`) record."""
    text = rec.get("question_sentence") or rec.get("question")
    if not isinstance(text, str) or not text.strip():
        raise EvalDataError(f"{path}:{lineno}: no question_sentence or question")
    return text.strip()


def _rank_key(item: dict[str, Any]) -> int:
    rank = item.get("rank")
    return rank if isinstance(rank, int) else 1 << 30


def load_baseline(path: Path) -> dict[str, list[str]]:
    """Load a rankings file (`question_id`, `ranked[].doc_id`) as best-first doc ids."""
    rankings: dict[str, list[str]] = {}
    for lineno, rec in _records(path):
        qid = rec.get("question_id") or rec.get("id")
        ranked = rec.get("ranked")
        if qid is None or not isinstance(ranked, list):
            raise EvalDataError(f"{path}:{lineno}: expected question_id and a ranked list")
        items = [r for r in ranked if isinstance(r, dict) and r.get("doc_id")]
        # Order by the stated rank when present; the file order otherwise.
        items.sort(key=_rank_key)
        rankings[str(qid)] = [str(r["doc_id"]) for r in items]
    return rankings


@dataclass(frozen=True)
class SeedQuestion:
    """A question about the seed coverage with what a good answer must contain."""

    qid: str
    question: str
    answerable: bool
    must_mention_any: list[list[str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def load_seed_questions(path: Path) -> list[SeedQuestion]:
    """Load seed QA records (`question`, `answerable`, `must_mention_any`, `evidence`)."""
    out: list[SeedQuestion] = []
    for lineno, rec in _records(path):
        text = rec.get("question")
        if not isinstance(text, str) or not text.strip():
            raise EvalDataError(f"{path}:{lineno}: no question")
        groups = [_str_list(g) for g in rec.get("must_mention_any") or []]
        out.append(
            SeedQuestion(
                qid=str(rec.get("id") or f"line{lineno}"),
                question=text.strip(),
                answerable=bool(rec.get("answerable", True)),
                must_mention_any=groups,
                evidence=_str_list(rec.get("evidence")),
            )
        )
    return out


def load_corpus(path: Path, *, titles: bool = True) -> list[Article]:
    """Load a RealTime QA style corpus (`doc_id`, `text`, `title`, `publish_date`, ...).

    `titles=False` drops every headline (the body-only variant): in RealTime QA the gold
    articles have none while the distractors do, so titles must not decide a ranking.
    The `origin` field is never read.
    """
    articles: list[Article] = []
    for lineno, rec in _records(path):
        doc_id = rec.get("doc_id")
        text = rec.get("text")
        if not doc_id or not isinstance(text, str):
            raise EvalDataError(f"{path}:{lineno}: expected doc_id and text")
        authors = rec.get("authors")
        author = ", ".join(_str_list(authors)) if authors else ""
        articles.append(
            Article(
                doc_id=str(doc_id),
                title=str(rec.get("title") or "") if titles else "",
                text=text,
                published=parse_date(rec.get("publish_date")),
                url=str(rec.get("url") or ""),
                author=author,
                source=f"{path.name}#{doc_id}",
            )
        )
    return articles
