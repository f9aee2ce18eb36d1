"""bench/httpload.py: a bounded load against a tiny local server, every answer counted."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bench.httpload
from bench.httpload import TIMED_OUT, Request, drive


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(2)
        status = 500 if self.path == "/fail" else 200
        body = b"x" * 100
        self.send_response(status)
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"64\r\n" + body + b"\r\n0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_drive_stops_at_the_request_limit_and_counts_errors() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    paths = ["/ok", "/chunked", "/fail"]
    try:
        results = drive(
            server.server_address[1],
            lambda client, n: Request(paths[n % 3][1:], paths[n % 3]),
            clients=3,
            seconds=30,
            max_requests=30,
        )
    finally:
        server.shutdown()
    assert results.count() == 30
    assert results.errors() == len(results.statuses["fail"]) > 0
    assert set(results.statuses["chunked"]) == {200}
    assert results.rps("ok") > 0 and results.p("ok", 95) > 0


def test_an_answer_later_than_the_grace_is_given_up(monkeypatch) -> None:
    monkeypatch.setattr(bench.httpload, "GRACE_S", 0.3)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = time.perf_counter()
        results = drive(server.server_address[1], lambda c, n: Request("slow", "/slow"), 2, 0.1, 10)
        assert time.perf_counter() - start < 1.5
    finally:
        server.shutdown()
    assert set(results.statuses["slow"]) == {TIMED_OUT} and results.errors() == 2
