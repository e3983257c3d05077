"""`newsdesk doctor`: check the LLM configuration and say what is wrong in one line."""

from __future__ import annotations

import argparse
import sys

from retrieval.config import Settings
from retrieval.errors import NewsdeskError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `doctor` subcommand."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the LLM settings (key, server, model)",
        description="Check that the configured LLM server is reachable, accepts the key "
        "and knows the model. Exits non-zero when something is wrong.",
    )
    parser.set_defaults(func=cmd_doctor)


def describe_target(settings: Settings) -> str:
    """Say which LLM the settings point at, without secrets."""
    if settings.llm == "local":
        model = settings.local_model or "the packaged SmolLM2 GGUF"
        return f"local llama.cpp server with {model}"
    where = settings.openai_base_url or "https://api.openai.com/v1"
    return f"model {settings.llm_model!r} at {where}"


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Check the LLM; print one line; return 0 when it works, 1 when it does not."""
    # Imported here: the openai SDK costs half a second at every `newsdesk` start otherwise.
    from retrieval.llm.answerer import build_llm

    llm = build_llm(settings)
    if llm is None:
        print(
            "LLM: not configured; answers are extractive (set OPENAI_BASE_URL or OPENAI_API_KEY)."
        )
        return 0
    try:
        llm.check()
    except NewsdeskError as exc:
        print(f"LLM: {exc.user_message}", file=sys.stderr)
        return 1
    finally:
        llm.close()
    print(f"LLM: ok ({describe_target(settings)})")
    return 0
