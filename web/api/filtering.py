"""The request's filter: the map's query arguments parsed into a ``ProblemFilter``.

Every export and API route builds its filter here, so access control (user, planner
and token scopes) applies in one place: the filter is limited to the caller's scope
with ``.within(scope)`` before it is returned, and every geo/ builder honours it.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, request

from geo.reports.filters import ProblemFilter, Target
from web import database
from web.security.guard import current_scope

COMMON_KEYS = ("lang",)
"""Query arguments any route accepts besides its filters."""


def request_filter(target: Target, extra: Iterable[str] = ()) -> ProblemFilter:
    """The filter of the current request's query arguments for ``target``, restricted.

    ``extra`` names the route's own arguments; any other unknown argument is a 400
    listing the allowed ones.
    """
    filt = ProblemFilter.from_args(
        request.args,
        database.taxonomy(),
        target,
        tz=current_app.config["TIMEZONE"],
        extra=(*COMMON_KEYS, *extra),
    )
    return restrict(filt)


def restrict(filt: ProblemFilter) -> ProblemFilter:
    """``filt`` limited to what the caller (user, token) may see.

    Every export, OGC API and Open311 read passes its filter through here.
    """
    return filt.within(current_scope())
