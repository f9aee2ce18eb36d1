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
        assets,
        cli,
        config,
        database,
        errors,
        i18n,
        notices,
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
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    CSRFProtect(app)
    app.register_blueprint(problems.bp)
    app.register_blueprint(rankings.bp)
    app.register_blueprint(rounds.bp)
    app.register_blueprint(notices.bp)
    cli.init_app(app)
    return app
