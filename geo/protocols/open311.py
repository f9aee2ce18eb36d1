"""Open311 GeoReport v2: services are the problem categories, requests the problems.

Statuses map to GeoReport's two: found, assigned and rectified are ``open``; closed is
``closed`` (``status_notes`` carries the civicgrid status label). Times are ISO 8601
with the configured time zone's offset. ``requests`` lists the most recently found
first. As the spec says, a list without ``start_date``/``end_date`` covers the last 90
days, one with only one of them the 90 days from (or up to) it, and a range may not span
more than 90 days; at most 1000 requests are returned (``page``/``page_size``, a
civicgrid extension, page through more). ``service_request_id`` ignores the window.
This module returns plain dicts and XML bytes; web/api/open311.py serves them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError, NotFoundError, TaxonomyError
from geo.core.params import MAX_ID, MAX_INT, as_int, check_text, int_param, record_id
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.export.encode import iso_times
from geo.export.rows import EPOCH
from geo.ingest.intake import MAX_DESCRIPTION
from geo.protocols.ogcapi import parse_datetime
from geo.protocols.open311_docs import errors_xml as errors_xml  # web/errors.py
from geo.protocols.open311_docs import to_xml as to_xml
from geo.reports.filters import ProblemFilter, allowed_keys_message
from geo.storage.models import Area, Problem, ResponsibleUnit
from geo.storage.statuses import ALL_STATUSES, RESOLVED, UNRESOLVED, VOIDED, unresolved_sql

STATUS_MAP = {s: "open" if s in UNRESOLVED else "closed" for s in ALL_STATUSES}
"""civicgrid status → Open311's open/closed: unresolved is open (geo.storage.statuses)."""
DEFAULT_PAGE_SIZE = 1_000
WINDOW = timedelta(days=90)
"""GeoReport v2's default and longest date range of a request list."""
MAX_PAGE_SIZE = 1_000
MAX_PAGE = 1_000_000
REQUEST_KEYS = (
    "service_request_id",
    "service_code",
    "status",
    "start_date",
    "end_date",
    "page",
    "page_size",
    "jurisdiction_id",
    "lang",
    "api_key",  # the caller's token (web/security/guard.py reads it)
)
_POST_WORDS = (
    "api_key jurisdiction_id service_code lat long address_string address_id description "
    "email device_id account_id first_name last_name phone media_url lang"
)
POST_KEYS = tuple(_POST_WORDS.split())
GROUP = ("文明城市创建", "Civilized city campaign")


@dataclass(frozen=True)
class RequestsQuery:
    """Parsed ``GET requests`` arguments; dates are naive UTC (end exclusive)."""

    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


def services(taxonomy: Taxonomy, lang: str = "zh") -> list[dict[str, Any]]:
    """The service list: one service per problem category."""
    group = GROUP[1] if lang == "en" else GROUP[0]
    return [
        {
            "service_code": c.code,
            "service_name": c.label(lang),
            "description": f"{c.zh} / {c.en}"
            + (f" (GB/T 30428 {c.gbt_code})" if c.gbt_code else ""),
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(taxonomy.kind_label(k, lang) for k in c.point_kinds[:5]),
            "group": group,
        }
        for c in taxonomy.categories.values()
    ]


def service_definition(taxonomy: Taxonomy, code: str) -> dict[str, Any]:
    """The definition of a service: civicgrid asks for no extra attributes."""
    if code not in taxonomy.categories:
        raise NotFoundError(tr(f"没有这个服务 '{code}'", f"no service '{code}'"))
    return {"service_code": code, "attributes": []}


def parse_requests(
    args: Mapping[str, Any], taxonomy: Taxonomy, tz: str, now: datetime | None = None
) -> RequestsQuery:
    """Validate ``GET requests`` arguments; raise ``InvalidParameterError`` (400).

    ``now`` (naive UTC, default the current time) ends the default 90-day window.
    """
    unknown = [k for k in args if k not in REQUEST_KEYS]
    if unknown:
        raise InvalidParameterError(
            tr(
                f"未知的参数: {', '.join(unknown)}; ",
                f"unknown parameter(s): {', '.join(unknown)}; ",
            )
            + allowed_keys_message(REQUEST_KEYS)
        )
    codes = _split(args.get("service_code"))
    for code in codes:
        if code not in taxonomy.categories:
            raise InvalidParameterError(
                tr(
                    f"未知的服务 '{code}'; 可选: {', '.join(taxonomy.categories)}",
                    f"unknown service_code '{code}'; one of: {', '.join(taxonomy.categories)}",
                )
            )
    statuses = _split(args.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise InvalidParameterError(
            tr("status 须为 open 或 closed", "status must be open or closed")
        )
    ids = tuple(_request_id(v) for v in _split(args.get("service_request_id")))
    start = _date(args.get("start_date"), "start_date", tz, end=False)
    end = _date(args.get("end_date"), "end_date", tz, end=True)
    if not ids:
        start, end = _window(start, end, now)
    return RequestsQuery(
        ids=ids,
        service_codes=codes,
        statuses=statuses,
        start=start,
        end=end,
        page=_positive(args.get("page"), "page", 1),
        page_size=min(
            _positive(args.get("page_size"), "page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE
        ),
    )


PUBLIC_HIDDEN = ("description",)
"""Fields a public (keyless) read leaves empty: free text may name people, phones, plates."""


def public_records(records: list[dict[str, Any]], decimals: int) -> list[dict[str, Any]]:
    """``records`` as anyone may see them: no free text, lat/long rounded to ``decimals``
    (WGS-84 degrees; 3 decimals ≈ 100 m)."""
    out = []
    for record in records:
        shown = {**record, **dict.fromkeys(PUBLIC_HIDDEN)}
        for key in ("lat", "long"):
            if shown.get(key) is not None:
                shown[key] = round(float(shown[key]), decimals)
        out.append(shown)
    return out


def service_requests(
    session: so.Session,
    query: RequestsQuery,
    filt: ProblemFilter,
    taxonomy: Taxonomy,
    lang: str,
    tz: str,
    public: bool = False,
) -> list[dict[str, Any]]:
    """One page of service requests (most recently found first) as GeoReport dicts.

    ``filt`` carries the access scope (and any map filter) to respect; ``public`` leaves
    out voided problems (false reports are nobody's business).
    """
    conds = [*_conditions(query), *([Problem.status != VOIDED] if public else [])]
    stmt = _select().where(*conds).order_by(Problem.found_at.desc(), Problem.id.desc())
    stmt = filt.apply(stmt).limit(query.page_size).offset((query.page - 1) * query.page_size)
    rows = session.execute(stmt).all()
    return _records(session, rows, taxonomy, lang, tz)


def service_request(
    session: so.Session,
    request_id: str,
    filt: ProblemFilter,
    taxonomy: Taxonomy,
    lang: str,
    tz: str,
    public: bool = False,
) -> list[dict[str, Any]]:
    """The one request ``request_id`` (a list of one, as GeoReport answers); ``public``:
    not a voided one."""
    number = record_id(request_id)
    if number is None:
        raise NotFoundError(
            tr(f"没有这个请求 '{request_id[:40]}'", f"no service request '{request_id[:40]}'")
        )
    stmt = _select().where(Problem.id == number, *([Problem.status != VOIDED] if public else []))
    rows = session.execute(filt.apply(stmt)).all()
    if not rows:
        raise NotFoundError(
            tr(f"没有这个请求 '{request_id}'", f"no service request '{request_id}'")
        )
    return _records(session, rows, taxonomy, lang, tz)


def _select() -> sa.Select[Any]:
    columns: list[Any] = [
        *(Problem.id, Problem.category, Problem.status, Problem.description),
        *(Problem.lon, Problem.lat, ResponsibleUnit.name),
        *(Problem.district_id, Problem.street_id, Problem.community_id, Problem.grid_id),
        *(Problem.found_at, Problem.assigned_at, Problem.deadline),
        *(Problem.rectified_at, Problem.closed_at),
    ]
    stmt = sa.select(*columns)
    return stmt.outerjoin(ResponsibleUnit, ResponsibleUnit.id == Problem.unit_id)


def _conditions(query: RequestsQuery) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if query.ids:
        conds.append(Problem.id.in_(query.ids))
    if query.service_codes:
        conds.append(Problem.category.in_(query.service_codes))
    if query.statuses == ("open",):
        conds.append(unresolved_sql())
    elif query.statuses == ("closed",):
        conds.append(Problem.status.in_(RESOLVED))
    if query.start is not None:
        conds.append(Problem.found_at >= query.start)
    if query.end is not None:
        conds.append(Problem.found_at < query.end)
    return conds


def _records(
    session: so.Session, rows: Sequence[Any], taxonomy: Taxonomy, lang: str, tz: str
) -> list[dict[str, Any]]:
    names = _area_names(session, rows)
    out = []
    for row in rows:
        pid, category, status, description, lon, lat, unit, *ancestry = row[:11]
        found, assigned, deadline, rectified, closed = row[11:16]
        iso = _iso([found, max(t for t in (found, assigned, rectified, closed) if t), deadline], tz)
        out.append(
            {
                "service_request_id": str(pid),
                "status": STATUS_MAP.get(status, "open"),
                "status_notes": _label(taxonomy, "statuses", status, lang),
                "service_name": _label(taxonomy, "categories", category, lang),
                "service_code": category,
                "description": description,
                "agency_responsible": unit,
                "service_notice": None,
                "requested_datetime": iso[0],
                "updated_datetime": iso[1],
                "expected_datetime": iso[2],
                "address": " ".join(names[a] for a in ancestry if a in names) or None,
                "address_id": None,
                "zipcode": None,
                "lat": lat,
                "long": lon,
                "media_url": None,
            }
        )
    return out


def _iso(moments: list[datetime | None], tz: str) -> list[str | None]:
    epoch = np.array([np.nan if m is None else (m - EPOCH).total_seconds() for m in moments])
    return list(iso_times(epoch, tz))


def _area_names(session: so.Session, rows: Sequence[Any]) -> dict[int, str]:
    ids = {a for row in rows for a in row[7:11] if a is not None}
    if not ids:
        return {}
    return dict(session.execute(sa.select(Area.id, Area.name).where(Area.id.in_(ids))).all())


def _label(taxonomy: Taxonomy, section: str, code: str, lang: str) -> str:
    try:
        return taxonomy.label(section, code, lang)  # type: ignore[arg-type]
    except TaxonomyError:
        return code


def _split(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(p.strip() for p in str(value).split(",") if p.strip())


def _request_id(value: str) -> int:
    number = as_int(value, 0, MAX_ID)
    if number is None:
        raise InvalidParameterError(
            tr(
                f"service_request_id 须为 0–{MAX_ID} 的数字: '{value[:40]}'",
                f"service_request_id must be a number from 0 to {MAX_ID}: '{value[:40]}'",
            )
        )
    return number


def _date(value: Any, name: str, tz: str, end: bool) -> datetime | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        interval = parse_datetime(str(value).strip(), tz)
    except InvalidParameterError:
        raise InvalidParameterError(
            tr(
                f"{name} 格式错误 '{value}'",
                f"malformed {name} '{value}' (ISO 8601, e.g. 2024-05-01T00:00:00+08:00)",
            )
        ) from None
    assert interval is not None
    return interval[1] if end else interval[0]


def _window(
    start: datetime | None, end: datetime | None, now: datetime | None
) -> tuple[datetime, datetime]:
    """The request list's date range (naive UTC, end exclusive): the spec's 90 days."""
    if start is None and end is None:
        end = now or datetime.now(UTC).replace(tzinfo=None)
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if start >= end:
        raise InvalidParameterError(tr("start_date 晚于 end_date", "start_date is after end_date"))
    if end - start > WINDOW:
        raise InvalidParameterError(
            tr(
                "start_date 到 end_date 不能超过 90 天",
                "start_date to end_date may not span more than 90 days",
            )
        )
    return start, end


def _positive(value: Any, name: str, default: int) -> int:
    return int_param(name, value, default, 1, MAX_PAGE if name == "page" else MAX_INT)


def _text(form: Mapping[str, Any], name: str) -> str:
    """A text field of a POST: absent or text within MAX_DESCRIPTION characters (a JSON
    number, list or object is refused, not stored as its Python repr)."""
    value = form.get(name)
    return "" if value is None else check_text(name, value, MAX_DESCRIPTION).strip()


def problem_data(form: Mapping[str, Any]) -> dict[str, Any]:
    """The ``create_problem`` data of a GeoReport POST (lat/long required; the address
    text is kept in the description; contact fields are not stored)."""
    unknown = [k for k in form if k not in POST_KEYS and not k.startswith("attribute[")]
    if unknown:
        raise InvalidParameterError(
            tr(
                f"未知的参数: {', '.join(unknown)}; ",
                f"unknown parameter(s): {', '.join(unknown)}; ",
            )
            + allowed_keys_message(POST_KEYS)
        )
    if not form.get("lat") or not form.get("long"):
        raise InvalidParameterError(
            tr(
                "需要 lat 和 long（WGS-84）；不支持只有地址的请求",
                "lat and long (WGS-84) are required; address-only requests are not supported",
            )
        )
    description = _text(form, "description")
    address = _text(form, "address_string")
    if address:
        description = tr(
            f"{description}\n地址: {address}", f"{description}\naddress: {address}"
        ).strip()
    return {
        "category": form.get("service_code"),
        "lon": form.get("long"),
        "lat": form.get("lat"),
        "description": description,
        "source": "open311",
    }
