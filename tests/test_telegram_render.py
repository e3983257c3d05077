"""Rendering, escaping and splitting of Telegram replies (checked with the fake's HTML parser)."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from bot.telegram.render import (
    MAX_MESSAGE,
    esc,
    render_answer,
    render_sources,
    split_message,
    to_plain,
)
from retrieval.types import Answer, Citation
from tests.auxil.fake_bot_api import ParseError, parse_telegram_html


def _citation(n: int, **kw: object) -> Citation:
    base: dict[str, object] = {
        "n": n,
        "doc_id": f"d{n}",
        "chunk_id": f"d{n}:0",
        "title": "Germany <rejects> Macron & co",
        "outlet": "RFE/RL",
        "published": date(2024, 3, 5),
        "url": "https://example.org/a?x=1&y=2",
        "quote": 'Pistorius said "no" <loudly> & clearly.',
    }
    base.update(kw)
    return Citation(**base)  # type: ignore[arg-type]


def test_escape_user_and_article_text() -> None:
    assert esc("<b>&") == "&lt;b&gt;&amp;"
    answer = Answer("q <b>&", "He said <b>no</b> & left [1].", False, "extractive", [_citation(1)])
    html = render_answer(answer)
    assert "<b>no</b>" not in html and "&lt;b&gt;no&lt;/b&gt; &amp; left [1]" in html
    assert 'href="https://example.org/a?x=1&amp;y=2"' in html
    visible = parse_telegram_html(html)  # the Bot API would accept it
    assert "Germany <rejects> Macron & co" in visible
    assert "RFE/RL, 2024-03-05" in visible
    assert 'Pistorius said "no" <loudly> & clearly.' in visible


def test_refusal_has_no_sources_block() -> None:
    answer = Answer("q", "The coverage I have doesn't say.", True, "extractive")
    assert "Sources" not in render_answer(answer)


def test_sources_full_quotes_and_plain_fallback() -> None:
    long_quote = "word " * 100
    html = render_sources([_citation(1, quote=long_quote), _citation(2, url="")])
    parse_telegram_html(html)
    assert long_quote.strip() in parse_telegram_html(html)
    plain = to_plain(html)
    assert "<" not in plain.replace("<rejects>", "").replace("<loudly>", "")
    assert "(https://example.org/a?x=1&y=2)" in plain
    assert render_sources([]) == "The last answer had no sources."


def test_short_text_is_one_part() -> None:
    assert split_message("hello") == ["hello"]
    assert split_message("  ") == []


def test_split_prefers_paragraphs() -> None:
    para = "A sentence here. " * 100  # ~1,700 characters
    text = "\n\n".join([para.strip()] * 5)
    parts = split_message(text)
    assert len(parts) >= 2
    assert all(len(p) <= MAX_MESSAGE for p in parts)
    for p in parts:  # every cut is at a paragraph break: parts are whole paragraphs
        assert all(chunk.strip() == para.strip() for chunk in p.split("\n\n"))


def test_split_at_sentences_without_paragraphs() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(600))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= MAX_MESSAGE and p.endswith("here.") for p in parts)
    assert " ".join(parts) == text


def test_split_never_inside_tag_or_entity_and_balances_tags() -> None:
    body = " ".join(f"<b>bold {i} &amp; more</b> plain &lt;x&gt;" for i in range(400))
    text = f'<i>{body} <a href="https://e.org/?a=1&amp;b=2">link &quot;t&quot;</a></i>'
    parts = split_message(text, 500)
    assert len(parts) > 5
    for p in parts:
        assert len(p) <= 500
        parse_telegram_html(p)  # balanced tags, whole entities
        assert p.startswith("<i>") and p.endswith("</i>")
    joined = "".join(parse_telegram_html(p) for p in parts)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", parse_telegram_html(text))


def test_split_random_documents() -> None:
    rng = random.Random(7)
    link = '<a href="http://x.y/?a=1&amp;b=2">t &lt;u&gt;</a>'
    pieces = ["alpha", "beta.", "&amp;", "gamma!", "<b>bold words</b>", "\n", "\n\n", "z" * 70]
    pieces += [link, "<i>it <b>nested</b></i>"]
    for _ in range(60):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 1500)))
        limit = rng.choice([120, 400, MAX_MESSAGE])
        parts = split_message(text, limit)
        for p in parts:
            assert len(p) <= limit
            parse_telegram_html(p)
        joined = "".join(parse_telegram_html(p) for p in parts)
        assert "".join(joined.split()) == "".join(parse_telegram_html(text).split())


def test_fake_parser_rejects_bad_html() -> None:
    for bad in ("<b>unclosed", "a & b", "<script>x</script>", "1 < 2", "&bogus;"):
        with pytest.raises(ParseError):
            parse_telegram_html(bad)


def test_plain_split_keeps_angle_brackets_as_text() -> None:
    text = " ".join(f"<b>word {i} & <i>x</i>." for i in range(500))
    parts = split_message(text, 300, html=False)
    assert all(len(p) <= 300 for p in parts)
    assert " ".join(parts) == text
