"""The one date parser: the formats seen in news metadata and text, and the ISO dates stored."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

MONTH_DATE = re.compile(
    r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.? (\d{1,2}), (\d{4})\b"
)


def parse_date(value: Any) -> date | None:
    """Parse the date formats seen in news metadata; None when unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10 and text[4] == text[7] == "-":  # as Newsdesk stores dates: read fast
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    m = re.match(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    m2 = MONTH_DATE.search(text)
    if m2:
        try:
            return datetime.strptime(f"{m2[1][:3]} {m2[2]} {m2[3]}", "%b %d %Y").date()
        except ValueError:
            return None
    return None
