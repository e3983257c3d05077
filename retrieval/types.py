"""Plain data passed between ingest, retrieval, answering and the front ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any, Literal

from retrieval.dates import parse_date

AnswerMode = Literal["extractive", "llm"]


@dataclass(frozen=True)
class Article:
    """One parsed article, ready to chunk."""

    doc_id: str
    title: str
    text: str
    outlet: str = ""
    published: date | None = None
    url: str = ""
    author: str = ""
    source: str = (
        ""  # where it came from (a file path, "file.jsonl#doc", or a URL); used by --prune
    )


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned span of an article; `text == article.text[start:end]`."""

    doc_id: str
    index: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class ChunkMeta:
    """What Chroma keeps beside a stored chunk: where it sits and the article fields to cite it.

    `from_chroma` is the one place that reads the stored form; `to_chroma` the one that writes it.
    """

    doc_id: str
    version: str  # the article version this chunk belongs to (see retrieval/store.py)
    chunk: int  # its index in the article, 0 for the lead
    start: int
    end: int
    title: str
    outlet: str
    published: date | None
    url: str

    @property
    def published_ord(self) -> int:
        """The publication day as an ordinal, -1 when unknown (what date windows filter on)."""
        return self.published.toordinal() if self.published else -1

    @classmethod
    def of(cls, article: Article, version: str, chunk: Chunk) -> ChunkMeta:
        """The metadata of one chunk of one article version."""
        a, c = article, chunk
        return cls(
            a.doc_id, version, c.index, c.start, c.end, a.title, a.outlet, a.published, a.url
        )

    @classmethod
    def from_chroma(cls, meta: Mapping[str, Any] | None) -> ChunkMeta:
        """Read stored metadata; a missing or unreadable field becomes empty (0, "", None)."""
        m = meta or {}
        return cls(
            doc_id=str(m.get("doc_id") or ""),
            version=str(m.get("version") or ""),
            chunk=int(m.get("chunk") or 0),
            start=int(m.get("start") or 0),
            end=int(m.get("end") or 0),
            title=str(m.get("title") or ""),
            outlet=str(m.get("outlet") or ""),
            published=parse_date(m.get("published")),
            url=str(m.get("url") or ""),
        )

    def to_chroma(self) -> dict[str, str | int]:
        """The stored form: flat strings and ints, with `published_ord` for window filters."""
        return {
            "doc_id": self.doc_id,
            "version": self.version,
            "chunk": self.chunk,
            "start": self.start,
            "end": self.end,
            "title": self.title,
            "outlet": self.outlet,
            "published": self.published.isoformat() if self.published else "",
            "published_ord": self.published_ord,
            "url": self.url,
        }


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the article fields needed to cite it."""

    chunk_id: str
    doc_id: str
    text: str
    title: str
    outlet: str
    published: date | None
    url: str
    start: int
    end: int
    score: float = 0.0  # fused retrieval score (higher is better)
    similarity: float = 0.0  # cosine similarity of question and chunk


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer; `quote` is verbatim text of the article."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    outlet: str
    published: date | None
    url: str
    quote: str

    @classmethod
    def of(cls, n: int, passage: Passage, quote: str) -> Citation:
        """Cite `quote` (verbatim text of `passage`) as source number `n`."""
        return cls(
            n=n,
            doc_id=passage.doc_id,
            chunk_id=passage.chunk_id,
            title=passage.title,
            outlet=passage.outlet,
            published=passage.published,
            url=passage.url,
            quote=quote,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Citation:
        """The inverse of `to_json`; a text field it lacks is empty."""
        text = {f.name: str(data.get(f.name) or "") for f in fields(cls) if f.type == "str"}
        return cls(n=int(data["n"]), published=parse_date(data.get("published")), **text)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, for follow-up questions."""

    question: str
    answer: str
    standalone_question: str = ""


@dataclass
class Verification:
    """What the citation check found in an LLM answer."""

    ok: bool
    dropped: list[dict[str, Any]] = field(default_factory=list)
    fallback: str | None = None


@dataclass
class Answer:
    """The one result every front end renders."""

    question: str
    answer: str
    refused: bool
    mode: AnswerMode
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""
    as_of: date | None = None
    verification: Verification | None = None
    note: str = ""  # a one-line note to show the user, e.g. why the LLM answer was replaced
    tentative: bool = False  # no sentence answers it well: the closest reporting, said so

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "mode": self.mode,
            "citations": [c.to_json() for c in self.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.standalone_question and self.standalone_question != self.question:
            data["standalone_question"] = self.standalone_question
        if self.as_of:
            data["as_of"] = self.as_of.isoformat()
        if self.verification is not None:
            data["verification"] = asdict(self.verification)
        if self.note:
            data["note"] = self.note
        if self.tentative:
            data["tentative"] = True
        return data


@dataclass(frozen=True)
class CoverageStats:
    """What the index holds, for /start and `newsdesk stats`."""

    articles: int
    chunks: int
    outlets: list[str]
    first_published: date | None
    last_published: date | None
