"""``civicgrid serve``: the production server (gunicorn) over ``create_app``.

Settings come from ``web/cli/gunicorn_conf.py``; the options here override the few that
differ per machine. The app itself is configured by the ``CIVICGRID_*`` environment as
always (the workers build it after the fork).
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication

from geo.core.text import tr
from web.cli import gunicorn_conf
from web.cli.common import echo
from web.security.guard import secret_key_message

WORKER_CLASSES = ("gthread", "sync")


class _Server(BaseApplication):
    """gunicorn with the settings of gunicorn_conf plus ``overrides``; each worker calls
    the app factory itself (``load``), after the fork."""

    def __init__(self, factory: Any, overrides: dict[str, Any], access_log: bool) -> None:
        self.factory = factory
        self.overrides = overrides
        self.access_log = access_log
        super().__init__()

    def load_config(self) -> None:
        for name in dir(gunicorn_conf):
            if name in self.cfg.settings:
                self.cfg.set(name, getattr(gunicorn_conf, name))
        for name, value in self.overrides.items():
            if value is not None:
                self.cfg.set(name, value)
        if not self.access_log:
            self.cfg.set("accesslog", None)

    def load(self) -> Any:
        return self.factory()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes (default: one per core).",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help=f"Threads per worker for gthread (default {gunicorn_conf.THREADS_PER_WORKER}).",
)
@click.option("--worker-class", type=click.Choice(WORKER_CLASSES), default=None)
@click.option("--timeout", type=click.IntRange(1, 3600), default=None, help="Worker timeout, s.")
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@with_appcontext
def serve_command(host: str, port: int, access_log: bool, **options: Any) -> None:
    """Serve with gunicorn (production) 生产环境服务; reload with `kill -HUP <pid>`."""
    if current_app.config.get("SECRET_KEY_MISSING"):
        echo(tr(f"错误: {secret_key_message()}", f"error: {secret_key_message()}"), err=True)
        sys.exit(2)
    factory = current_app.extensions["civicgrid.create_app"]
    overrides = {"bind": f"{host}:{port}", **options}
    _Server(factory, overrides, access_log).run()
