"""`civicgrid demo`: build (or reuse) the demo city and serve it until Ctrl-C.

Serving goes through werkzeug's server directly: Flask ignores ``app.run()`` inside its
own CLI, so `civicgrid demo` and `flask --app web demo` would otherwise exit at once.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import make_server

from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.demo.basemap import ensure_demo_basemap
from geo.demo.reuse import prepare_demo
from geo.reports.scheduled import publish_closed
from geo.storage.db import make_engine
from web import database
from web.cli.common import domain_errors, echo


@click.command("demo")
@with_appcontext
@click.option("--database-url", default=None, help="Where to build it (default instance/demo.db).")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve after building.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--rebuild", is_flag=True, help="Build afresh even when the demo files did not change."
)
@domain_errors
def demo_command(
    database_url: str | None, serve: bool, host: str, port: int, rebuild: bool
) -> None:
    """Build the demo-city database (reused while its files are unchanged) and serve it
    构建示例城市并启动."""
    url = database_url or f"sqlite:///{Path(current_app.instance_path) / 'demo.db'}"
    demo_dir = Path(current_app.config["DEMO_DIR"])
    prepare_demo(url, demo_dir, Path(current_app.config["TAXONOMY"]), echo, rebuild)
    _publish_closed_periods(url)
    settings: dict[str, object] = {"DATABASE_URL": url, "DEMO": True}
    if current_app.config["BASEMAP"] == "none":  # no basemap chosen: the demo's own, offline
        basemap = Path(current_app.instance_path) / "demo-basemap.pmtiles"
        ensure_demo_basemap(demo_dir, basemap, echo)
        settings.update(BASEMAP="pmtiles", PMTILES_PATH=str(basemap))
    if serve:
        create_app = current_app.extensions["civicgrid.create_app"]
        serve_app(create_app(settings), host, port)


def _publish_closed_periods(url: str) -> None:
    """Publish the periods that just closed, as the daily timer of a real deployment does
    (`civicgrid publish`), so the demo's bulletin archive is not empty; kept ones stay."""
    engine = make_engine(url)
    try:
        outcomes = publish_closed(engine, database.taxonomy(), current_app.config["TIMEZONE"])
    finally:
        engine.dispose()
    new = sum(o.new for o in outcomes)
    echo(
        tr(
            f"已发布刚结束的周、月、季度: 新发布 {new} 项（排名、得分、通报）",
            f"published the week, month and quarter just ended: {new} new"
            " (rankings, scores, bulletin)",
        )
    )


def serve_app(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` on host:port with werkzeug's threaded server until Ctrl-C."""
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        reason = exc.strerror or exc
        raise ConfigError(
            tr(
                f"无法监听 {host}:{port}: {reason}（端口被占用？试试 --port 5001）",
                f"cannot listen on {host}:{port}: {reason} (port in use? try --port 5001)",
            )
        ) from exc
    _stop_on_sigterm()
    url = f"http://{host}:{server.port}/"
    echo(tr(f"示例城市: {url}（按 Ctrl-C 停止）", f"demo city: {url}  (Ctrl-C stops)"))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        echo(tr("已停止", "stopped"))


def _stop_on_sigterm() -> None:
    """``kill`` (SIGTERM) stops the server as cleanly as Ctrl-C does."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
