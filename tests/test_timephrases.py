"""Time phrases in questions become inclusive (start, end) publication-date windows."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.timephrases import parse_window

THU = date(2024, 3, 14)  # a Thursday; weeks start on Monday


def d(month: int, day: int, year: int = 2024) -> date:
    return date(year, month, day)


@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("What happened today?", (THU, THU)),
        ("What did the mayor say yesterday?", (d(3, 13), d(3, 13))),
        ("And the day before yesterday?", (d(3, 12), d(3, 12))),
        ("What did the council decide this week?", (d(3, 11), THU)),
        ("What happened last week?", (d(3, 4), d(3, 10))),
        ("What was last week's vote about?", (d(3, 4), d(3, 10))),
        ("What happened in the past week?", (d(3, 7), THU)),
        ("Any news since Monday?", (d(3, 11), THU)),
        ("Anything since last Monday?", (d(3, 11), THU)),
        ("What did he say on Tuesday?", (d(3, 12), d(3, 12))),
        ("What did he say last Thursday?", (d(3, 7), d(3, 7))),
        ("What happened over the weekend?", (d(3, 9), d(3, 10))),
        ("What happened this month?", (d(3, 1), THU)),
        ("What happened last month?", (d(2, 1), d(2, 29))),
        ("What happened in March?", (d(3, 1), THU)),
        ("What happened in March 2023?", (d(3, 1, 2023), d(3, 31, 2023))),
        ("What happened in May?", (d(5, 1, 2023), d(5, 31, 2023))),  # the last May that was
        ("What happened in December?", (d(12, 1, 2023), d(12, 31, 2023))),
        ("news from early March", (d(3, 1), d(3, 10))),
        ("What was said in late February?", (d(2, 21), d(2, 29))),
        ("What happened on March 5?", (d(3, 5), d(3, 5))),
        ("What happened on 5 March 2024?", (d(3, 5), d(3, 5))),
        ("What was reported March 5, 2024?", (d(3, 5), d(3, 5))),
        ("What happened on the 5th of March?", (d(3, 5), d(3, 5))),
        ("reports from 2024-03-05", (d(3, 5), d(3, 5))),
        ("Anything new since March 5?", (d(3, 5), THU)),
        ("Anything after March 5?", (d(3, 6), THU)),
        ("Everything from March 5 onwards", (d(3, 5), THU)),
        ("What happened between March 1 and March 10?", (d(3, 1), d(3, 10))),
        ("from March 1 to March 3", (d(3, 1), d(3, 3))),
        ("What happened in 2023?", (d(1, 1, 2023), d(12, 31, 2023))),
        ("What changed since 2023?", (d(1, 1, 2023), THU)),
        ("this year", (d(1, 1), THU)),
        ("last year", (d(1, 1, 2023), d(12, 31, 2023))),
        ("in the last 3 days", (d(3, 11), THU)),
        ("over the past two weeks", (d(2, 29), THU)),
        ("three days ago", (d(3, 11), d(3, 11))),
        ("two weeks ago", (d(2, 26), d(3, 3))),
        ("a month ago", (d(2, 1), d(2, 29))),
        ("What did ministers say last night?", (d(3, 13), THU)),
        ("WHAT HAPPENED LAST WEEK", (d(3, 4), d(3, 10))),
        ("What did Macron say last week’s summit?", (d(3, 4), d(3, 10))),  # curly apostrophe
    ],
)
def test_phrases(question: str, window: tuple[date, date]) -> None:
    assert parse_window(question, THU) == window


@pytest.mark.parametrize(
    "question",
    [
        "What did Germany say about Macron's remarks?",
        "Why did protesters march on city hall?",
        "What may happen to the bridge?",
        "Who won the 2024 election?",  # a year used as a name, not a window
        "What is planned for tomorrow?",  # the future: reporting about it is from before
        "What happens next week?",
        "What will happen in March 2099?",
        "What is the latest on the strike?",
        "",
    ],
)
def test_no_window(question: str) -> None:
    assert parse_window(question, THU) is None


def test_relative_to_the_given_day() -> None:
    # the same phrase moves with the as-of date
    assert parse_window("this week", date(2024, 3, 5)) == (d(3, 4), d(3, 5))
    assert parse_window("last week", date(2024, 3, 5)) == (d(2, 26), d(3, 3))
    assert parse_window("in March", date(2024, 2, 10)) == (d(3, 1, 2023), d(3, 31, 2023))
    assert parse_window("last month", date(2024, 1, 15)) == (d(12, 1, 2023), d(12, 31, 2023))
    # on a Monday, "since Monday" is today and "last Monday" a week ago
    assert parse_window("since Monday", d(3, 11)) == (d(3, 11), d(3, 11))
    assert parse_window("since last Monday", d(3, 11)) == (d(3, 4), d(3, 11))
    # a weekend asked about on a Sunday is this one, up to today
    assert parse_window("this weekend", d(3, 10)) == (d(3, 9), d(3, 10))


def test_first_phrase_wins() -> None:
    q = "What did the mayor say yesterday about last week's vote?"
    assert parse_window(q, THU) == (d(3, 13), d(3, 13))


def test_windows_never_end_after_today() -> None:
    for q in ["this week", "in March", "since Monday", "this year", "in 2024"]:
        window = parse_window(q, THU)
        assert window is not None and window[0] <= window[1] <= THU


def test_impossible_dates_give_no_window() -> None:
    assert parse_window("What happened on February 30?", THU) is None
    assert parse_window("reports from 2024-13-45", THU) is None
