"""Parse article files (.txt, .md, .jsonl) into Articles; reject bad input with clear reasons."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from retrieval.dates import MONTH_DATE, parse_date
from retrieval.types import Article

logger = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".markdown", ".jsonl")
MAX_FILE_BYTES = 10_000_000  # one article file; a .jsonl is read line by line instead
MAX_LINE_BYTES = 2_000_000  # one .jsonl record
MAX_ARTICLE_CHARS = 500_000  # longer bodies are cut, with a note in the ingest report


@dataclass(frozen=True)
class Problem:
    """Something in the input that was skipped or changed, with where and why."""

    source: str
    reason: str
    skipped: bool = True


ParseItem = Article | Problem

_BOILERPLATE_CUT = re.compile(
    r"^\s*(leave a (reply|comment)|post a comment|\d+ comments?|comments?\s*$|"
    r"join the conversation|related (articles|stories)\s*$|read more\s*:?\s*$)",
    re.IGNORECASE,
)
_BOILERPLATE_LINE = re.compile(
    r"^\s*(share (this|on|via)\b.*|click to (share|email|print).*|"
    r"your email address will not be published.*|required fields are marked.*|"
    r"sign up for (our|the) .*newsletter.*|subscribe to (our|the) .*|"
    r"advertisement|follow us on .*|"
    r"[\w/ ]{2,20} journalists report the news in \d+ countries.*)\s*$",
    re.IGNORECASE,
)
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Za-z.,' -]{0,40}?\s*)?\((?P<outlet>[A-Za-z][A-Za-z/&.' -]{1,30})\)\s*[—–-]"
)
_CNN_DATELINE = re.compile(r"^\s*(?:[A-Z][A-Za-z.' -]{0,30}\s)?(?P<outlet>CNN|AP|Reuters)\s+—")


def clean_body(text: str) -> str:
    """Strip page boilerplate (comment forms, share prompts) and normalise line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    kept: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        if _BOILERPLATE_CUT.match(para):
            break  # a comment form or "related" list: nothing after it is the article
        lines = [ln for ln in para.split("\n") if not _BOILERPLATE_LINE.match(ln)]
        para = "\n".join(lines).strip()
        if para:
            kept.append(para)
    return "\n\n".join(kept)


def outlet_from_text(body: str) -> str:
    """Return the outlet named in a dateline such as "(RFE/RL) —", or ""."""
    head = body[:200]
    m = _DATELINE.match(head) or _CNN_DATELINE.match(head)
    return m["outlet"].strip() if m else ""


def outlet_from_url(url: str) -> str:
    """Return the site of a url ("cnn.com"), for display only."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _fallback_title(body: str) -> str:
    first = body.strip().split("\n", 1)[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


def make_article(
    *,
    doc_id: str,
    title: str | None,
    body: str,
    source: str,
    outlet: str = "",
    published: Any = None,
    url: str = "",
    author: str = "",
) -> Iterator[ParseItem]:
    """Yield the Article built from raw fields (a note first if it was cut), or a Problem."""
    text = clean_body(body)
    if not text.strip():
        yield Problem(source, "no article text")
        return
    if len(text) > MAX_ARTICLE_CHARS:
        yield Problem(
            source,
            f"article cut to its first {MAX_ARTICLE_CHARS:,} of {len(text):,} characters",
            skipped=False,
        )
        text = text[:MAX_ARTICLE_CHARS]
    outlet = outlet or outlet_from_text(text) or (outlet_from_url(url) if url else "")
    pub = parse_date(published) or parse_date(MONTH_DATE.search(text[:400]) and text[:400])
    yield Article(
        doc_id=doc_id,
        title=(title or "").strip() or _fallback_title(text),
        text=text,
        outlet=outlet,
        published=pub,
        url=url or "",
        author=author,
        source=source,
    )


def _read_text(path: Path) -> tuple[str | None, Problem | None]:
    """Read a text file; refuse empty, binary and huge ones; decode non-UTF-8 with a note."""
    size = path.stat().st_size
    if size == 0:
        return None, Problem(str(path), "empty file")
    if size > MAX_FILE_BYTES:
        return None, Problem(
            str(path), f"file too large ({size / 1e6:.1f} MB; limit {MAX_FILE_BYTES / 1e6:.0f} MB)"
        )
    raw = path.read_bytes()
    if _looks_binary(raw):
        return None, Problem(str(path), "binary file, not text")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        return text, Problem(str(path), "not UTF-8: read as Windows-1252", skipped=False)


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control > len(sample) * 0.05


def doc_id_for(path: Path, root: Path) -> str:
    """Derive a stable id from a file's path below the folder it was found in."""
    try:
        rel = path.relative_to(root) if root.is_dir() else Path(path.name)
    except ValueError:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix()


def _text_file(
    path: Path, doc_id: str, parse: Callable[[str, Path, str], Iterator[ParseItem]]
) -> Iterator[ParseItem]:
    """Read a text file (with its problems) and hand the text to `parse`."""
    text, problem = _read_text(path)
    if problem:
        yield problem
    if text is not None:
        yield from parse(text, path, doc_id)


def parse_txt(path: Path, doc_id: str) -> Iterator[ParseItem]:
    """A .txt article: headline on line 1, body after; optional `<name>.meta.yaml` beside it."""
    return _text_file(path, doc_id, _txt_article)


def _txt_article(text: str, path: Path, doc_id: str) -> Iterator[ParseItem]:
    title, _, body = text.strip().partition("\n")
    meta = _sidecar(path)
    body = body if body.strip() else title
    yield from _with_meta(meta, doc_id, str(meta.get("title") or title), body, path)


def _sidecar(path: Path) -> dict[str, Any]:
    meta_path = path.with_suffix(".meta.yaml")
    if not meta_path.is_file():
        return {}
    try:
        data = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        logger.warning("ignoring unreadable metadata %s: %s", meta_path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def parse_md(path: Path, doc_id: str) -> Iterator[ParseItem]:
    """A Markdown article with optional YAML front matter (title, outlet, published, url...)."""
    return _text_file(path, doc_id, _md_article)


def _md_article(text: str, path: Path, doc_id: str) -> Iterator[ParseItem]:
    meta: dict[str, Any] = {}
    m = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if m:
        try:
            loaded = yaml.safe_load(m[1])
        except yaml.YAMLError as exc:
            yield Problem(str(path), f"front matter is not valid YAML ({exc.__class__.__name__})")
            return
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[m.end() :]
    title = meta.get("title")
    if not title:
        h = re.match(r"\s*#\s+(.+)\n", text)
        if h:
            title, text = h[1], text[h.end() :]
    yield from _with_meta(meta, doc_id, str(title) if title else None, text, path)


def _with_meta(
    meta: dict[str, Any], doc_id: str, title: str | None, body: str, path: Path
) -> Iterator[ParseItem]:
    """Build an article from a file's body and its metadata (front matter or sidecar)."""
    return make_article(
        doc_id=str(meta.get("id") or doc_id),
        title=title,
        body=body,
        source=str(path),
        outlet=str(meta.get("outlet") or ""),
        published=meta.get("published") or meta.get("date"),
        url=str(meta.get("url") or ""),
        author=str(meta.get("author") or ""),
    )


def parse_jsonl(path: Path) -> Iterator[ParseItem]:
    """One article a line; a bad line is reported with its number and the rest goes on."""
    if path.stat().st_size == 0:
        yield Problem(str(path), "empty file")
        return
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            where = f"{path}:{lineno}"
            if len(raw) > MAX_LINE_BYTES:
                yield Problem(where, f"line too long ({len(raw) / 1e6:.1f} MB)")
                continue
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                yield Problem(where, f"malformed JSON ({exc.__class__.__name__})")
                continue
            if not isinstance(rec, dict):
                yield Problem(where, "not a JSON object")
                continue
            yield from _jsonl_article(rec, path, where)


def _jsonl_article(rec: dict[str, Any], path: Path, where: str) -> Iterator[ParseItem]:
    body = rec.get("text") or rec.get("body") or ""
    if not isinstance(body, str) or not body.strip():
        yield Problem(where, "no article text")
        return
    url = str(rec.get("url") or "")
    raw_id = rec.get("doc_id") or rec.get("id")
    doc_id = str(raw_id) if raw_id else hashlib.sha1((url or body).encode()).hexdigest()[:12]
    authors = rec.get("authors")
    author = ", ".join(str(a) for a in authors) if isinstance(authors, list) else str(authors or "")
    title = rec.get("title")
    items = make_article(
        doc_id=doc_id,
        title=str(title) if title else None,
        body=body,
        source=f"{path}#{doc_id}",
        outlet=str(rec.get("outlet") or ""),
        published=rec.get("publish_date") or rec.get("published"),
        url=url,
        author=author,
    )
    for item in items:  # problems point at the line
        yield replace(item, source=where) if isinstance(item, Problem) else item


def iter_paths(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) for every supported file under the given files and folders."""
    for root in paths:
        if root.is_dir():
            for p in sorted(root.rglob("*")):
                if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith("."):
                    yield p, root
        else:
            yield root, root


def parse_file(path: Path, root: Path) -> Iterator[ParseItem]:
    """Parse one file by its extension."""
    if not path.exists():
        yield Problem(str(path), "no such file")
        return
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            yield from parse_jsonl(path)
        elif suffix in (".md", ".markdown"):
            yield from parse_md(path, doc_id_for(path, root))
        elif suffix == ".txt":
            yield from parse_txt(path, doc_id_for(path, root))
        else:
            yield Problem(str(path), f"unsupported file type {suffix or '(none)'}")
    except OSError as exc:
        yield Problem(str(path), f"cannot read file ({exc.strerror or exc})")
