"""A bounded HTTP/1.1 load generator for the serving benchmarks (bench/serve.py,
bench/ogc_peer.py): asyncio, keep-alive connections, 127.0.0.1 only.

``drive`` runs ``clients`` concurrent connections, each sending the requests a function
picks, until ``seconds`` have passed or ``max_requests`` were sent (whichever is first),
and returns every answer's kind, status and latency. A request still unanswered
``GRACE_S`` after the end is given up (status 598, an error), so a run never lasts longer
than ``seconds + GRACE_S``. It never talks to another host.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

HOST = "127.0.0.1"
GRACE_S = 30.0
TIMED_OUT = 598


@dataclass(frozen=True)
class Request:
    """One request: ``kind`` names it in the results."""

    kind: str
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass
class Results:
    """Answers per kind: statuses and latencies (ms), and the wall time of the run (s)."""

    seconds: float = 0.0
    statuses: dict[str, list[int]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, status: int, ms: float) -> None:
        self.statuses.setdefault(kind, []).append(status)
        self.latencies.setdefault(kind, []).append(ms)

    def rps(self, kind: str) -> float:
        """Answers of ``kind`` per second of the run."""
        return round(len(self.latencies.get(kind, [])) / max(self.seconds, 1e-9), 1)

    def p(self, kind: str, q: float) -> float:
        """The ``q``-th percentile latency of ``kind``, ms."""
        values = self.latencies.get(kind, [])
        return round(float(np.percentile(values, q)), 1) if values else 0.0

    def errors(self) -> int:
        """Answers that were not 2xx/3xx (5xx, and 4xx: the benchmarks send valid requests)."""
        return sum(s >= 400 for values in self.statuses.values() for s in values)

    def count(self) -> int:
        return sum(len(v) for v in self.statuses.values())


def drive(
    port: int,
    pick: Callable[[int, int], Request],
    clients: int,
    seconds: float,
    max_requests: int,
) -> Results:
    """Run the load: ``pick(client, n)`` gives client number ``client``'s ``n``-th request.

    The event loop runs in a thread of its own, so the caller may already be running one
    (Playwright's sync API keeps a loop in the main thread of a test process)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        run = pool.submit(asyncio.run, _drive(port, pick, clients, seconds, max_requests))
        return run.result()


async def _drive(
    port: int, pick: Callable[[int, int], Request], clients: int, seconds: float, limit: int
) -> Results:
    results = Results()
    sent = [0]
    start = time.perf_counter()
    stop = start + seconds

    async def client(number: int) -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        n = 0
        while time.perf_counter() < stop and sent[0] < limit:
            sent[0] += 1
            request = pick(number, n)
            n += 1
            if conn is None:
                conn = await asyncio.open_connection(HOST, port)
            began = time.perf_counter()
            try:
                wait = stop + GRACE_S - began
                status, keep = await asyncio.wait_for(_exchange(*conn, request, port), wait)
            except (ConnectionError, asyncio.IncompleteReadError):
                status, keep = 599, False
            except TimeoutError:
                status, keep = TIMED_OUT, False
            results.add(request.kind, status, (time.perf_counter() - began) * 1000)
            if not keep:
                conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    results.seconds = time.perf_counter() - start
    return results


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request, port: int
) -> tuple[int, bool]:
    head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {HOST}:{port}"]
    head += [f"{k}: {v}" for k, v in request.headers]
    if request.body or request.method != "GET":
        head.append(f"Content-Length: {len(request.body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + request.body)
    await writer.drain()
    status_line = await reader.readuntil(b"\r\n")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        await _read_chunked(reader)
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:  # the body runs to the end of the connection
        await reader.read()
        return status, False
    return status, headers.get("connection", "").lower() != "close"


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return
