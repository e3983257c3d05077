"""LlamaIndex face of the hybrid retriever, for LlamaIndex query engines, agents and evaluators.

The bot's own answer path queries Chroma and Tantivy directly: with LlamaIndex's
ChromaVectorStore on that path a fresh `newsdesk ask` took about 1.6 s longer and 86 MB more
(docs/scaling.md, "Start-up"). Import this module only where LlamaIndex is wanted.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from retrieval.retriever import HybridRetriever


class NewsdeskRetriever(BaseRetriever):
    """The top `top_k` fused chunks of a HybridRetriever as LlamaIndex nodes."""

    def __init__(
        self, retriever: HybridRetriever, *, top_k: int = 5, as_of: date | None = None
    ) -> None:
        super().__init__()
        self._retriever = retriever
        self._top_k = top_k
        self._as_of = as_of

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        items = self._retriever.search(query_bundle.query_str, as_of=self._as_of)
        nodes = []
        for item in items[: self._top_k]:
            meta: dict[str, Any] = {
                **item.meta.to_chroma(),
                "similarity": item.similarity,
                "lexical": item.lexical,
                "article_lexical": item.article_lexical,
            }
            node = TextNode(id_=item.chunk_id, text=item.text, metadata=meta)
            nodes.append(NodeWithScore(node=node, score=item.score))
        return nodes
