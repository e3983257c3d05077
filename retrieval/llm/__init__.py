"""LLM answers grounded in numbered passages, with a citation check."""

from retrieval.llm.answerer import LLMAnswerer, build_llm

__all__ = ["LLMAnswerer", "build_llm"]
