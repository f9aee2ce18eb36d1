"""bench/httpload.py: a bounded load against a tiny local server, every answer counted."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.httpload import Request, drive


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
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
