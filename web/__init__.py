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
    from web import (
        api,
        area_pages,
        assets,
        cli,
        config,
        database,
        errors,
        exports,
        heat_api,
        httpcache,
        i18n,
        notices,
        ogcapi,
        open311,
        pages,
        problems,
        rankings,
        rounds,
        scripts_api,
        security,
    )

    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter
    config.init_app(app, test_config)
    database.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    httpcache.init_app(app)
    security.init_app(app)
    for module in (
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
    ):
        app.register_blueprint(module.bp)
    cli.init_app(app)
    return app
