"""Turn a fetched page into an Article: trafilatura extraction, canonical url, fingerprint."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from retrieval.dates import parse_date
from retrieval.types import Article
from retrieval.web.fetch import FetchError, Page

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 200  # shorter extractions are menus, paywalls or error pages, not articles
MAX_TEXT_CHARS = 500_000

# Query parameters that only track where a click came from; they never select content.
_TRACKING_EXACT = {
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid", "smid", "smtyp",
    "partner", "share", "via", "s_cid", "ito", "ncid", "sr_share", "taid", "mbid",
    "guccounter", "guce_referrer", "guce_referrer_sig", "outputtype", "amp", "amp_js_v",
    "usqp", "__twitter_impression", "wt.mc_id", "at_medium", "at_campaign", "at_custom1",
}  # fmt: skip
_TRACKING_PREFIX = ("utm_", "at_", "pk_", "mtm_", "hsa_", "oly_", "vero_", "_hs")
_AMP_CACHE = re.compile(r"\.cdn\.ampproject\.org$|\.amp\.cloudflare\.com$")


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in _TRACKING_EXACT or k.startswith(_TRACKING_PREFIX)


def normalize_url(url: str) -> str:
    """Return a stable form of an article url.

    Lower-cases scheme and host, drops the default port, the fragment and tracking
    parameters (utm_*, fbclid, ...), sorts what is left, and maps AMP variants
    (`/amp`, `.amp.html`, `?amp=1`, `amp.` hosts, Google's AMP cache) to the plain page.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    if _AMP_CACHE.search(host):
        # https://www-example-com.cdn.ampproject.org/c/s/www.example.com/a -> https://www.example.com/a
        m = re.match(r"^/[a-z]/(s/)?(.+)$", path)
        if m:
            return normalize_url(("https://" if m[1] else "http://") + m[2] + _query(parts.query))
    if host.startswith("amp."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: keep the url as given
        port = None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    default_port = port is None or (scheme, port) in (("http", 80), ("https", 443))
    netloc = host if default_port else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", path)
    path = re.sub(r"/amp/?$", "/", path)
    path = re.sub(r"\.amp(\.html?)$", r"\1", path)
    if path.startswith("/amp/"):
        path = path[4:]
    if len(path) > 1:
        path = path.rstrip("/")
    query = urlencode(
        sorted(
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
        )
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def _query(q: str) -> str:
    return "?" + q if q else ""


def doc_id_for_url(url: str) -> str:
    """Return a stable document id for an article url (same story, same id)."""
    norm = normalize_url(url)
    parts = urlsplit(norm)
    host = parts.netloc.removeprefix("www.").removeprefix("m.")
    # http and https, www. and m. are the same article
    key = f"{host}{parts.path}{_query(parts.query)}"
    return "web_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def fingerprint(text: str) -> str:
    """Return a fingerprint of an article body: same words in the same order, same print."""
    words = re.findall(r"\w+", text.lower())
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:32]


def _pick_canonical(page_url: str, canonical: str | None) -> str:
    """Trust the page's canonical url unless it points at a site's front page."""
    if not canonical:
        return page_url
    c = urlsplit(canonical)
    if c.scheme not in ("http", "https") or not c.hostname:
        return page_url
    if c.path in ("", "/") and urlsplit(page_url).path not in ("", "/"):
        return page_url  # a template bug: every page "canonical" to the home page
    return canonical


def _clean_text(text: str, title: str) -> str:
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if lines and title and lines[0].strip().lower() == title.strip().lower():
        lines = lines[1:]  # the headline repeated as the first paragraph
    # one paragraph per line from trafilatura; blank lines between paragraphs for the chunker
    return "\n\n".join(lines)[:MAX_TEXT_CHARS]


def require_extractor() -> None:
    """Import trafilatura now, so a command that extracts pages names a missing extra at once.

    Extraction imports it lazily (cold start), and a feed round isolates each feed's errors,
    so without this a missing `live` extra would show up as one failed feed after another.
    """
    import trafilatura  # noqa: F401


def extract_article(
    page: Page,
    *,
    fallback_title: str = "",
    fallback_date: date | None = None,
    source: str | None = None,
) -> Article:
    """Extract headline, body, author, outlet, date and canonical url from an HTML page.

    Raises FetchError (reason "no article text found") when the page holds no article.
    Works on the bytes given only: trafilatura is never asked to fetch anything.
    """
    import trafilatura  # here, not at the top: every command imports this module, few extract

    url = page.final_url or page.url
    content: str | bytes = page.text() if page.charset else page.body
    try:
        doc = trafilatura.bare_extraction(
            content,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            date_extraction_params={"extensive_search": True, "original_date": True},
        )
    except Exception as exc:  # lxml and trafilatura raise many kinds on malformed markup
        logger.warning("extraction failed for %s: %s", url, exc)
        raise FetchError(page.url, "could not read the page (malformed HTML)") from None
    raw = (getattr(doc, "text", None) or "") if doc is not None else ""
    title = (getattr(doc, "title", None) or "").strip() or fallback_title.strip()
    text = _clean_text(raw, title)
    if len(text) < MIN_TEXT_CHARS:
        raise FetchError(page.url, "no article text found on the page")
    canonical = normalize_url(_pick_canonical(url, getattr(doc, "url", None)))
    outlet = (getattr(doc, "sitename", None) or "").strip()
    if not outlet:
        outlet = (urlsplit(canonical).hostname or "").removeprefix("www.")
    published = parse_date(getattr(doc, "date", None)) or fallback_date
    author = (getattr(doc, "author", None) or "").strip()
    return Article(
        doc_id=doc_id_for_url(canonical),
        title=title or text.split("\n", 1)[0][:120],
        text=text,
        outlet=outlet,
        published=published,
        url=canonical,
        author=author,
        source=source or page.url,
    )
