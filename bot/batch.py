"""`newsdesk ask --json --batch FILE`: many questions in one process, one JSON line each."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from retrieval.config import Settings
from retrieval.dates import parse_date
from retrieval.errors import NewsdeskError
from retrieval.service import Newsdesk
from retrieval.types import Turn


class BadLine(ValueError):
    """A batch line that cannot be asked; the message says why."""


def parse_line(line: str) -> tuple[str, date | None, list[Turn]]:
    """Read one batch line: {"question", "as_of"?, "history"?}."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg})") from None
    if not isinstance(rec, dict):
        raise BadLine("expected a JSON object")
    question = rec.get("question")
    if not isinstance(question, str):
        raise BadLine("no question")
    as_of = None
    if rec.get("as_of") is not None:
        as_of = parse_date(rec["as_of"])
        if as_of is None:
            raise BadLine(f"as_of is not a date (YYYY-MM-DD): {rec['as_of']!r}")
    history: list[Turn] = []
    raw = rec.get("history") or []
    if not isinstance(raw, list):
        raise BadLine("history must be a list")
    for turn in raw:
        if isinstance(turn, str):
            history.append(Turn(turn, ""))
        elif isinstance(turn, dict) and isinstance(turn.get("question"), str):
            history.append(Turn(turn["question"], str(turn.get("answer") or "")))
        else:
            raise BadLine("each history turn is a question or {question, answer}")
    return question, as_of, history


def _lines(path: Path) -> Iterator[str]:
    if str(path) == "-":
        yield from sys.stdin
        return
    try:
        with path.open(encoding="utf-8") as handle:
            yield from handle
    except OSError as exc:
        raise NewsdeskError(
            f"cannot read {path}", user_message=f"Cannot read {path}: {exc.strerror or exc}"
        ) from exc


def run_batch(
    path: Path, settings: Settings, *, as_of: date | None = None, out: TextIO = sys.stdout
) -> int:
    """Answer every line of `path` ("-" for stdin); a bad line gets an error object."""
    svc = Newsdesk.open(settings)
    try:
        for lineno, line in enumerate(_lines(path), start=1):
            if not line.strip():
                continue
            result: dict[str, Any]
            try:
                question, line_as_of, history = parse_line(line)
                answer = svc.answer(question, history, as_of=line_as_of or as_of)
                result = answer.to_json()
            except BadLine as exc:
                result = {"line": lineno, "error": str(exc)}
            except NewsdeskError as exc:  # a rejected question: say why, go on
                result = {"line": lineno, "error": exc.user_message}
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            out.flush()
    finally:
        svc.close()
    return 0
