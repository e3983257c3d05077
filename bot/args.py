"""Argument types shared by the `newsdesk` subcommands."""

from __future__ import annotations

import argparse
from datetime import date


def date_arg(value: str) -> date:
    """Parse YYYY-MM-DD for argparse, with a clear error."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
