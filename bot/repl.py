"""`newsdesk chat`: a REPL with line editing, history, follow-ups and /sources."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.render import render_answer, render_sources
from retrieval.api import NewsService
from retrieval.config import Settings
from retrieval.errors import NewsdeskError
from retrieval.types import Answer, Turn

HELP = """Ask a question about the coverage, e.g. "What did Germany say about Macron's remarks?"
Follow-up questions use the previous turn ("Who criticized that?").
Commands: /sources  show the full sources of the last answer
          /new      forget the conversation
          /help     this help
          /quit     leave (Ctrl-D works too)"""


def _setup_readline(history_file: Path) -> Callable[[], None]:
    try:
        import readline
    except ImportError:  # not on every platform; plain input() still works
        return lambda: None
    with contextlib.suppress(OSError):
        readline.read_history_file(history_file)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history_file)

    return save


class Repl:
    """The read-answer-print loop; reads with input() so readline editing works on a TTY."""

    def __init__(
        self,
        service: NewsService,
        settings: Settings,
        *,
        out: TextIO = sys.stdout,
        as_of: date | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.out = out
        self.as_of = as_of
        self.history: list[Turn] = []
        self.last: Answer | None = None

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def run(self) -> int:
        """Loop until /quit, Ctrl-D or Ctrl-C; return the exit code."""
        save = _setup_readline(self.settings.data_dir / ".repl_history")
        stats = self.service.stats()
        self.print(
            f"Newsdesk: {stats.articles} article(s) from {', '.join(stats.outlets) or 'no outlet'}."
            " Type /help for help, /quit to leave."
        )
        try:
            while True:
                try:
                    line = input("newsdesk> ")
                except EOFError:
                    self.print()
                    return 0
                if not self.handle(line.strip()):
                    return 0
        except KeyboardInterrupt:
            self.print()
            return 0
        finally:
            save()

    def handle(self, line: str) -> bool:
        """Handle one input line; return False to leave."""
        if not line:
            return True
        if line.startswith("/"):
            cmd = line.split()[0].lower()
            if cmd in ("/quit", "/exit", "/q"):
                return False
            if cmd == "/help":
                self.print(HELP)
            elif cmd == "/sources":
                self.print(render_sources(self.last) if self.last else "No answer yet.")
            elif cmd in ("/new", "/reset"):
                self.history.clear()
                self.print("Starting a new conversation.")
            else:
                self.print(f"Unknown command {cmd}. Type /help.")
            return True
        try:
            answer = self.ask(line)
        except NewsdeskError as exc:
            self.print(exc.user_message)
            return True
        self.last = answer
        self.history.append(Turn(line, answer.answer, answer.standalone_question))
        del self.history[: -self.settings.history_turns]
        return True

    def ask(self, question: str) -> Answer:
        """Answer one question; stream LLM text as it arrives."""
        if not self.service.uses_llm:
            answer = self.service.answer(question, self.history, as_of=self.as_of)
            self.print(render_answer(answer, sources=True))
            return answer
        return asyncio.run(self._stream(question))

    async def _stream(self, question: str) -> Answer:
        streamed: list[str] = []
        final: Answer | None = None
        async for event in self.service.astream(question, self.history, as_of=self.as_of):
            if isinstance(event, Answer):
                final = event
            else:
                streamed.append(event)
                self.out.write(event)
                self.out.flush()
        assert final is not None
        if streamed:
            shown = "".join(streamed).strip()
            self.print()
            if final.answer.startswith(shown):
                rest = final.answer[len(shown) :].strip()  # e.g. "Reporting as of ..."
                if rest:
                    self.print(rest)
            else:
                self.print("\n-- checked answer --")
                self.print(final.answer)
            if final.note:
                self.print(f"({final.note})")
            if final.citations:
                self.print()
                self.print(render_sources(final, all_quotes=False))
        else:
            self.print(render_answer(final))
        return final
