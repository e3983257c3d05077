"""A small local-news page ingested by URL beside the seed article: officials by name or title."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.embedding import OnnxMiniLM
from retrieval.service import Newsdesk
from retrieval.web import ingest_urls
from tests.conftest import make_settings, open_service, service_on_copy
from tests.web_fixtures.server import SOLAR, serve_site

VARGA = "Every panel we float on that water"
ACHEBE = "would pay for itself within eleven years"


@pytest.fixture(scope="module")
def local_dir(
    tmp_path_factory: pytest.TempPathFactory, seeded_dir: Path, embedder: OnnxMiniLM
) -> Path:
    """The seeded index plus the solar-farm page, ingested through the URL ingest."""
    data = tmp_path_factory.mktemp("local") / "data"
    shutil.copytree(seeded_dir, data)
    settings = make_settings(data)
    svc = open_service(settings, embedder)
    try:
        with serve_site() as site:
            report = asyncio.run(ingest_urls(svc, settings, [site.url(SOLAR)]))
        assert not report.failures, report.summary()
        assert svc.stats().articles == 2
    finally:
        svc.close()
    return data


@pytest.fixture
def local(tmp_path: Path, local_dir: Path, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    yield from service_on_copy(local_dir, tmp_path, embedder)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Lena Varga say?", VARGA),
        ("What did the deputy mayor say?", VARGA),
        ("What did the deputy mayor say about the floating solar farm?", VARGA),
        ("What did Varga say about the reservoir?", VARGA),
        ("What did the city treasurer say?", ACHEBE),
        ("What did Samuel Achebe tell councillors?", ACHEBE),
    ],
)
def test_officials_by_name_or_title(local: Newsdesk, question: str, expected: str) -> None:
    answer = local.answer(question)
    assert not answer.refused, answer.answer
    first = answer.answer.splitlines()[0]
    assert expected in first, answer.answer  # the answer leads with the official's words
    assert answer.citations[0].title.startswith("Council backs floating solar farm")


def test_who_is_an_official(local: Newsdesk) -> None:
    answer = local.answer("Who is Lena Varga?")
    assert not answer.refused and "deputy mayor" in answer.answer, answer.answer


def test_seed_questions_still_answered_beside_the_page(local: Newsdesk) -> None:
    answer = local.answer("What did Germany say about Macron's remarks?")
    assert "Pistorius" in answer.answer
    assert local.answer("What did the finance minister of Poland say?").refused


def test_a_briefing_of_chosen_articles_lists_only_those(local: Newsdesk) -> None:
    solar = next(r.doc_id for r in local.latest(5) if r.title.startswith("Council backs"))
    seed = next(r.doc_id for r in local.latest(5) if r.doc_id != solar)
    only = local.digest([solar])
    assert [c.doc_id for c in only.citations] == [solar], only.answer
    assert "(1 article)" in only.answer and "Ukraine" not in only.answer
    both = local.digest([seed, solar])
    assert {c.doc_id for c in both.citations} == {seed, solar} and "(2 articles)" in both.answer
    # a topic among them: the matching one; none matching: says so, lists them anyway
    assert [c.doc_id for c in local.digest([seed, solar], "floating solar farm").citations] == [
        solar
    ]
    off = local.digest([seed], "floating solar farm")
    assert "None of these articles is about" in off.answer and off.citations[0].doc_id == seed
    gone = local.digest(["no-such-article"])
    assert not gone.refused and not gone.citations and "None of those articles" in gone.answer
