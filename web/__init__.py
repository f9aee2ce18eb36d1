"""The civicgrid Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, assets, error handlers, blueprints, CLI."""
    from flask_wtf.csrf import CSRFProtect

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
    )

    app = Flask(__name__, instance_relative_config=True)
    config.init_app(app, test_config)
    database.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    httpcache.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    csrf = CSRFProtect(app)
    app.register_blueprint(problems.bp)
    app.register_blueprint(rankings.bp)
    app.register_blueprint(heat_api.bp)
    app.register_blueprint(area_pages.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(ogcapi.bp)
    app.register_blueprint(open311.bp)
    csrf.exempt(open311.bp)  # machine clients: authenticated by api_key, not a session
    app.register_blueprint(rounds.bp)
    app.register_blueprint(notices.bp)
    cli.init_app(app)
    return app
