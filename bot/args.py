"""Argument types shared by the `newsdesk` subcommands."""

from __future__ import annotations

import argparse
from datetime import date

from retrieval.dates import parse_date


def date_arg(value: str) -> date:
    """Parse a date for argparse (YYYY-MM-DD, or as news metadata writes it), with a clear error."""
    day = parse_date(value)
    if day is None:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}")
    return day
