"""The OpenAPI 3.0 description of /api/v1 (served at /api/v1/openapi.json).

Kept by hand next to the routes; tests validate it, check that every /api/v1 route is
in it, and fuzz it with schemathesis. Category codes come from the taxonomy in use.
"""

from __future__ import annotations

from typing import Any

from geo.core.params import MAX_ID
from geo.core.taxonomy import Taxonomy
from geo.export.query import COUNT_CAP
from geo.protocols.problem_query import MAX_LIMIT
from geo.storage.models import LEVELS
from geo.storage.statuses import ALL_STATUSES
from web.api.openapi_views import error_refs, transition_operation, view_paths

JSON = "application/json"


def document(taxonomy: Taxonomy) -> dict[str, Any]:
    """The OpenAPI document for the API as this server runs it."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "civicgrid API",
            "version": "1",
            "description": (
                "文明城市创建网格化管理 / civilized-city grid management. Scripts use "
                "`Authorization: Bearer <token>` (tokens: `civicgrid tokens create`). Every "
                "answer is limited to the caller's area scope. Errors are "
                '`{"error": {"code": ..., "message": ...}}`. Coordinates are WGS-84 '
                "lon/lat degrees; times ISO 8601 (UTC with Z in answers)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": {**_paths(), **view_paths()},
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": _schemas(taxonomy),
            "responses": _responses(),
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, schema: dict[str, Any], media: str = JSON) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


def _paths() -> dict[str, Any]:
    return {**_layer_paths(), **_problem_paths(), **_survey_paths()}


def _layer_paths() -> dict[str, Any]:
    return {
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This description",
                "security": [],
                "responses": {"200": _ok("OpenAPI document", {"type": "object"})},
            }
        },
        "/api/v1/areas": {
            "get": {
                "summary": "Areas of one level in the caller's scope (GeoJSON)",
                "parameters": [
                    _query("level", "Level", {"type": "string", "enum": list(LEVELS)}),
                    _query("lang", "Label language", {"type": "string", "enum": ["zh", "en"]}),
                ],
                "responses": {
                    "200": _ok("Areas", _ref("FeatureCollection"), "application/geo+json"),
                    **error_refs(400, 401, 403),
                },
            }
        },
        "/api/v1/points": {
            "get": {
                "summary": "Inspection points in the caller's scope (GeoJSON)",
                "parameters": [
                    _query("lang", "Label language", {"type": "string", "enum": ["zh", "en"]})
                ],
                "responses": {
                    "200": _ok("Points", _ref("FeatureCollection"), "application/geo+json"),
                    **error_refs(400, 401, 403),
                },
            }
        },
    }


def _problem_paths() -> dict[str, Any]:
    text = {"type": "string", "maxLength": 200}
    return {
        "/api/v1/problems": {
            "get": {
                "summary": "Problems in the caller's scope, filtered and paged (by id)",
                "parameters": _problem_filters(text),
                "responses": {
                    "200": _ok("One page", _ref("ProblemPage")),
                    **error_refs(400, 401, 403),
                },
            },
            "post": {
                "summary": "Create one problem (status found) in the caller's scope",
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("NewProblem")}},
                },
                "responses": {
                    "201": _ok("Created", _ref("Problem")),
                    **error_refs(400, 401, 403, 409, 413, 422),
                },
            },
        },
        "/api/v1/problems/{problem_id}": {
            "get": {
                "summary": "One problem with its history (404 when out of scope)",
                "parameters": [
                    {
                        "name": "problem_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    }
                ],
                "responses": {
                    "200": _ok("The problem", _ref("Problem")),
                    **error_refs(401, 403, 404),
                },
            },
            "post": transition_operation(),
        },
    }


def _survey_paths() -> dict[str, Any]:
    return {
        "/api/v1/surveys": {
            "post": {
                "summary": "Upload a survey file through the ingest pipeline",
                "description": "Needs the ingest permission and a whole-city scope.",
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("SurveyUpload")}},
                },
                "responses": {
                    "200": _ok("Dry run: checked, nothing written", _ref("SurveyResult")),
                    "201": _ok("Written", _ref("SurveyResult")),
                    "422": _ok("Refused (strict): every bad row", _ref("SurveyRefusal")),
                    **error_refs(400, 401, 403, 413, 415),
                },
            }
        },
    }


def _problem_filters(text: dict[str, Any]) -> list[dict[str, Any]]:
    codes = {"type": "string", "maxLength": 64}
    return [
        _query("status", f"Comma-separated: {', '.join(ALL_STATUSES)}", text),
        _query("category", "Comma-separated category codes or labels", text),
        _query("district", "District code", codes),
        _query("street", "Street/town code", codes),
        _query("community", "Community/village code", codes),
        _query("grid", "Grid code", codes),
        _query("bbox", "min_lon,min_lat,max_lon,max_lat (degrees)", text),
        _query("found_from", "Found at or after (ISO 8601; no offset = local time)", text),
        _query("found_before", "Found before (ISO 8601)", text),
        _query("overdue", "Unresolved past the deadline", {"type": "boolean"}),
        _query("campaign", "Campaign code", codes),
        _query("source", "Ingest source", codes),
        _query("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
        _query("offset", "Rows to skip", {"type": "integer", "minimum": 0, "maximum": 10**9}),
        _query("lang", "Label language", {"type": "string", "enum": ["zh", "en"]}),
    ]


def _schemas(taxonomy: Taxonomy) -> dict[str, Any]:
    return {**_common_schemas(), **_problem_schemas(taxonomy), **_survey_schemas()}


_OPT_TEXT = {"type": "string", "nullable": True}


def _common_schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
        "FeatureCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"type": "object"}},
            },
        },
    }


def _problem_schemas(taxonomy: Taxonomy) -> dict[str, Any]:
    return {
        "NewProblem": {
            "type": "object",
            "additionalProperties": False,
            "required": ["lon", "lat", "category"],
            "properties": {
                "external_id": {
                    "type": "string",
                    "maxLength": 200,
                    "description": "Your id (with source: unique; default a new UUID)",
                },
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "category": {"type": "string", "enum": sorted(taxonomy.categories)},
                "found_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Default now; no offset = local time",
                },
                "description": {"type": "string", "maxLength": 2000},
                "campaign": {"type": "string", "enum": sorted(taxonomy.campaigns)},
                "point_code": {"type": "string", "maxLength": 64},
                "source": {"type": "string", "pattern": r"^[\w.@:-]{1,100}$"},
            },
        },
        "Problem": _problem_schema(),
        "ProblemPage": {
            "type": "object",
            "required": ["items", "total", "limit", "offset", "next"],
            "properties": {
                "items": {"type": "array", "items": _ref("Problem")},
                "total": {
                    "type": "integer",
                    "nullable": True,
                    "description": f"null when more than {COUNT_CAP:,} match (see total_more_than)",
                },
                "total_more_than": {"type": "integer", "enum": [COUNT_CAP]},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "next": {"type": "string", "nullable": True},
            },
        },
    }


def _problem_schema() -> dict[str, Any]:
    opt_time = {"type": "string", "format": "date-time", "nullable": True}
    return {
        "type": "object",
        "required": ["id", "category", "status", "lon", "lat", "found_at", "version"],
        "properties": {
            "id": {"type": "integer"},
            "source": {"type": "string"},
            "external_id": {"type": "string"},
            "category": {"type": "string"},
            "category_label": {"type": "string"},
            "status": {"type": "string", "enum": list(ALL_STATUSES)},
            "status_label": {"type": "string"},
            "description": {"type": "string"},
            "lon": {"type": "number"},
            "lat": {"type": "number"},
            "outside": {"type": "boolean"},
            **{level: _OPT_TEXT for level in ("district", "street", "community", "grid")},
            "point_code": _OPT_TEXT,
            "unit": _OPT_TEXT,
            "campaign": _OPT_TEXT,
            "found_at": {"type": "string", "format": "date-time"},
            **{t: opt_time for t in ("assigned_at", "deadline", "rectified_at", "closed_at")},
            "reopen_count": {"type": "integer"},
            "version": {"type": "integer"},
            "events": {"type": "array", "items": {"type": "object"}},
        },
    }


def _survey_schemas() -> dict[str, Any]:
    return {
        "SurveyUpload": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "source": {"type": "string", "pattern": r"^[\w.@:-]{1,100}$"},
                "strict": {"type": "boolean", "description": "Any bad row refuses the file"},
                "dry_run": {"type": "boolean", "description": "Check only, write nothing"},
            },
        },
        "Batch": {
            "type": "object",
            "required": ["id", "file_name", "rows", "accepted", "duplicates", "outside"],
            "properties": {
                "id": {"type": "integer", "nullable": True},
                "file_name": {"type": "string"},
                "rows": {"type": "integer"},
                "accepted": {"type": "integer"},
                "duplicates": {"type": "integer"},
                "outside": {"type": "integer"},
                "written": {"type": "boolean"},
            },
        },
        "Reject": {
            "type": "object",
            "required": ["row", "reason_zh", "reason_en"],
            "properties": {
                "row": {"type": "integer", "description": "Line in the file (header = 1)"},
                "reason_zh": {"type": "string"},
                "reason_en": {"type": "string"},
                "external_id": _OPT_TEXT,
            },
        },
        "SurveyResult": {
            "type": "object",
            "required": ["batch", "rejects"],
            "properties": {
                "batch": _ref("Batch"),
                "rejects": {"type": "array", "items": _ref("Reject")},
            },
        },
        "SurveyRefusal": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],  # batch, rejects: if rows were read
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "batch": _ref("Batch"),
                        "rejects": {"type": "array", "items": _ref("Reject")},
                    },
                }
            },
        },
    }


_MEANINGS = {
    400: "Bad request (parameter, CSRF token, unreadable file)",
    401: "No valid login or token",
    403: "Role or area scope does not allow it",
    404: "Not found (or out of scope)",
    409: "Exists already, or changed since the version you read (reload and retry)",
    413: "Upload larger than CIVICGRID_MAX_UPLOAD_MB",
    415: "Not an accepted file type",
    422: "Refused content",
}


def _responses() -> dict[str, Any]:
    return {
        f"E{code}": {"description": text, "content": {JSON: {"schema": _ref("Error")}}}
        for code, text in _MEANINGS.items()
    }
