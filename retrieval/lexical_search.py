"""Search side of the lexical index: tokenisation, schema and one consistent snapshot."""

from __future__ import annotations

import string
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import tantivy

Window = tuple[date, date] | None

# The English stop list of bm25s (which LlamaIndex's BM25Retriever used before): short on
# purpose, so "who", "said" and the like still count.
STOPWORDS = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
]  # fmt: skip
_SINGLE_CHARACTERS = list(string.ascii_lowercase + string.digits)  # bm25s kept 2+ characters
TOKENIZER = "newsdesk_en"
_ANALYZING = threading.Lock()


@dataclass(frozen=True)
class ChunkHit:
    """A chunk that matched the question, with its BM25 score."""

    chunk_id: str
    doc_id: str
    version: str
    score: float


def analyzer() -> Any:
    """The tokenisation BM25 had with bm25s: lower case, words of 2+ letters or digits, the
    stop list, Snowball English stems.

    Tantivy's simple tokenizer (split on anything not a letter or digit) with single
    characters as stop words stands for bm25s' \\w\\w+ pattern at half the cost of a regex;
    it differs on underscores ("ap_sport" is two words). Tantivy's stemmer (rust-stemmers)
    differs a little from PyStemmer's ("university" stays "universiti"). Over the RealTime QA
    chunks under 1% of tokens differ and retrieval scores the same (docs/evaluation.md).
    """
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.custom_stopword([*STOPWORDS, *_SINGLE_CHARACTERS]))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def schema() -> Any:
    b = tantivy.SchemaBuilder()
    b.add_text_field("text", tokenizer_name=TOKENIZER, index_option="freq")
    for name in ("chunk_id", "doc_id", "version"):
        b.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("published_ord", indexed=True, fast=True)
    return b.build()


class LexicalView:
    """One consistent snapshot of both indexes: what every search of one question uses."""

    def __init__(self, schema: Any, analyzer: Any, chunks: Any, articles: Any) -> None:
        self._schema = schema
        self._analyzer = analyzer
        self._chunks = chunks
        self._articles = articles

    def terms(self, query: str) -> list[str]:
        """The question's search terms (stems, stop words out; repeats count twice, as before)."""
        with _ANALYZING:  # the binding borrows the analyzer mutably
            terms: list[str] = self._analyzer.analyze(query)
        return terms

    def _query(self, terms: Sequence[str], *filters: Any) -> Any:
        should = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.term_query(self._schema, "text", t, index_option="freq"),
                )
                for t in terms
            ]
        )
        if not filters:
            return should
        # Filters score 0, so the score stays the plain BM25 sum over the terms.
        musts = [(tantivy.Occur.Must, should)]
        musts += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        return tantivy.Query.boolean_query(musts)

    def _window(self, window: Window) -> list[Any]:
        if window is None:
            return []
        return [
            tantivy.Query.range_query(
                self._schema,
                "published_ord",
                tantivy.FieldType.Integer,
                window[0].toordinal(),
                window[1].toordinal(),
            )
        ]

    def top_chunks(self, terms: Sequence[str], n: int, window: Window = None) -> list[ChunkHit]:
        """The n best chunks by BM25 (published inside `window` when given)."""
        if not terms or n <= 0:
            return []
        hits = self._chunks.search(
            self._query(terms, *self._window(window)), limit=n, count=False
        ).hits
        out = []
        for score, address in hits:
            doc = self._chunks.doc(address)
            out.append(
                ChunkHit(
                    str(doc.get_first("chunk_id")),
                    str(doc.get_first("doc_id")),
                    str(doc.get_first("version")),
                    float(score),
                )
            )
        return out

    def article_scores(
        self, terms: Sequence[str], doc_ids: Iterable[str], window: Window = None
    ) -> tuple[float, dict[str, float]]:
        """Return the best article score for the question and the scores of `doc_ids`."""
        wanted = sorted(set(doc_ids))
        if not terms:
            return 0.0, {}
        limits = self._window(window)
        best = self._articles.search(self._query(terms, *limits), limit=1, count=False).hits
        if not best or not wanted:
            return (float(best[0][0]) if best else 0.0), {}
        only = tantivy.Query.term_set_query(self._schema, "doc_id", wanted)
        hits = self._articles.search(
            self._query(terms, only, *limits), limit=len(wanted), count=False
        ).hits
        scores = {
            str(self._articles.doc(a).get_first("doc_id")): float(s) for s, a in hits if s > 0
        }
        return float(best[0][0]), scores

    def versions(self) -> dict[str, str]:
        """Every article the snapshot holds, with its version."""
        n = self._articles.num_docs
        if n == 0:
            return {}
        hits = self._articles.search(tantivy.Query.all_query(), limit=n, count=False).hits
        out = {}
        for _, address in hits:
            doc = self._articles.doc(address)
            out[str(doc.get_first("doc_id"))] = str(doc.get_first("version"))
        return out
