"""The real `newsdesk` entry point in subprocesses: ingest, ask --json, chat (the REPL loop)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS, cli_env, run_cli


@pytest.fixture
def cli_data(tmp_path: Path, seeded_dir: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    return data


def test_ingest_then_everything_unchanged(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    first = run_cli("ingest", str(SEEDS), env=env)
    assert first.returncode == 0, first.stderr
    assert "1 new" in first.stdout
    second = run_cli("ingest", env=env)  # default: seeds/
    assert second.returncode == 0, second.stderr
    assert "0 new, 0 updated, 1 unchanged, 0 skipped" in second.stdout


def test_ask_json(cli_data: Path) -> None:
    res = run_cli(
        "ask", "--json", "What did Germany say about Macron's remarks?", env=cli_env(cli_data)
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["mode"] == "extractive" and data["refused"] is False
    assert "Pistorius" in data["answer"]
    assert data["citations"] and all(c["quote"] for c in data["citations"])
    assert "total_ms" in data["timings_ms"]
    assert "Traceback" not in res.stderr


def test_ask_unanswerable(cli_data: Path) -> None:
    res = run_cli("ask", "--json", "Who won the 2022 football World Cup?", env=cli_env(cli_data))
    assert json.loads(res.stdout)["refused"] is True


def test_ask_too_long_is_a_clear_error(cli_data: Path) -> None:
    res = run_cli("ask", "x" * 3000, env=cli_env(cli_data))
    assert res.returncode == 1
    assert "characters long" in res.stderr and "Traceback" not in res.stderr


def test_chat_repl_loop(cli_data: Path) -> None:
    script = "\n".join(
        [
            "What did Germany say about Macron's remarks?",
            "/sources",
            "What did the Czech president say about red lines?",
            "What did he say about training soldiers?",
            "/help",
            "/nonsense",
            "Who won the 2022 football World Cup?",
            "/quit",
        ]
    )
    res = run_cli("chat", env=cli_env(cli_data), input=script + "\n")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Pistorius" in out
    assert out.count("Sources:") >= 2  # with the answer and again for /sources
    assert "train Ukrainian soldiers" in out  # the follow-up used the previous turn
    assert "/quit" in out and "Unknown command /nonsense" in out
    assert "doesn't say" in out
    assert "Traceback" not in res.stderr


def test_chat_ctrl_d_exits_cleanly(cli_data: Path) -> None:
    res = run_cli(
        "chat", env=cli_env(cli_data), input="What is the Czech ammunition initiative worth?\n"
    )
    assert res.returncode == 0
    assert "1.5 billion" in res.stdout


def test_start_ingests_seeds_and_opens_the_repl(tmp_path: Path) -> None:
    res = run_cli(
        "start",
        env=cli_env(tmp_path / "data"),
        input="What did Germany say about Macron's remarks?\n/quit\n",
    )
    assert res.returncode == 0, res.stderr
    assert "1 new" in res.stdout and "Pistorius" in res.stdout


def test_ingest_while_locked_says_index_in_use(cli_data: Path) -> None:
    from retrieval.config import Settings
    from retrieval.store import IndexLock

    lock = IndexLock(Settings(_env_file=None, data_dir=cli_data).data_dir / "index.lock")
    lock.acquire(exclusive=True)
    try:
        res = run_cli("ingest", env=cli_env(cli_data))
    finally:
        lock.close()
    assert res.returncode == 3
    assert "in use" in res.stderr and "Traceback" not in res.stderr


def test_chroma_server_mode(tmp_path: Path, chroma_server: tuple[str, int]) -> None:
    host, port = chroma_server
    env = cli_env(
        tmp_path / "data", CHROMA_HOST=host, CHROMA_PORT=str(port), NEWSDESK_COLLECTION="srvtest"
    )
    assert run_cli("ingest", env=env).returncode == 0
    again = run_cli("ingest", env=env)
    assert "1 unchanged" in again.stdout
    res = run_cli("ask", "--json", "Which news agency quoted Sergei Naryshkin?", env=env)
    assert res.returncode == 0, res.stderr
    assert "RIA Novosti" in json.loads(res.stdout)["answer"]
    assert not (tmp_path / "data" / "chroma").exists()  # nothing written to a local store


def test_ask_batch_answers_in_order_with_errors_in_place(cli_data: Path, tmp_path: Path) -> None:
    batch = tmp_path / "questions.jsonl"
    lines = [
        json.dumps({"question": "What did Germany say about Macron's remarks?"}),
        "{not json",
        json.dumps({"question": "who criticized that?", "as_of": "2024-03-06",
                    "history": ["What did Germany say about Macron's remarks?"]}),
        json.dumps({"question": "x", "as_of": "March"}),
        json.dumps({"question": "Who won the 2022 football World Cup?"}),
        json.dumps({"question": ""}),
    ]  # fmt: skip
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_cli("ask", "--json", "--batch", str(batch), env=cli_env(cli_data))
    assert res.returncode == 0, res.stderr
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(out) == 6
    assert "Pistorius" in out[0]["answer"]
    assert out[1] == {"line": 2, "error": out[1]["error"]} and "JSON" in out[1]["error"]
    assert out[2]["as_of"] == "2024-03-06"
    assert "Pistorius" in out[2]["answer"] or "Naryshkin" in out[2]["answer"]
    assert "as_of" in out[3]["error"]
    assert out[4]["refused"] is True
    assert out[5]["error"] == "Please ask a question."


def test_brief_and_no_library_log_noise(cli_data: Path) -> None:
    res = run_cli("brief", env=cli_env(cli_data))
    assert res.returncode == 0, res.stderr
    assert "Ukraine Never Asked For Foreign Troops" in res.stdout and "[1]" in res.stdout
    ask = run_cli("ask", "Who is John Kirby?", env=cli_env(cli_data))
    assert "spokesman John Kirby" in ask.stdout
    for out in (res, ask):
        assert "mmap" not in out.stderr and "INFO" not in out.stderr, out.stderr
    debug = run_cli("ask", "Who is John Kirby?", env=cli_env(cli_data, NEWSDESK_LOG_LEVEL="DEBUG"))
    assert "mmap objects" in debug.stderr  # library logs come back when asked for
