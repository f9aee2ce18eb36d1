"""The civicgrid Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter

from geo.core.params import MAX_ID
from geo.core.text import tr
from web.errors import IdNotFound


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: ids beyond a database integer are simply not found
    (a 404 for every method), instead of overflowing a query.

    The digits still match the rule, so ``POST /api/v1/problems/2147483648`` is a 404
    like its GET, not a 405 from the router falling through to another rule. The 404
    carries a two-language message, so the app's error handler answers it like a missing
    record (the Chinese error page, ``?lang=en`` English; the API's JSON error shape).
    """

    def to_python(self, value: str) -> Any:
        if len(value) > 10 or int(value) > MAX_ID:
            shown = value if len(value) <= 24 else value[:24] + "…"
            raise IdNotFound(tr(f"记录不存在: {shown}", f"no record with id {shown}"))
        return super().to_python(value)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, assets, error handlers, blueprints, CLI."""
    from web import assets, config, database, errors, httpcache, i18n
    from web.cli import main as cli
    from web.pages import nav
    from web.security import guard as security
    from web.security import logs

    app = Flask(__name__, instance_relative_config=True)
    # Commands that start another app (the demo) build it with this same factory.
    app.extensions["civicgrid.create_app"] = create_app
    app.url_map.converters["int"] = IdConverter
    logs.init_app(app)
    config.init_app(app, test_config)
    database.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    httpcache.init_app(app)
    security.init_app(app)
    nav.init_app(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    cli.init_app(app)
    return app


def _blueprints() -> list[Blueprint]:
    """Every blueprint of the app: login, pages, the APIs and the health checks."""
    from web.api import exports, health, ogcapi, open311
    from web.api import heat as heat_api
    from web.api import layers as api
    from web.api import scripts as scripts_api
    from web.pages import areas as area_pages
    from web.pages import (
        basemap,
        bulletins,
        dashboard,
        hotspots,
        mywork,
        notices,
        problems,
        rankings,
        rounds,
        search,
    )
    from web.pages import overview as pages
    from web.security import auth

    pages_ = [auth, pages, problems, rankings, bulletins, area_pages, rounds, notices, mywork]
    desk = [search, hotspots, basemap, dashboard]
    apis = [api, scripts_api, heat_api, exports, ogcapi, open311, health]
    return [module.bp for module in pages_ + desk + apis]
