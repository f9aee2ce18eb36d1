"""The vocabulary of the authorisation matrix (tests/web/authz_routes.py): the principals,
probes, entries and the usual expected statuses per principal."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.helpers import IN_MARKERS, OUT_OF_DISTRICT, OUT_OF_GRIDS

USER_ROLES = ("admin", "city_officer", "district_officer", "grid_manager", "planner")
PRINCIPALS = ("anonymous", *USER_ROLES, "token_city", "token_district")
SCOPED_AS = {"token_district": "district_officer"}  # whose hidden markers a token shares
EVERYTHING = IN_MARKERS + OUT_OF_DISTRICT + OUT_OF_GRIDS


def statuses(default: int, **overrides: int) -> dict[str, int]:
    """Expected status for every principal: ``default`` unless overridden."""
    unknown = set(overrides) - set(PRINCIPALS)
    assert not unknown, unknown
    return {p: overrides.get(p, default) for p in PRINCIPALS}


@dataclass(frozen=True)
class Probe:
    """One request: ``path`` may hold {IN1}/{OUT1}; ``body`` names a payload below."""

    path: str
    body: str | None = None


@dataclass(frozen=True)
class Entry:
    probes: dict[str, Probe]  # "in" and "out"
    expect: dict[str, dict[str, int]]  # probe → principal → status
    shows: dict[str, list[str]] = field(default_factory=dict)  # probe → markers a 200 shows


def same(probe_in: Probe, probe_out: Probe, expect: dict[str, int], **shows) -> Entry:
    return Entry({"in": probe_in, "out": probe_out}, {"in": expect, "out": expect}, shows)


READ_API = statuses(200, anonymous=401)
PAGE = statuses(200, anonymous=302, token_city=302, token_district=302)  # tokens: API only
EVERYONE = statuses(200)
SCOPED_OUT = {"district_officer": 404, "grid_manager": 404, "token_district": 404}
REPORTERS_IN = statuses(201, anonymous=401, planner=403)
REPORTERS_OUT = statuses(
    201, anonymous=401, planner=403, district_officer=403, grid_manager=403, token_district=403
)
PAGE_SCOPED_OUT = {"district_officer": 404, "grid_manager": 404}
SCOPED_400 = {"district_officer": 400, "grid_manager": 400, "token_district": 400}
SCOPED_403 = {"district_officer": 403, "grid_manager": 403, "token_district": 403}
NOT_FOUND_PAGE = statuses(404, anonymous=302, token_city=302, token_district=302)
FORM_CLOSE = statuses(
    409, anonymous=401, token_city=401, token_district=401, planner=403, grid_manager=403
)
API_CLOSE = statuses(409, anonymous=401, planner=403, grid_manager=403)
REPORT_PAGE = {**PAGE, "planner": 403}
ASSIGN_PAGE = {**PAGE, "planner": 403, "grid_manager": 403}
OPEN311_IN = statuses(200, anonymous=401, planner=403)
OPEN311_OUT = {**OPEN311_IN, **SCOPED_403}
IN_GRID = "329901001000001"
INGESTERS = statuses(
    201, anonymous=401, planner=403, district_officer=403, grid_manager=403, token_district=403
)
