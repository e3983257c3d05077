"""Article extraction from pages written for the tests; canonical urls and fingerprints."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from retrieval.web.extract import doc_id_for_url, extract_article, fingerprint, normalize_url
from retrieval.web.fetch import FetchError, Page

FIXTURES = Path(__file__).parent / "web_fixtures"
BASE = "https://www.gazette.example"


def page(name: str, path: str) -> Page:
    body = (FIXTURES / name).read_text(encoding="utf-8").replace("{{BASE}}", BASE).encode()
    return Page(BASE + path, BASE + path, 200, "text/html", "utf-8", body)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.gazette.example/news/a?utm_source=rss&utm_medium=feed&fbclid=x1",
            "https://www.gazette.example/news/a",
        ),
        ("HTTPS://WWW.Gazette.Example:443/news/a/#comments", "https://www.gazette.example/news/a"),
        ("https://www.gazette.example/news/a/amp", "https://www.gazette.example/news/a"),
        ("https://www.gazette.example/news/a.amp.html", "https://www.gazette.example/news/a.html"),
        ("https://www.gazette.example/amp/news/a", "https://www.gazette.example/news/a"),
        ("https://amp.gazette.example/news/a?amp=1", "https://gazette.example/news/a"),
        ("https://www.gazette.example/news/a?outputType=amp", "https://www.gazette.example/news/a"),
        (
            "https://www-gazette-example.cdn.ampproject.org/c/s/www.gazette.example/news/a",
            "https://www.gazette.example/news/a",
        ),
        # parameters that select content stay, sorted
        (
            "https://gazette.example/story?page=2&id=7&gclid=z",
            "https://gazette.example/story?id=7&page=2",
        ),
        ("http://127.0.0.1:8080/news/a?utm_campaign=x", "http://127.0.0.1:8080/news/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_doc_id_is_stable_across_url_variants() -> None:
    plain = doc_id_for_url("https://www.gazette.example/news/a")
    variants = [
        "http://gazette.example/news/a/",
        "https://www.gazette.example/news/a?utm_source=twitter#top",
        "https://www.gazette.example/news/a/amp",
        "https://m.gazette.example/news/a",
    ]
    assert all(doc_id_for_url(v) == plain for v in variants)
    assert doc_id_for_url("https://www.gazette.example/news/b") != plain
    assert doc_id_for_url("https://www.gazette.example/story?id=7") != doc_id_for_url(
        "https://www.gazette.example/story?id=8"
    )


def test_fingerprint_ignores_case_spacing_and_punctuation() -> None:
    a = "The council voted 7-2.\n\nIt ends a debate."
    assert fingerprint(a) == fingerprint("the  council voted 7 2 it ends a debate")
    assert fingerprint(a) != fingerprint("The council voted 2-7. It ends a debate.")


def test_extracts_headline_body_author_outlet_date_and_canonical_url() -> None:
    art = extract_article(page("bridge-vote.html", "/some/path?utm_source=x"))
    assert art.title == "Council approves Elm River footbridge"
    assert art.outlet == "The Riverside Gazette"
    assert art.author == "Jane Doe"
    assert art.published == date(2024, 3, 5)
    assert art.url == BASE + "/news/2024/03/05/council-approves-footbridge"
    assert art.doc_id == doc_id_for_url(art.url)
    assert art.source == BASE + "/some/path?utm_source=x"
    assert art.text.startswith("The Riverside city council voted 7-2 on Tuesday")
    assert "potholes older than some of our voters" in art.text
    # navigation, sidebars and footers are not the article
    assert "Most read" not in art.text and "All rights reserved" not in art.text
    assert "\n\n" in art.text  # paragraphs kept apart for the chunker


def test_amp_page_and_original_are_one_story() -> None:
    plain = extract_article(
        page("bridge-vote.html", "/news/2024/03/05/council-approves-footbridge")
    )
    amp = extract_article(
        page("bridge-vote-amp.html", "/news/2024/03/05/council-approves-footbridge/amp")
    )
    assert amp.doc_id == plain.doc_id
    assert fingerprint(amp.text) == fingerprint(plain.text)


def test_syndicated_copy_differs_by_url_but_not_by_fingerprint() -> None:
    plain = extract_article(page("bridge-vote.html", "/news/x"))
    wire = extract_article(page("bridge-syndicated.html", "/wire/riverside-footbridge-approved"))
    assert wire.doc_id != plain.doc_id
    assert wire.outlet == "Valley Wire"
    assert fingerprint(wire.text) == fingerprint(plain.text)


def test_date_from_time_element_and_id_from_url_without_canonical() -> None:
    art = extract_article(page("library-reopens.html", "/culture/library-reopens?utm_source=rss"))
    assert art.published == date(2024, 3, 12)
    assert art.url == BASE + "/culture/library-reopens"
    assert art.author == "Tomás Reyes"


def test_feed_date_and_title_fill_in_when_the_page_has_none() -> None:
    body = (
        b"<html><body><article>"
        b"<p>The harbour master confirmed that dredging of the outer channel will begin in "
        b"April and last about six weeks, closing the western berth to cargo ships.</p>"
        b"<p>Fishing boats will keep using the eastern berth, and the pilot service will add "
        b"a second boat to guide larger vessels past the works at night.</p>"
        b"</article></body></html>"
    )
    art = extract_article(
        Page(BASE + "/p/1", BASE + "/p/1", 200, "text/html", None, body),
        fallback_title="Dredging to start in April",
        fallback_date=date(2024, 3, 1),
    )
    assert art.title == "Dredging to start in April"
    assert art.published == date(2024, 3, 1)
    assert art.outlet == "gazette.example"  # no site name: the host stands in


def test_canonical_pointing_at_the_front_page_is_ignored() -> None:
    html = (FIXTURES / "flood-warning.html").read_text(encoding="utf-8")
    html = html.replace("{{BASE}}/news/2024/03/14/flood-warning-elm-river", BASE + "/")
    p = Page(BASE + "/n/flood", BASE + "/n/flood", 200, "text/html", "utf-8", html.encode())
    assert extract_article(p).url == BASE + "/n/flood"


def test_page_without_article_text_is_refused() -> None:
    with pytest.raises(FetchError) as err:
        extract_article(page("nav-only.html", "/sections"))
    assert err.value.reason == "no article text found on the page"
    assert BASE + "/sections" in err.value.user_message


def test_binary_garbage_is_refused_not_crashed() -> None:
    p = Page(BASE + "/x", BASE + "/x", 200, "text/html", None, b"\x00\xff\xfe<<<\x00" * 100)
    with pytest.raises(FetchError):
        extract_article(p)
