"""The production server's settings (gunicorn), used by ``civicgrid serve`` and usable
directly: ``gunicorn -c python:web.cli.gunicorn_conf 'web:create_app()'``.

Each value can be overridden on the command line of either. Why these values:

- ``gthread`` workers, one per core, 8 threads each: requests mostly wait on the database
  (heat is a summary read, pages are indexed SQL), so threads overlap those waits without
  the memory of more processes; bench/serve.py measures it. The pool per worker
  (CIVICGRID_DB_POOL_SIZE, default 10) must be at least the threads.
- No ``preload_app``: every worker builds its own app, engine and pool after the fork (a
  connection must never be shared across processes), and a reload (``kill -HUP``) picks
  up new code.
- Timeouts: a worker silent for 60 s is restarted (exports stream, so they keep talking);
  on reload or stop, requests in flight get 30 s to finish.
- Access log on stdout without secrets: ``api_key``, tokens and passwords in query
  strings and referers are redacted (the same rule as every other log line).
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from web.security.logs import redact

THREADS_PER_WORKER = 8


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class RedactingLogger(Logger):
    """gunicorn's logger with secrets taken out of the access-log atoms."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        values = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "U", "f"):
            if isinstance(values.get(key), str):
                values[key] = redact(values[key])
        return values


bind = "127.0.0.1:8000"
workers = default_workers()
worker_class = "gthread"
threads = THREADS_PER_WORKER
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle a worker after this many requests (jittered so they do not restart together).
max_requests = 20_000
max_requests_jitter = 2_000
preload_app = False
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
logger_class = RedactingLogger
forwarded_allow_ips = "127.0.0.1"
# The control socket is one path per user (~/.gunicorn): two servers on a machine would
# fight over it. Reload and stop with signals (HUP, TERM) instead.
control_socket_disable = True
