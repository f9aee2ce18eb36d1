"""The header menu: one registry of the pages people navigate between.

Each entry names its endpoint, its label (``geo.core.text.tr``) and the permission
(geo.access.scope.ACTIONS) a role needs to see it. An entry whose endpoint is not
registered in the running app is left out (an app built without one of the page
blueprints still renders its menu). base.html renders ``menu()``; nothing else lists pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for

from geo.access.scope import Principal
from geo.core.text import Text, tr
from web.i18n import pick

SEARCH_ENDPOINT = "search.index"
"""The search page; the header shows its box (GET ``/search?q=``) only when it exists."""


@dataclass(frozen=True)
class NavEntry:
    """A menu entry: where it goes, what it says, who may see it."""

    endpoint: str
    label: Text
    permission: str = "view"


ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("pages.index", tr("总览地图", "Overview")),
    NavEntry("mywork.my", tr("我的工作", "My work")),
    NavEntry("mywork.report", tr("上报问题", "Report a problem"), "report"),
    NavEntry("mywork.inbox_page", tr("通知", "Inbox")),
    NavEntry("rankings.page", tr("排名", "Rankings")),
    NavEntry("rankings.scores_page", tr("季度测评", "Scores")),
    NavEntry("rounds.index", tr("测评轮次", "Rounds")),
    NavEntry("bulletins.index", tr("通报", "Bulletins")),
    NavEntry("dashboard.index", tr("统计图表", "Dashboard")),
    NavEntry("hotspots.index", tr("热点与反弹", "Hot spots")),
    NavEntry("ogcapi.landing", tr("数据导出与接口", "Exports and APIs"), "export"),
)


@dataclass(frozen=True)
class MenuItem:
    """One rendered entry: its URL, its label in the page's language, whether it is
    the page being shown."""

    url: str
    label: str
    current: bool


def menu(principal: Principal | None) -> list[MenuItem]:
    """The entries ``principal`` may see whose pages exist in this app, in order."""
    if principal is None:
        return []
    endpoints = _endpoints(current_app)
    return [
        MenuItem(url_for(e.endpoint), pick(e.label), request.endpoint == e.endpoint)
        for e in ENTRIES
        if e.endpoint in endpoints and principal.can(e.permission)
    ]


def search_url() -> str | None:
    """The URL the header's search box submits to, or None when there is no search page."""
    if SEARCH_ENDPOINT not in _endpoints(current_app):
        return None
    return url_for(SEARCH_ENDPOINT)


def _endpoints(app: Flask) -> set[str]:
    return set(app.view_functions)


def init_app(app: Flask) -> None:
    """Make ``nav_menu`` and ``nav_search_url`` available in every template."""
    app.context_processor(lambda: {"nav_menu": menu, "nav_search_url": search_url})
