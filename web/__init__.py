"""The civicgrid Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


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
