"""Polite HTTP fetching: timeouts, a size cap, a clear User-Agent, a few requests at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from retrieval.config import Settings
from retrieval.errors import IngestError

logger = logging.getLogger(__name__)

USER_AGENT = "NewsdeskBot/0.1 (+news coverage Q&A bot; fetches article pages and RSS/Atom feeds)"
MAX_CONCURRENT = 4  # requests in flight at once, across all hosts
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
FEED_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/rdf+xml,application/xml;q=0.9,"
    "text/xml;q=0.9,*/*;q=0.1"
)


class FetchError(IngestError):
    """One url could not be fetched; `reason` says why in plain words."""

    def __init__(self, url: str, reason: str, *, transient: bool = False) -> None:
        self.url = url
        self.reason = reason
        self.transient = transient  # worth retrying later (timeouts, 5xx, connection errors)
        super().__init__(f"{url}: {reason}", user_message=f"Could not fetch {url}: {reason}")


@dataclass(frozen=True)
class Page:
    """A fetched response body with the headers that matter to us."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content_type: str
    charset: str | None
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """Decode the body with the declared charset (or UTF-8), replacing bad bytes."""
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # unknown charset name in the header
            return self.body.decode("utf-8", errors="replace")


def check_url(url: str) -> str:
    """Return the url stripped, or raise FetchError when it is not an absolute http(s) url."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "not an http(s) URL")
    return url


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n // 1000} kB"


def make_client(settings: Settings) -> httpx.AsyncClient:
    """Build the shared client: timeouts, redirect limit, connection cap and User-Agent."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.fetch_timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        limits=httpx.Limits(max_connections=MAX_CONCURRENT, max_keepalive_connections=2),
        headers={"User-Agent": USER_AGENT},
        trust_env=False,  # no proxies or netrc picked up from the environment
    )


class Fetcher:
    """Fetch urls with one client and a small concurrency bound."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._client = client or make_client(settings)
        self._owns_client = client is None
        self._sem = asyncio.Semaphore(MAX_CONCURRENT)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        accept: str = HTML_ACCEPT,
        html_only: bool = True,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Page:
        """GET one url; raise FetchError with a clear reason on any failure.

        A 304 answer (to a conditional GET) is returned as a Page with an empty body.
        """
        url = check_url(url)
        headers = {"Accept": accept, **(extra_headers or {})}
        timeout = self.settings.fetch_timeout
        async with self._sem:
            try:
                # httpx timeouts are per read; the overall deadline stops a server that trickles.
                async with asyncio.timeout(timeout):
                    return await self._get(url, headers, html_only)
            except TimeoutError:
                raise FetchError(
                    url, f"the server did not answer within {timeout:g} s", transient=True
                ) from None
            except httpx.TimeoutException:
                raise FetchError(
                    url, f"the server did not answer within {timeout:g} s", transient=True
                ) from None
            except httpx.TooManyRedirects:
                raise FetchError(url, "too many redirects (a redirect loop?)") from None
            except httpx.UnsupportedProtocol:
                raise FetchError(url, "redirected to a non-http(s) URL") from None
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"invalid URL ({exc})") from None
            except httpx.TransportError as exc:
                reason = str(exc) or type(exc).__name__
                raise FetchError(url, f"could not connect ({reason})", transient=True) from None

    async def _get(self, url: str, headers: dict[str, str], html_only: bool) -> Page:
        cap = self.settings.fetch_max_bytes
        async with self._client.stream("GET", url, headers=headers) as resp:
            final = str(resp.url)
            if resp.status_code == 304:
                return Page(url, final, 304, "", None, b"", dict(resp.headers))
            if resp.status_code >= 400:
                phrase = resp.reason_phrase or "error"
                raise FetchError(
                    url, f"HTTP {resp.status_code} {phrase}", transient=resp.status_code >= 500
                )
            ctype = resp.headers.get("content-type", "")
            mime = ctype.split(";", 1)[0].strip().lower()
            if html_only and mime and mime not in HTML_TYPES:
                raise FetchError(url, f"not an HTML page (content type {mime})")
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchError(url, f"page too large ({_mb(int(declared))}, limit {_mb(cap)})")
            chunks: list[bytes] = []
            total = 0
            async for chunk in resp.aiter_bytes():
                total += len(chunk)
                if total > cap:
                    raise FetchError(url, f"page too large (over the {_mb(cap)} limit)")
                chunks.append(chunk)
            body = b"".join(chunks)
            if html_only and not mime and not body.lstrip()[:1] == b"<":
                raise FetchError(url, "not an HTML page (no content type, not markup)")
            return Page(
                url, final, resp.status_code, mime, resp.charset_encoding, body, dict(resp.headers)
            )
