"""End to end: the real service and CLI with OPENAI_BASE_URL pointing at a scripted server."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.llm_cli import register
from retrieval.config import Settings
from retrieval.embedding import OnnxMiniLM
from retrieval.llm.answerer import LLMAnswerer
from retrieval.service import Newsdesk
from retrieval.store import Store
from retrieval.types import Answer, Turn
from tests.auxil.llm_fakes import Reply, ScriptedLLM
from tests.conftest import SEEDS, cli_env, make_settings, run_cli

SEED_TEXT = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
QUESTION = "What did Germany say about Macron's remarks?"


@pytest.fixture
def fake() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


@pytest.fixture
def data(tmp_path: Path, seeded_dir: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(seeded_dir, copy)
    return copy


def llm_env(data: Path, fake: ScriptedLLM, **extra: str) -> dict[str, str]:
    env = {
        "NEWSDESK_LLM": "auto",
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "sk-test",
        "NEWSDESK_LLM_MODEL": "test-model",
    }
    return cli_env(data, **{**env, **extra})


def llm_settings(data: Path, fake: ScriptedLLM) -> Settings:
    return make_settings(
        data,
        llm="auto",
        openai_base_url=fake.base_url,
        openai_api_key="sk-test",
        llm_model="test-model",
    )


@pytest.fixture
def svc(data: Path, fake: ScriptedLLM, embedder: OnnxMiniLM) -> Iterator[Newsdesk]:
    settings = llm_settings(data, fake)
    service = Newsdesk(
        settings, Store(settings, embedder.model_id, embedder.dim), embedder, LLMAnswerer(settings)
    )
    yield service
    service.close()


def test_ask_json_returns_a_verified_llm_answer(data: Path, fake: ScriptedLLM) -> None:
    proc = run_cli("ask", "--json", QUESTION, env=llm_env(data, fake))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["mode"] == "llm" and not out["refused"]
    assert out["verification"] == {"ok": True, "dropped": [], "fallback": None}
    assert out["citations"] and "[1]" in out["answer"]
    for c in out["citations"]:
        assert c["quote"] in SEED_TEXT
    assert len(fake.requests) == 1  # no history: no condensing call


def test_bad_model_output_is_replaced(svc: Newsdesk, fake: ScriptedLLM) -> None:
    fake.push(Reply(text='Pistorius said "we will send troops next week" [1]. It was big [4].'))
    out = svc.answer(QUESTION).to_json()
    assert out["mode"] == "extractive" and out["note"]
    assert out["verification"]["fallback"] and out["verification"]["dropped"]
    assert "next week" not in out["answer"]


def test_irrelevant_question_makes_no_llm_call(svc: Newsdesk, fake: ScriptedLLM) -> None:
    answer = svc.answer("Who won the 1998 football world cup?")
    assert answer.refused and fake.requests == []


def test_doctor_wrong_key_is_one_line_and_exit_1(data: Path) -> None:
    with ScriptedLLM(api_key="sk-right") as fake:
        bad = run_cli("doctor", env=llm_env(data, fake, OPENAI_API_KEY="sk-wrong"))
    assert bad.returncode == 1
    lines = [ln for ln in bad.stderr.splitlines() if ln.startswith("LLM:")]
    assert len(lines) == 1 and "rejected the API key" in lines[0]
    assert "Traceback" not in bad.stderr and "sk-wrong" not in bad.stderr


def run_doctor(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="newsdesk")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["doctor"])
    code = args.func(args, settings)
    out, err = capsys.readouterr()
    return code, out, err


def test_doctor_in_process(
    data: Path, fake: ScriptedLLM, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_doctor(llm_settings(data, fake), capsys)
    assert code == 0 and out.startswith("LLM: ok (model 'test-model' at http://127.0.0.1:")

    unknown = llm_settings(data, fake).model_copy(update={"llm_model": "gpt-nope"})
    code, _, err = run_doctor(unknown, capsys)
    assert code == 1 and err.count("\n") == 1 and "does not know the model 'gpt-nope'" in err

    code, out, _ = run_doctor(make_settings(data), capsys)
    assert code == 0 and out.startswith("LLM: not configured")

    gone = ScriptedLLM().start()
    settings = llm_settings(data, gone)
    gone.stop()
    code, _, err = run_doctor(settings, capsys)
    assert code == 1 and err.startswith("LLM: Cannot reach the LLM server at http://127.0.0.1:")


async def test_service_streams_and_condenses_follow_ups(svc: Newsdesk, fake: ScriptedLLM) -> None:
    history = [Turn("What did the White House say about troops?", "Kirby said ... [1].")]
    standalone = "Who at the White House said Ukraine never asked for troops?"
    fake.push(Reply(text=standalone))
    events = [e async for e in svc.astream("Who said it?", history)]
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.mode == "llm"
    assert any(isinstance(e, str) and e for e in events[:-1])
    assert answer.standalone_question == standalone
    assert answer.question == "Who said it?"
    assert len(fake.requests) == 2  # condense, then answer
    for c in answer.citations:
        assert c.quote in SEED_TEXT


def test_repl_prints_the_streamed_llm_answer_and_its_sources(
    svc: Newsdesk, fake: ScriptedLLM
) -> None:
    import io

    from bot.repl import Repl

    out = io.StringIO()
    repl = Repl(svc, svc.settings, out=out)
    assert repl.handle(QUESTION)
    assert repl.last is not None and repl.last.mode == "llm"
    printed = out.getvalue()
    assert repl.last.answer.split("[1]")[0].strip()[:40] in printed  # streamed as it arrived
    assert "Sources:" in printed and "[1]" in printed
    assert repl.handle("/sources") and printed.count("Sources:") < out.getvalue().count("Sources:")
    assert len(repl.history) == 1
    assert "March 5, 2024" in repl.last.answer  # when the cited reporting is from
