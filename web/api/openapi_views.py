"""OpenAPI path items of the JSON views behind the pages: heat maps, a problem's map
layers, rankings and scores, rounds, hot spots and rebounds, the phone app's markers and
reports; and the lifecycle transition of one problem.

web/api/openapi.py assembles them with the script API's own paths into one document.
Every answer is limited to the caller's area scope (geo/access/scope.py).
"""

from __future__ import annotations

from typing import Any

from geo.core.params import MAX_ID
from geo.lifecycle.transitions import ACTIONS
from geo.reports.heat_filters import HEAT_LEVELS, METRICS, STATUS_FILTERS
from geo.reports.stats import RATE_LEVELS

JSON = "application/json"
GEOJSON = "application/geo+json"

_TEXT = {"type": "string", "maxLength": 200}
_LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["zh", "en"]}}
_OBJECT = {"type": "object"}


def view_paths() -> dict[str, Any]:
    """Path items for the heat, problem-layer, ranking, score and round routes."""
    return {
        **_heat_paths(),
        **_field_paths(),
        "/api/v1/problems/{problem_id}/location": _get(
            "The problem's point (GeoJSON) for its page's map", [_ID], GEOJSON, 404
        ),
        "/api/v1/problems/{problem_id}/area": _get(
            "The outline of the problem's grid (GeoJSON)", [_ID], GEOJSON, 404
        ),
        "/api/v1/rankings": _get(
            "Rates and rank per area (or unit) over a period, red and black lists",
            [
                _q("level", {"type": "string", "enum": list(RATE_LEVELS)}),
                _q(
                    "period",
                    {"type": "string", "example": "2026-W47"},
                    "2026-W47, 2026-11, 2026-Q4",
                ),
                _q("top", {"type": "integer", "minimum": 1, "maximum": 100}),
                _LANG,
            ],
        ),
        "/api/v1/scores": _get(
            "Quarterly scores per area, one per evaluation scheme",
            [
                _q("level", {"type": "string", "enum": list(HEAT_LEVELS)}),
                _q("period", {"type": "string", "example": "2026-Q4"}, "A quarter"),
                _LANG,
            ],
        ),
        "/api/v1/rounds": _get("Rounds of field evaluation with coverage totals", [_LANG]),
        "/api/v1/rounds/{round_id}": _get(
            "A round, its coverage by kind and area, and its notices",
            [
                _ROUND,
                _q("level", {"type": "string", "enum": list(HEAT_LEVELS)}),
                _q("area", _TEXT),
                _LANG,
            ],
            JSON,
            404,
        ),
        "/api/v1/rounds/{round_id}/points": _get(
            "The round's points coloured by latest result (GeoJSON)",
            [_ROUND, _q("visited", {"type": "string", "enum": ["0", "1", "true", "false"]}), _LANG],
            GEOJSON,
            404,
        ),
    }


def transition_operation() -> dict[str, Any]:
    """POST /api/v1/problems/{problem_id}: one lifecycle action, with the version read."""
    body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["action", "version"],
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "version": {"type": "integer", "minimum": 1, "description": "The version you read"},
            "note": {"type": "string", "maxLength": 2000},
            "unit": {"type": "string", "maxLength": 200, "description": "assign: the unit"},
            "deadline": {"type": "string", "format": "date-time"},
        },
    }
    return {
        "summary": "Apply a lifecycle action (assign, rectify, close, reopen…)",
        "description": "409 when the problem changed since `version` or the action does "
        "not fit its state; 403 when the role may not take the action.",
        "parameters": [_ID],
        "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
        "responses": {
            "200": {
                "description": "The problem as it is now",
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
            **error_refs(400, 401, 403, 404, 409, 422),
        },
    }


def _heat_filters() -> list[dict[str, Any]]:
    return [
        _q("level", {"type": "string", "enum": list(HEAT_LEVELS)}),
        _q("metric", {"type": "string", "enum": list(METRICS)}),
        _q("status", {"type": "string", "enum": list(STATUS_FILTERS)}),
        _q("category", _TEXT, "Category codes or labels, comma-separated"),
        _q("kind", _TEXT, "Point kinds"),
        _q("campaign", _TEXT, "Campaigns"),
        _q("from", _TEXT, "Found on or after (date)"),
        _q("to", _TEXT, "Found on or before (date)"),
        _q("district", _TEXT, "District code"),
        _q("within", _TEXT, "<level>:<code>: only inside this area"),
        _LANG,
    ]


def _heat_paths() -> dict[str, Any]:
    filters = _heat_filters()
    bbox = _q("bbox", _TEXT, "min_lon,min_lat,max_lon,max_lat (degrees)")
    zoom = _q("zoom", {"type": "integer", "minimum": 0, "maximum": 22})
    version = _q("v", _TEXT, "Areas version (makes the answer immutable)")
    return {
        "/api/v1/heat": _get("Figures per area for the heat map", filters),
        "/api/v1/shapes": _get("Area outlines (compact cg-rings-1 encoding)", [*filters, version]),
        "/api/v1/heat/points": _get("Problems binned into weighted cells", [*filters, bbox, zoom]),
        "/api/v1/heat/problems": _get(
            "The newest problems inside ?within= (GeoJSON points)", filters, GEOJSON
        ),
    }


def _field_paths() -> dict[str, Any]:
    """Hot spots and rebounds (the supervisor's desk) and the phone app's routes."""
    days = _q("days", {"type": "integer", "minimum": 1, "maximum": 365}, "Rebound window")
    by = _q("by", {"type": "string", "enum": ["grid", "point"]}, "Rebounds at grids or points")
    degrees = {"type": "number", "minimum": -180, "maximum": 180}
    return {
        "/api/v1/hotspots": _get(
            "Significant hot and cold grids (Getis-Ord Gi*), GeoJSON", _heat_filters(), GEOJSON
        ),
        "/api/v1/rebounds": _get(
            "Places where a closed problem's category came back within ?days=",
            [*_heat_filters(), days, by],
            GEOJSON,
        ),
        "/api/v1/my/markers": _get(
            "Open problems of the caller's scope as markers coloured by state", [_LANG], GEOJSON
        ),
        "/api/v1/reports/points": _get(
            "Inspection points near a place (metres, nearest first) and whether it is in scope",
            [
                {**_q("lon", degrees, "WGS-84 longitude"), "required": True},
                {**_q("lat", {**degrees, "minimum": -90, "maximum": 90}), "required": True},
                _LANG,
            ],
        ),
        "/api/v1/reports": {"post": _report_operation()},
    }


def _report_operation() -> dict[str, Any]:
    text = {"type": "string", "maxLength": 2000}
    form = {
        "type": "object",
        "required": ["client_id", "category", "lon", "lat"],
        "properties": {
            "client_id": {"type": "string", "maxLength": 80},
            "category": {"type": "string", "maxLength": 200},
            "lon": {"type": "string"},
            "lat": {"type": "string"},
            "description": text,
            "point_code": {"type": "string", "maxLength": 200},
            "photo": {"type": "string", "format": "binary"},
            "fixed": {"type": "string", "enum": ["0", "1"]},
            "note": text,
            "after": {"type": "string", "format": "binary"},
        },
    }
    made = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "created": {"type": "boolean"},
            "url": {"type": "string"},
        },
    }
    answer = {JSON: {"schema": made}}
    return {
        "summary": "Report a problem from the phone (idempotent by client_id)",
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": form}}},
        "responses": {
            "201": {"description": "Created", "content": answer},
            "200": {"description": "Sent before: the same problem", "content": answer},
            **error_refs(400, 401, 403, 409, 413, 415, 422),
        },
    }  # fmt: skip


_ID = {
    "name": "problem_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
_ROUND = {**_ID, "name": "round_id"}


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _get(
    summary: str, parameters: list[dict[str, Any]], media: str = JSON, *more_errors: int
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {media: {"schema": _OBJECT}}},
                "304": {"description": "Not modified (ETag)"},
                **error_refs(400, 401, 403, *more_errors),
            },
        }
    }


def error_refs(*codes: int) -> dict[str, Any]:
    """References to the shared error responses (components/responses/E<code>)."""
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in codes}
