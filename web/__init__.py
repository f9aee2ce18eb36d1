"""The civicgrid Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
"""Largest id a database integer column holds."""


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: ids beyond a database integer are simply not found
    (a 404 at routing), instead of overflowing a query."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, assets, error handlers, blueprints, CLI."""
    from web import assets, config, database, errors, httpcache, i18n
    from web.api import exports, health, ogcapi, open311
    from web.api import heat as heat_api
    from web.api import layers as api
    from web.api import scripts as scripts_api
    from web.cli import main as cli
    from web.pages import areas as area_pages
    from web.pages import notices, problems, rankings, rounds
    from web.pages import overview as pages
    from web.security import auth
    from web.security import guard as security

    app = Flask(__name__, instance_relative_config=True)
    # Commands that start another app (the demo) build it with this same factory.
    app.extensions["civicgrid.create_app"] = create_app
    app.url_map.converters["int"] = IdConverter
    config.init_app(app, test_config)
    database.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    httpcache.init_app(app)
    security.init_app(app)
    for module in (
        auth,
        pages,
        api,
        scripts_api,
        problems,
        rankings,
        heat_api,
        area_pages,
        exports,
        ogcapi,
        open311,
        rounds,
        notices,
        health,
    ):
        app.register_blueprint(module.bp)
    cli.init_app(app)
    return app
