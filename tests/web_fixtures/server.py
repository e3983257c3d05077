"""A small news site on 127.0.0.1 for the tests: articles, feeds and every bad case."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).parent

BRIDGE = "/news/2024/03/05/council-approves-footbridge"
BRIDGE_AMP = BRIDGE + "/amp"
WIRE = "/wire/riverside-footbridge-approved"
LIBRARY = "/culture/library-reopens"
FLOOD = "/news/2024/03/14/flood-warning-elm-river"
FERRY = "/port/ferry-strike"  # answers 503 until `Site.ferry_up` is set
SOLAR = "/news/2024/03/11/floating-solar-farm"  # named officials with titles and quotes

PAGES = {
    BRIDGE: "bridge-vote.html",
    BRIDGE_AMP: "bridge-vote-amp.html",
    WIRE: "bridge-syndicated.html",
    LIBRARY: "library-reopens.html",
    FLOOD: "flood-warning.html",
    SOLAR: "solar-farm.html",
    "/sections": "nav-only.html",
}
LAST_MODIFIED = {1: "Tue, 12 Mar 2024 08:00:00 GMT", 2: "Thu, 14 Mar 2024 06:15:00 GMT"}


@dataclass
class Site:
    """The running site: its base url, what it was asked, and knobs the tests turn."""

    base: str = ""
    feed_version: int = 1  # which city-rss-N.xml /feeds/city.xml serves
    ferry_up: bool = False  # whether FERRY answers (503 until then)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    in_flight: int = 0  # requests being answered right now, and the most at once
    peak_in_flight: int = 0
    release: threading.Event = field(default_factory=threading.Event)  # ends slow answers
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def fixture(self, name: str) -> bytes:
        return (HERE / name).read_text(encoding="utf-8").replace("{{BASE}}", self.base).encode()

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of each request made for `path` (query ignored)."""
        with self.lock:
            return [h for p, h in self.requests if p == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def _send(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k.replace("_", "-"), v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            with site.lock:
                site.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            # the client gives up early in the bad cases (size cap, timeout)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._route(path)

        def _route(self, path: str) -> None:
            html = "text/html; charset=utf-8"
            if path in PAGES:
                self._send(200, site.fixture(PAGES[path]), html)
            elif path == "/feeds/city.xml":
                body = site.fixture(f"city-rss-{site.feed_version}.xml")
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                lm = LAST_MODIFIED[site.feed_version]
                self._send(200, body, "application/rss+xml", ETag=etag, Last_Modified=lm)
            elif path == FERRY:
                if site.ferry_up:
                    self._send(200, site.fixture("ferry-strike.html"), html)
                else:
                    self._send(503, b"busy", "text/plain")
            elif path == "/feeds/harbour.xml":
                self._send(200, site.fixture("harbour-rss.xml"), "application/rss+xml")
            elif path == "/feeds/wire.atom":
                self._send(200, site.fixture("wire-atom.xml"), "application/atom+xml")
            elif path == "/feeds/mislabelled.xml":  # a real feed sent as text/html
                self._send(200, site.fixture("city-rss-1.xml"), html)
            elif path == "/feeds/moved.xml":
                self._send(200, site.fixture("not-a-feed.html"), html)
            elif path == "/feeds/garbage.xml":
                self._send(200, b"\x00\x01 not xml at all {]", "application/xml")
            elif path == "/report.pdf":
                self._send(200, b"%PDF-1.4\n%binary\n" + b"0" * 500, "application/pdf")
            elif path == "/huge-declared":
                self.send_response(200)
                self.send_header("Content-Type", html)
                self.send_header("Content-Length", str(50_000_000))
                self.end_headers()
                self.wfile.write(b"<html><body>" + b"x" * 10_000)
            elif path == "/huge-stream":
                # no Content-Length: the size is only known while reading
                self.send_response(200)
                self.send_header("Content-Type", html)
                self.end_headers()
                self.wfile.write(b"<html><body><p>")
                for _ in range(200):
                    self.wfile.write(b"word " * 2000)
            elif path in ("/loop-a", "/loop-b"):
                target = "/loop-b" if path == "/loop-a" else "/loop-a"
                self._send(302, b"", html, Location=site.url(target))
            elif path == "/slow":
                site.release.wait(10)
                self._send(200, site.fixture("library-reopens.html"), html)
            elif path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Type", html)
                self.end_headers()
                for _ in range(100):  # a byte now and then: no single read times out
                    if site.release.wait(0.1):
                        return
                    self.wfile.write(b" ")
                    self.wfile.flush()
            elif path == "/busy":  # answers slowly, counting requests in flight
                with site.lock:
                    site.in_flight += 1
                    site.peak_in_flight = max(site.peak_in_flight, site.in_flight)
                site.release.wait(0.1)
                with site.lock:
                    site.in_flight -= 1
                self._send(200, site.fixture("flood-warning.html"), html)
            elif path == "/server-error":
                self._send(503, b"busy", "text/plain")
            else:
                self._send(404, b"<h1>Not found</h1>", html)

    return Handler


@contextmanager
def serve_site() -> Iterator[Site]:
    """Run the site on a free port of 127.0.0.1 for the duration of the block."""
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        time.sleep(0)  # let slow handlers see the event before the socket closes
        server.shutdown()
        server.server_close()
