"""The offline embedding model: unit vectors, batching with padding changes nothing, meaning."""

from __future__ import annotations

import numpy as np

from retrieval.embedding import OnnxMiniLM

TEXTS = [
    "Germany's defence minister said Macron's remarks were not helpful.",
    "Pistorius criticised the French president's comments about troops.",
    "The football World Cup final was won on penalties after a long and dramatic evening "
    "in which both teams scored twice in extra time.",
]


def test_batched_and_single_embeddings_agree(embedder: OnnxMiniLM) -> None:
    batched = OnnxMiniLM(batch_size=3).embed(TEXTS)  # padded to the longest text
    single = embedder.embed(TEXTS)
    assert batched.shape == (3, 384)
    assert np.allclose(batched, single, atol=1e-4)
    assert np.allclose(np.linalg.norm(single, axis=1), 1.0, atol=1e-5)


def test_related_sentences_are_closer(embedder: OnnxMiniLM) -> None:
    v = embedder.embed(TEXTS)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_empty_input(embedder: OnnxMiniLM) -> None:
    assert embedder.embed([]).shape == (0, 384)
