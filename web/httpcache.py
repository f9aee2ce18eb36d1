"""Compressed, cacheable responses.

``cached_response`` serves a body built by a function, keyed by everything it depends on
(data versions, query, language): the ETag is a hash of that key, a request whose
If-None-Match matches gets 304 without building anything, and built bodies (plain and
gzipped) are kept in a small in-process cache so a repeated request costs a lookup.
When the data change, the versions in the key change, and so do ETag and cache entry.

``init_app`` also gzips the other text responses (pages, scripts, styles, GeoJSON) for
clients that accept it.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, current_app, request

GZIP_MIN_BYTES = 1024
CACHE_MAX_BYTES = 64 * 1024 * 1024
_COMPRESSIBLE = ("text/", "application/json", "application/geo+json", "application/javascript")
_EXT = "civicgrid_http_cache"


class _Cache:
    """A byte-bounded LRU of (plain, gzipped) bodies, safe across request threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, bytes] | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: str, value: tuple[bytes, bytes]) -> None:
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.size += len(value[0]) + len(value[1])
            while self.size > self.max_bytes and self.items:
                _, (plain, packed) = self.items.popitem(last=False)
                self.size -= len(plain) + len(packed)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


def init_app(app: Flask) -> None:
    """Create the response cache and gzip text responses after each request."""
    app.extensions[_EXT] = _Cache(CACHE_MAX_BYTES)
    app.after_request(_compress)


def cache(app: Flask | None = None) -> _Cache:
    """The app's response cache (tests and benchmarks clear it to measure cold paths)."""
    store: _Cache = (app or current_app).extensions[_EXT]
    return store


def cached_response(
    key: tuple[Hashable, ...],
    build: Callable[[], str | bytes],
    mimetype: str,
    immutable: bool = False,
    level: int = 1,
) -> Response:
    """A response for ``key``: 304 when the client has it, else the cached or freshly
    built body, gzipped when accepted, with ETag and Vary headers.

    ``immutable``: the URL itself carries the data version, so browsers may keep the
    body for a year without asking again. ``level``: gzip level (1 is ~15× faster than
    6 and only ~10% bigger on these bodies; use 6 for bodies built once per version).
    """
    digest = hashlib.sha1(repr(key).encode()).hexdigest()[:24]
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache",
        "Vary": "Accept-Encoding",
    }
    if request.if_none_match.contains_weak(digest):
        response = Response(status=304, headers=headers)
        response.set_etag(digest, weak=True)
        return response
    store = cache()
    bodies = store.get(digest)
    if bodies is None:
        built = build()
        plain = built.encode() if isinstance(built, str) else built
        bodies = (plain, gzip.compress(plain, compresslevel=level, mtime=0))
        store.put(digest, bodies)
    gzipped = "gzip" in request.accept_encodings
    response = Response(bodies[1] if gzipped else bodies[0], mimetype=mimetype, headers=headers)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(digest, weak=True)
    response.direct_passthrough = False
    return response


def _compress(response: Response) -> Response:
    if (
        response.status_code != 200
        or "Content-Encoding" in response.headers
        or "gzip" not in request.accept_encodings
        or not (response.mimetype or "").startswith(_COMPRESSIBLE)
    ):
        return response
    response.direct_passthrough = False
    data = response.get_data()
    if len(data) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)  # the gzipped bytes differ from the file's
    return response


def make_private(response: Response) -> Response:
    """Mark a response whose content depends on the caller (login, token, scope) as
    private: no shared cache may keep it, and it varies by Authorization and Cookie.

    No Cache-Control yet → ``no-store``; ``public`` → ``private`` (browsers may still keep
    their own copy as long as they did, e.g. immutable shape layers for a year).
    """
    directives = [
        d.strip()
        for d in (response.headers.get("Cache-Control") or "no-store").split(",")
        if d.strip() and d.strip().lower() not in ("public", "private")
    ]
    if "no-store" not in directives:
        directives.insert(0, "private")
    response.headers["Cache-Control"] = ", ".join(directives)
    response.vary.update(("Authorization", "Cookie"))
    return response
