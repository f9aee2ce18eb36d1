"""The civicgrid Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, assets, error handlers, blueprints, CLI."""
    from web import api, assets, cli, config, database, errors, i18n, pages, scripts_api, security

    app = Flask(__name__, instance_relative_config=True)
    config.init_app(app, test_config)
    database.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(scripts_api.bp)
    cli.init_app(app)
    return app
