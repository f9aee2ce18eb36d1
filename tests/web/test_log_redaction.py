"""Secrets never reach a log line (issue 19, item 4): api_key, token and password values
are redacted from every record, the Werkzeug access log included."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request

import pytest
from flask import Flask
from werkzeug.serving import make_server

from web.security.logs import REDACTED, redact

SECRET = "cg_Sup3rSecretValue"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /open311/v2/requests.json?api_key={SECRET}&page=2 HTTP/1.1" 200 -',
        f'"POST /open311/v2/requests.json?service_code=litter&api_key={SECRET} HTTP/1.1"',
        f"/export/problems.csv?token={SECRET}",
        f"/x?access_token={SECRET}",
        f"/login?password={SECRET}",
        f"/x?API-KEY={SECRET}",
        f"/x?api_key%3D{SECRET}",
        f"/open311/v2/requests.json?api%5Fkey={SECRET}",  # the server reads it as api_key
        f"/x?ap%69_key={SECRET}&page=2",
        f"/x?api%255Fkey={SECRET}",
        f"/x?user[password]={SECRET}",
        f"/x?q=a=b&token={SECRET}",
        f'{{"username": "wang", "password": "{SECRET}"}}',
        f"Authorization: Bearer {SECRET}",
    ],
)
def test_secret_values_are_redacted(line: str) -> None:
    clean = redact(line)
    assert SECRET not in clean and REDACTED in clean


def test_other_values_stay() -> None:
    line = "/open311/v2/requests.json?page=2&status=open&bypass=1"
    assert redact(line) == line


def test_every_logger_is_redacted(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info('"%s" %s', f"GET /?api_key={SECRET} HTTP/1.1", 200)
        logging.getLogger("some.library").warning("retrying with token=%s", SECRET)
        app.logger.error("login password=%s failed", SECRET)
    assert len(caplog.records) == 3
    assert SECRET not in caplog.text and caplog.text.count(REDACTED) == 3


def test_the_access_log_of_a_real_server(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/open311/v2/requests.json?api_key={SECRET}"
    try:
        # An unknown key: 401.
        with (
            caplog.at_level(logging.INFO, logger="werkzeug"),
            pytest.raises(urllib.error.HTTPError),
        ):
            urllib.request.urlopen(url, timeout=10)
    finally:
        server.shutdown()
        thread.join(5)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/open311/v2/requests.json" in line for line in lines), lines
    assert SECRET not in caplog.text and REDACTED in caplog.text
