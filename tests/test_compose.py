"""Presentation: quotes read whole, the answer leads, sources repeat no quote it shows."""

from __future__ import annotations

from datetime import date

from bot.render import render_answer, render_sources
from bot.telegram.render import render_answer as telegram_answer
from retrieval.answering import extractive_answer
from retrieval.answering.compose import whole_quote
from retrieval.types import Answer, Citation, Passage
from tests.auxil.fake_bot_api import parse_telegram_html

TEXT = (
    "The council voted 8-1 on Monday to build the farm. "
    "“Every panel on that water is a panel we don’t put on farmland,” said deputy mayor "
    "Lena Varga. Construction starts in June."
)


def _passage(text: str = TEXT) -> Passage:
    return Passage("d::v::0000", "d", text, "Council backs solar farm", "Gazette",
                   date(2024, 3, 11), "https://example.org/solar", 0, len(text))  # fmt: skip


def test_a_quote_cut_by_the_passage_edge_is_trimmed_to_what_reads_whole() -> None:
    tail = "us stay,” he said, and the minister then left the building before the final vote."
    s, e = whole_quote(tail, 0, len(tail))
    assert tail[s:e].startswith("he said, and the minister")
    head = "The minister told reporters on Monday the plan was sound and added: “We will build"
    s, e = whole_quote(head, 0, len(head))
    assert head[s:e] == "The minister told reporters on Monday the plan was sound and added"
    whole = "“We will build it,” she said."
    assert whole_quote(whole, 0, len(whole)) == (0, len(whole))


def test_answer_leads_with_the_quote_and_sources_do_not_repeat_it() -> None:
    answer = extractive_answer("What did the deputy mayor say?", [_passage()])
    first = answer.answer.splitlines()[0]
    assert first.startswith('"“Every panel') and first.endswith("[1]")
    assert "(Reported by Gazette on March 11, 2024.)" in answer.answer
    text = render_answer(answer)
    sources = text.split("Sources:")[1]
    assert "Council backs solar farm, Gazette, March 11, 2024, https://example.org/solar" in sources
    assert "Every panel" not in sources  # the answer already shows it
    assert "Every panel" in render_sources(answer)  # /sources shows every quote
    html = telegram_answer(answer)
    assert html.count("Every panel") == 1 and "<blockquote>" in html
    parse_telegram_html(html)


def test_an_llm_answer_in_its_own_words_keeps_its_quotes_under_sources() -> None:
    cite = Citation(1, "d", "d::v::0000", "Council backs solar farm", "Gazette",
                    date(2024, 3, 11), "", "Construction starts in June.")  # fmt: skip
    answer = Answer("When does work start?", "Work starts in June [1].", False, "llm", [cite])
    assert "Construction starts in June." in render_answer(answer)
    long_cite = Citation(1, "d", "c", "T", "O", None, "", "word " * 100)
    html = telegram_answer(Answer("q", "Paraphrase [1].", False, "llm", [long_cite]))
    assert "word word" in parse_telegram_html(html)


def _doc(doc_id: str, text: str) -> Passage:
    return Passage(f"{doc_id}::v::0000", doc_id, text, "T", "O", date(2024, 3, 11), "", 0,
                   len(text))  # fmt: skip


def test_an_expletive_it_does_not_pull_in_the_sentence_before() -> None:
    text = (
        "Markets were quiet on Friday as traders waited. "
        "It is estimated that the strike at the port will cost shippers $2 billion a week."
    )
    answer = extractive_answer("How much will the port strike cost shippers?", [_doc("d", text)])
    assert (
        answer.answer.startswith('"It is estimated') and "Markets were quiet" not in answer.answer
    )
    leaning = (
        "Kirby spoke to reporters on Friday at the White House. "
        "He added that the strike at the port will cost shippers $2 billion."
    )
    answer = extractive_answer("How much will the port strike cost shippers?", [_doc("d", leaning)])
    assert answer.answer.startswith('"Kirby spoke')  # "He added" needs the sentence before


def test_a_sentence_repeated_by_another_article_is_quoted_once() -> None:
    text = "Honda recalled 2.9 million vehicles over faulty seat belts on Tuesday."
    answer = extractive_answer(
        "Which automaker recalled 2.9 million vehicles?", [_doc("a", text), _doc("b", text)]
    )
    assert answer.answer.count("Honda recalled") == 1


def test_a_question_in_the_coverage_is_not_the_answer() -> None:
    quiz = "Which automaker recalled 2.9 million vehicles this week?"
    text = "Honda recalled 2.9 million vehicles over faulty seat belts on Tuesday."
    answer = extractive_answer(quiz, [_doc("quiz", quiz), _doc("news", text)])
    assert answer.answer.startswith('"Honda recalled')


def test_a_sentence_that_names_the_head_noun_is_quoted() -> None:
    lead = "The Sakurajima volcano erupted on Sunday evening, prompting evacuations on the island."
    named = "Sakurajima, the volcano on the island of Kyushu, has erupted for centuries."
    answer = extractive_answer(
        "A volcano erupted on which Japanese island on Sunday?", [_doc("a", lead), _doc("b", named)]
    )
    assert "island of Kyushu" in answer.answer


def test_a_weak_best_sentence_is_shown_as_the_closest_reporting() -> None:
    text = "The ferry was late again, and passengers waited on the pier."
    weak = extractive_answer("Why did ferry workers walk out?", [_doc("f", text)])
    assert weak.tentative and not weak.refused
    assert "closest reporting" in weak.note and "closest reporting" in render_answer(weak)
    assert "<i>Nothing I have answers this directly" in telegram_answer(weak)
    assert weak.to_json()["tentative"] is True
    strong = extractive_answer("Who backed the solar farm?", [_passage()])
    assert not strong.tentative and not strong.note and "tentative" not in strong.to_json()


def test_a_relative_time_phrase_does_not_weaken_the_answer() -> None:
    text = "Ferry workers walked out over pay on Tuesday, stranding thousands of passengers."
    dated = extractive_answer("Why did ferry workers walk out last week?", [_doc("f", text)])
    plain = extractive_answer("Why did ferry workers walk out?", [_doc("f", text)])
    assert dated.answer == plain.answer and not dated.tentative


def test_two_passages_of_one_article_share_one_source_line() -> None:
    first = "The council voted 8-1 on Monday to build the floating solar farm on the reservoir."
    second = "The floating solar farm will power 4,000 homes once the council's plan is done."
    passages = [
        Passage("d::v::0000", "d", first, "Council backs solar farm", "Gazette",
                date(2024, 3, 11), "https://example.org/solar", 0, len(first)),
        Passage("d::v::0001", "d", second, "Council backs solar farm", "Gazette",
                date(2024, 3, 11), "https://example.org/solar", 900, 900 + len(second)),
    ]  # fmt: skip
    answer = extractive_answer("What did the council decide on the floating solar farm?", passages)
    assert [c.n for c in answer.citations] == [1, 2]
    sources = render_answer(answer).split("Sources:")[1]
    assert sources.count("Council backs solar farm") == 1 and "[1, 2] Council" in sources
    html = telegram_answer(answer)
    assert html.count("Council backs solar farm") == 1 and "[1, 2] <a href" in html
    assert render_sources(answer).count("Council backs solar farm") == 2  # /sources: each
