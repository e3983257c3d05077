"""Turn time phrases in a question ("last week", "in March", "since Monday") into a date window.

Windows are inclusive `(start, end)` publication dates relative to `today` (or an as-of date).
Weeks start on Monday. A phrase that only points to the future ("tomorrow", "in March 2099")
gives no window: reporting about the future is published before it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta

Window = tuple[date, date]

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sept": 9,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "couple of": 2, "a couple of": 2, "few": 3, "a few": 3, "several": 5,
}  # fmt: skip

_M = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_Y = r"(?:19|20)\d{2}"
_D = r"\d{1,2}(?:st|nd|rd|th)?(?![\d:])"
_WD = r"(?:" + "|".join(_WEEKDAYS) + r")"
_N = r"(?:\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(?:day|week|month|year)s?"

# one date expression: an ISO date, a day, a month (maybe early/mid/late), a year, a weekday
_EXPR = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{_M}\s+{_D}(?:,?\s+{_Y})?|{_D}\s+(?:of\s+)?{_M}(?:,?\s+{_Y})?"
    rf"|(?:(?:early|mid|late)[-\s]+)?{_M}(?:,?\s+{_Y})?|{_Y}|{_WD})"
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _week_of(day: date) -> Window:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _last_weekday(name: str, today: date, *, strictly_before: bool) -> date:
    back = (today.weekday() - _WEEKDAYS.index(name)) % 7
    if back == 0 and strictly_before:
        back = 7
    return today - timedelta(days=back)


def _number(text: str) -> int:
    text = text.strip()
    return int(text) if text.isdigit() else _NUMBERS[text]


def _expr(text: str, today: date, *, bare: bool = False) -> Window | None:
    """Parse one date expression matched by `_EXPR`; `bare` means no preposition before it."""
    text = re.sub(r"\s+", " ", text.strip().rstrip(","))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return day, day
    if text in _WEEKDAYS:
        day = _last_weekday(text, today, strictly_before=False)
        return day, day
    if re.fullmatch(_Y, text):
        return None if bare else (date(int(text), 1, 1), date(int(text), 12, 31))
    year_m = re.search(rf"({_Y})$", text)
    year = int(year_m[1]) if year_m else None
    month_m = re.search(_M, text)
    if month_m is None:
        return None
    month = _MONTHS[month_m[0].rstrip(".")]
    day_m = re.search(
        r"(?<![\d])(\d{1,2})(?:st|nd|rd|th)?(?![\d])", text[: year_m.start()] if year_m else text
    )
    if day_m:
        y = year if year is not None else today.year
        try:
            day = date(y, month, int(day_m[1]))
            if year is None and day > today:
                day = date(y - 1, month, int(day_m[1]))
        except ValueError:
            return None
        return day, day
    part_m = re.match(r"(early|mid|late)", text)
    if bare and year is None and part_m is None:
        return None  # a lone month name ("march") is too often another word
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    start, end = date(year, month, 1), _month_end(year, month)
    if part_m:
        bounds = {"early": (1, 10), "mid": (11, 20), "late": (21, end.day)}[part_m[1]]
        start, end = date(year, month, bounds[0]), date(year, month, bounds[1])
    return start, end


def _relative_unit(unit: str, n: int, today: date) -> Window:
    """Window of the unit (day/week/month/year) that was `n` units ago."""
    unit = unit.rstrip("s")
    if unit == "day":
        day = today - timedelta(days=n)
        return day, day
    if unit == "week":
        return _week_of(today - timedelta(weeks=n))
    if unit == "month":
        y, m = _add_months(today.year, today.month, -n)
        return date(y, m, 1), _month_end(y, m)
    return date(today.year - n, 1, 1), date(today.year - n, 12, 31)


def _span_back(unit: str, n: int, today: date) -> Window:
    """The last `n` units up to today: "the past 3 days", "the last two weeks"."""
    unit = unit.rstrip("s")
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
    return today - timedelta(days=days), today


def _this(unit: str, today: date) -> Window:
    if unit == "week":
        return _week_of(today)[0], today
    if unit == "month":
        return today.replace(day=1), today
    return today.replace(month=1, day=1), today


def _last(unit: str, today: date) -> Window:
    """The previous calendar week, month or year."""
    if unit == "week":
        start = _week_of(today)[0] - timedelta(days=7)
        return start, start + timedelta(days=6)
    if unit == "month":
        y, m = _add_months(today.year, today.month, -1)
        return date(y, m, 1), _month_end(y, m)
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)


def _weekend(today: date) -> Window:
    if today.weekday() >= 5:  # Saturday or Sunday: this weekend, so far
        saturday = today - timedelta(days=today.weekday() - 5)
    else:
        saturday = today - timedelta(days=today.weekday() + 2)
    return saturday, saturday + timedelta(days=1)


def _since(expr: str, today: date, after: bool, *, last: bool = False) -> Window | None:
    if last and expr.strip() in _WEEKDAYS:  # "since last Monday" on a Monday: a week ago
        day = _last_weekday(expr.strip(), today, strictly_before=True)
        win: Window | None = (day, day)
    else:
        win = _expr(expr, today)
    if win is None:
        return None
    start = win[1] + timedelta(days=1) if after else win[0]
    return start, today


def _between(a: str, b: str, today: date) -> Window | None:
    first, second = _expr(a, today), _expr(b, today)
    if first is None or second is None:
        return None
    return min(first[0], second[0]), max(first[1], second[1])


Rule = tuple[re.Pattern[str], Callable[[re.Match[str], date], Window | None]]


def _rule(pattern: str, fn: Callable[[re.Match[str], date], Window | None]) -> Rule:
    return re.compile(pattern), fn


_RULES: list[Rule] = [
    _rule(
        rf"\b(?:between|from)\s+(?:the\s+)?({_EXPR})\s+(?:and|to|until|till|through)\s+"
        rf"(?:the\s+)?({_EXPR})\b",
        lambda m, t: _between(m[1], m[2], t),
    ),
    _rule(
        rf"\b(since|after)\s+(?:the\s+)?(last\s+|this\s+)?({_EXPR})\b",
        lambda m, t: _since(m[3], t, m[1] == "after", last=bool(m[2] and "last" in m[2])),
    ),
    _rule(rf"\bfrom\s+(?:the\s+)?({_EXPR})\s+on(?:wards?)?\b", lambda m, t: _since(m[1], t, False)),
    _rule(rf"\b(?:in|during|on|throughout|of|for|from)\s+({_EXPR})\b", lambda m, t: _expr(m[1], t)),
    _rule(rf"\b({_EXPR})\b", lambda m, t: _expr(m[1], t, bare=True)),
    _rule(r"\bthe day before yesterday\b", lambda m, t: (t - timedelta(2), t - timedelta(2))),
    _rule(r"\byesterday\b", lambda m, t: (t - timedelta(1), t - timedelta(1))),
    _rule(r"\blast night\b", lambda m, t: (t - timedelta(1), t)),
    _rule(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", lambda m, t: (t, t)),
    _rule(
        rf"\blast ({_WD})\b", lambda m, t: (d := _last_weekday(m[1], t, strictly_before=True), d)
    ),
    _rule(r"\b(?:this|current) (week|month|year)\b", lambda m, t: _this(m[1], t)),
    _rule(r"\bthe (?:past|last) (week|month|year)\b", lambda m, t: _span_back(m[1], 1, t)),
    _rule(r"\bpast (week|month|year)\b", lambda m, t: _span_back(m[1], 1, t)),
    _rule(r"\b(?:last|previous) (week|month|year)\b", lambda m, t: _last(m[1], t)),
    _rule(
        rf"\b(?:past|last|previous)\s+({_N})\s+({_UNIT})\b",
        lambda m, t: _span_back(m[2], _number(m[1]), t),
    ),
    _rule(rf"\b({_N})\s+({_UNIT})\s+ago\b", lambda m, t: _relative_unit(m[2], _number(m[1]), t)),
    _rule(r"\b(?:this|last|the|over the) weekend\b", lambda m, t: _weekend(t)),
]


def time_phrases(question: str) -> list[str]:
    """Every time phrase in a question ("last week", "on Monday"), whatever its window."""
    text = question.lower().replace("’", "'")
    return [m.group() for pattern, _ in _RULES for m in pattern.finditer(text)]


def parse_window(question: str, today: date) -> Window | None:
    """Return the inclusive (start, end) window a question's time phrase points to, or None.

    The earliest phrase in the question wins (the longest one when two start together).
    Windows end no later than `today`; a phrase only about the future gives None.
    """
    text = question.lower().replace("’", "'")
    found: list[tuple[int, int, Window]] = []
    for pattern, fn in _RULES:
        for m in pattern.finditer(text):
            win = fn(m, today)
            if win is None or win[0] > today:
                continue
            found.append((m.start(), -(m.end() - m.start()), (win[0], min(win[1], today))))
    if not found:
        return None
    found.sort(key=lambda f: (f[0], f[1]))
    return found[0][2]
