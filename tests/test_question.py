"""Question analysis, speakers, mentions and folding: the rules the answerer is built on."""

from __future__ import annotations

import pytest

from retrieval.answering.briefing import briefing_topic, lead_sentence
from retrieval.answering.entities import attached, mentions, type_fit
from retrieval.answering.question import analyse
from retrieval.answering.speakers import explicit_speaker, speaker_matches, speakers
from retrieval.text import content_stems, fold, occurs


@pytest.mark.parametrize(
    ("question", "kind", "subject"),
    [
        ("Who is John Kirby?", "person", "John Kirby"),
        (
            "What did the finance chair say about the floating solar farm?",
            "speech",
            "finance chair",
        ),
        ("What did Germany say about Macron's remarks?", "speech", "Germany"),
        ("How did Russia react to the remarks?", "speech", "Russia"),
        ("Which country will host the next World Cup?", "place", ""),
        ("Which British luxury carmaker revealed its first electric car?", "org", ""),
        ("Which 23-time grand slam tennis champion is set to retire?", "person", ""),
        ("How many reported sightings did officers receive?", "number", ""),
        ("What is the Czech ammunition initiative worth?", "number", ""),
        ("When did the Queen die?", "date", ""),
        ("Which wildly popular show was green lit for a new season?", "thing", ""),
        # the head of the phrase after "which" decides, not any kind noun further on
        ("Shops are short of which condiment, sparking outrage in the country?", "thing", ""),
        ("Which Supreme Court ruling did the president call devastating?", "thing", ""),
        ("Which Nobel Peace Prize-winning former world leader died this week?", "person", ""),
        ("Meloni claimed victory to become which country's new prime minister?", "place", ""),
        ("Which Major League Baseball team was invited to the White House?", "org", ""),
        ("What storm battered the island this week?", "thing", ""),
        ("WHICH COUNTRY WILL HOST THE NEXT WORLD CUP?", "place", ""),
        ("Which Country Will Host The Next World Cup?", "place", ""),
        # "which of these X" and plural kind nouns name the kind too
        ("Which of these players wasn't traded before the deadline?", "person", ""),
        ("Which of the following US cities saw the biggest rise in rents?", "place", ""),
        ("Which two countries did NATO invite to join?", "place", ""),
        ("Which of the following was named Word of the Year?", "thing", ""),
    ],
)
def test_expected_answer_and_subject(question: str, kind: str, subject: str) -> None:
    spec = analyse(question)
    assert (spec.kind, spec.subject) == (kind, subject)


def test_stance_questions_want_a_statement() -> None:
    assert analyse("who criticized that?").wants_speech
    assert not analyse("Who won the 2022 World Cup?").wants_speech


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        (
            "“It is cheap,” said council finance chair Ingrid Maalouf.",
            "council finance chair Ingrid Maalouf",
        ),
        (
            "Germany’s defense minister said Macron’s quotes were not helpful.",
            "Germany’s defense minister",
        ),
        ("Macron earlier on March 5 said he “fully stood behind” remarks.", "Macron"),
        ("“I go. You stay,” Kirby told reporters.", "Kirby"),
        (
            "Sergei Naryshkin was quoted by RIA Novosti as saying it was reckless.",
            "Sergei Naryshkin",
        ),
        (
            "According to the U.S. Geological Survey, the quake was strong.",
            "U.S. Geological Survey",
        ),
        ("The bridge opened in 2020.", ""),
        # who asks for something is not who says the sentence
        ("Zelenskiy has never asked for troops, the White House said on March 5.", "White House"),
    ],
)
def test_explicit_speakers(sentence: str, speaker: str) -> None:
    assert explicit_speaker(sentence) == speaker


def test_he_said_and_bare_quotes_continue_the_speaker() -> None:
    texts = ["Pavel said the West would help.", "He added it would take time.", "“We agree.”"]
    assert speakers(texts) == ["Pavel", "Pavel", "Pavel"]


def test_subject_matches_by_title_or_surname() -> None:
    spec = analyse("What did the finance chair say?")
    assert speaker_matches(spec.subject_stems, "council finance chair Ingrid Maalouf", []) == 1.0
    kirby = analyse("What did John Kirby say?")
    assert speaker_matches(kirby.subject_stems, "Kirby", kirby.names) >= 0.8
    assert speaker_matches(kirby.subject_stems, "Macron", kirby.names) == 0.0


def test_mentions_and_type_fit() -> None:
    kinds = {
        m.text: m.kind
        for m in mentions(
            "Around 15 nations backed Czech President Petr Pavel in Prague on March 5."
        )
    }
    assert kinds["Czech President Petr Pavel"] == "person"
    assert kinds["Prague"] == "place" and kinds["March 5"] == "date"
    q = f" {fold('Which country will build the bridge?')} "
    assert type_fit("place", "Norway will build the bridge.", q) == 1.0
    assert type_fit("place", "The bridge will be built soon.", q) == 0.0
    # what the question already names is no answer
    assert type_fit("place", "Norway will build it.", f" {fold('Will Norway build it?')} ") == 0.0


def test_fold_and_occurs() -> None:
    text = fold("He starred in “Leave It to Beaver,” the show’s star said; BA.5 spread.")
    assert occurs('"Leave it to Beaver"', text)
    assert occurs("the show's star", text) and occurs("BA.5", text)
    assert not occurs("Beaver said", text)
    assert content_stems("Macron’s remarks") == ["macron", "remark"]


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What's new?", ""),
        ("summarize the coverage", ""),
        ("What happened this week?", ""),
        ("Any news about Macron?", "Macron"),
        ("What is the latest on the floating solar farm?", "floating solar farm"),
        ("What happened to the ferry?", None),
        ("Which country made headlines this week?", None),
        ("For a brief period this week, which color did Twitter use?", None),
        ("Who is John Kirby?", None),
    ],
)
def test_briefing_requests(question: str, topic: str | None) -> None:
    assert briefing_topic(question) == topic


def test_lead_sentence_skips_boilerplate() -> None:
    text = (
        "Subscribe to our newsletter. Sign up. "
        "The council approved the bridge on Tuesday after a long debate."
    )
    s, e = lead_sentence(text)
    assert text[s:e].startswith("The council approved")


def test_a_place_the_question_names_in_another_form_is_not_an_answer() -> None:
    folded = f" {fold('A volcano erupted on which Japanese island on Sunday?')} "
    assert type_fit("place", "Japan's Sakurajima volcano erupted on Sunday.", folded) < 1.0
    assert type_fit("place", "The volcano erupted in Indonesia on Sunday.", folded) == 1.0


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("A volcano erupted on which Japanese island on Sunday?", "island"),
        ("Which wildly popular show was green lit for a new season?", "show"),
        ("NASA hit an asteroid. What was the name of the mission?", "mission"),
        ("Which of these players wasn't traded?", "player"),
        ("Which Supreme Court ruling did the president call devastating?", "ruling"),
        ("What did John Kirby say?", ""),
    ],
)
def test_head_noun_of_the_question(question: str, head: str) -> None:
    assert analyse(question).head == head


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Sakurajima, located on the island of Kyushu, erupted on Sunday.", 1.0),
        ("The $325m mission, known as Dart, hit the asteroid.", 1.0),
        ("Residents of Kyushu island were told to leave.", 1.0),
        ("The streaming show “Squid Game” is coming back.", 1.0),
        ("The island was evacuated on Sunday after the eruption.", 0.0),  # names nothing
        ("Trump's team gave its version of the search.", 0.0),  # whose team, not its name
        ("The two islands were evacuated.", 0.0),  # a count is not a name
        ("The island of Japan's south was evacuated.", 0.0),  # the question names Japan
    ],
)
def test_a_name_beside_the_head_noun(sentence: str, expected: float) -> None:
    question = "A volcano erupted on which Japanese island on Sunday?"
    spec = analyse(question)
    head = "show" if "show" in sentence else "mission" if "mission" in sentence else spec.head
    head = "team" if "team" in sentence else head
    assert attached(head, spec.kind, sentence, f" {fold(question)} ") == expected


@pytest.mark.parametrize(
    ("question", "unit", "fits", "misses"),
    [
        (
            "Ukraine split from the Soviet Union in which year?",
            "year",
            "The holiday marks Ukraine's 1991 declaration of independence.",
            "Ukraine marked Independence Day on Wednesday.",
        ),
        (
            "What percentage of Britons believe they could beat a chimpanzee?",
            "percent",
            "The poll found 10% of Britons were confident.",
            "The poll of 2,000 Britons was held in May.",
        ),
        (
            "How much did the telescope cost?",
            "money",
            "NASA's $10 billion telescope sent its first images.",
            "The telescope sits 1 million miles from Earth.",
        ),
    ],
)
def test_a_number_of_the_unit_asked_for_fits(
    question: str, unit: str, fits: str, misses: str
) -> None:
    spec = analyse(question)
    folded = f" {fold(question)} "
    assert spec.unit == unit
    assert type_fit(spec.kind, fits, folded, spec.unit) == 1.0
    assert type_fit(spec.kind, misses, folded, spec.unit) < 0.5
    assert type_fit(spec.kind, misses, folded) == 1.0  # without the unit any number fits
