"""Helpers for browser tests: a live server in a thread and headless Debian Chromium.

Playwright drives /usr/bin/chromium (never a downloaded browser). Screenshots go to
test-artifacts/ so a person can look at them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class PageWatch:
    """Records console errors, page errors and requests leaving the server's origin."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.origin = urlparse(base_url).netloc
        self.console_errors: list[str] = []
        self.offorigin: list[str] = []
        self.bytes = 0
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))
        page.on("request", self._request)
        page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    def _request(self, request: Any) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != self.origin:
            self.offorigin.append(request.url)

    def _response(self, response: Any) -> None:
        length = response.headers.get("content-length")
        if length and length.isdigit():
            self.bytes += int(length)


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def browser_login(
    page: Any, base_url: str, username: str, password: str, remember: Flask | None = None
) -> None:
    """Log in through the login form, as a person would. With ``remember``, the session is
    kept for later ``logged_in_page(browser, base_url, remember, username, ...)``."""
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    if remember is not None:
        _login_states(remember)[username] = page.context.storage_state()


def _login_states(app: Flask) -> dict[str, Any]:
    states: dict[str, Any] = app.extensions.setdefault("tests.browser_logins", {})
    return states


def abort_offorigin(page: Any, base: str) -> list[str]:
    """Abort every request leaving ``base`` (tiles, CDNs) and return the list their URLs
    are collected in, for a test to check which ones the page asked for."""
    asked: list[str] = []

    def handle(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
            return
        asked.append(route.request.url)
        route.abort()

    page.route("**/*", handle)
    return asked


def wait_for_layers(page: Any, timeout: float = 30_000) -> None:
    """Wait until every map layer has loaded. (A selector, not wait_for_function: the
    pages' CSP forbids the eval that wait_for_function(<string>) needs.)"""
    page.wait_for_selector(
        ".folium-map[data-layers-pending='0']", state="attached", timeout=timeout
    )


def wait_until(page: Any, expression: str, timeout: float = 30_000) -> None:
    """Poll a JavaScript ``expression`` until it is truthy. (page.evaluate runs through the
    DevTools protocol, which the pages' CSP does not restrict; wait_for_function(<string>)
    needs an eval the CSP forbids.) A page between documents reads as not yet true."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(expression):
                return
        except Exception as exc:  # navigation in progress: the context was destroyed
            if "context" not in str(exc).lower() and "navigat" not in str(exc).lower():
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} ms waiting for: {expression}")
        page.wait_for_timeout(100)


def context_login(context: Any, base_url: str, username: str, password: str) -> None:
    """Log a browser context in without loading any page (its cache stays empty): the
    login form posted through the context's own request client, which shares cookies."""
    import re

    html = context.request.get(base_url + "/login").text()
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on /login"
    form = {"username": username, "password": password, "csrf_token": match.group(1)}
    response = context.request.post(base_url + "/login", form=form, max_redirects=0)
    assert response.status == 302, response.text()[:300]


def logged_in_page(
    browser: Any, base_url: str, app: Flask, username: str, password: str, **context_kw: Any
) -> Any:
    """A page in a new browser context already logged in as ``username``.

    The login form is filled once per app and user (in a throwaway context); later
    contexts start from its cookies (Playwright's storage_state). The state is kept on
    ``app`` itself, so it never outlives the app's secret key and database. For tests
    whose subject is not the login: a test that watches the login page logs in itself.
    """
    states = _login_states(app)
    if username not in states:
        context = browser.new_context()
        browser_login(context.new_page(), base_url, username, password)
        states[username] = context.storage_state()
        context.close()
    context = browser.new_context(storage_state=states[username], **context_kw)
    return context.new_page()


class ChineseBrowser:
    """The browser of a Chinese-speaking user: pages send ``Accept-Language: zh-CN``
    (the app answers in the browser's language; headless Chromium would say en-US)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_page(self, **options: Any) -> Any:
        return self._browser.new_page(**{"locale": "zh-CN", **options})

    def new_context(self, **options: Any) -> Any:
        return self._browser.new_context(**{"locale": "zh-CN", **options})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)
