"""Downloads (/export/<target>.<format>): the CLI's exports over HTTP.

GeoJSON, GeoJSON Text Sequences and CSV stream from the database as they are written
(constant memory, from a session of their own), gzipped chunk by chunk when the client
accepts it (``Content-Encoding: gzip``, no ``Content-Length``); XLSX and GeoPackage are written to a
temporary file first and sent from it. Query arguments: the map's filters
(web/api/filtering.py), ``crs=gcj02`` and ``lang=en``. Exports need the ``export``
right, hold only the caller's scope and are written to the audit log.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import sqlalchemy.orm as so
from flask import Blueprint, Response, current_app, request, send_file

from geo.access.audit import audit
from geo.core.errors import NotFoundError
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.export.request import FORMATS, MEDIA_TYPES, STREAMED, ExportRequest, check_choice
from geo.export.stream import export_to_file, gzip_stream, stream_export
from geo.reports.filters import TARGETS, Target
from geo.storage.db import transaction
from web import database
from web.api.filtering import request_filter
from web.i18n import current_lang
from web.security.guard import authenticated_principal, client_ip, requires

bp = Blueprint("exports", __name__, url_prefix="/export")


@bp.get("/<target>.<fmt>")
@requires("export")
def download(target: str, fmt: str) -> Response:
    """Export ``target`` (problems, points, areas) as ``fmt``, filtered like the map."""
    export = _export_request(target, fmt)
    session, taxonomy = database.session(), database.taxonomy()
    export.filter.validate(session)  # bad input answers 400 before anything is sent
    _audit(export)
    headers = {"Content-Disposition": _attachment(export.file_name())}
    if fmt in STREAMED:
        body = _streamed(database.new_session(), export, taxonomy)
        if "gzip" in request.accept_encodings:
            # Compressed as it streams: no Content-Length, and httpcache leaves an
            # encoded response alone instead of reading it whole.
            body = gzip_stream(body)
            headers["Content-Encoding"] = "gzip"
        response = Response(body, mimetype=MEDIA_TYPES[fmt], headers=headers)
        response.vary.add("Accept-Encoding")
        return response
    handle, name = tempfile.mkstemp(suffix="." + fmt, prefix="civicgrid-export-")
    os.close(handle)
    try:
        export_to_file(session, export, taxonomy, name)
        response = send_file(name, mimetype=MEDIA_TYPES[fmt], max_age=0)
    finally:
        Path(name).unlink(missing_ok=True)  # the open response file stays readable
    response.headers.update(headers)
    return response


def _audit(export: ExportRequest) -> None:
    principal = authenticated_principal()
    detail = "&".join(f"{k}={v}" for k, v in export.filter.query_args().items())
    with transaction(database.engine()) as session:
        audit(
            session,
            principal.actor,
            "export",
            f"{export.target}.{export.format}",
            ip=client_ip(),
            detail=detail[:1000],
        )


def _streamed(session: so.Session, export: ExportRequest, taxonomy: Taxonomy) -> Iterator[bytes]:
    """The export's bytes from its own session, closed when done or when the client
    goes away."""
    try:
        yield from stream_export(session, export, taxonomy)
    finally:
        session.close()


def _export_request(target: str, fmt: str) -> ExportRequest:
    if target not in TARGETS or fmt not in FORMATS:
        raise NotFoundError(
            tr(
                f"没有这种导出 '{target}.{fmt}': {'|'.join(TARGETS)} × {'|'.join(FORMATS)}",
                f"no such export '{target}.{fmt}': {'|'.join(TARGETS)} × {'|'.join(FORMATS)}",
            )
        )
    filt = request_filter(_target(target), extra=("crs",))
    crs = check_choice("crs", request.args.get("crs", "wgs84"), ("wgs84", "gcj02"))
    return ExportRequest(
        _target(target), fmt, filt, crs, current_lang(), current_app.config["TIMEZONE"]
    )


def _target(name: str) -> Target:
    return next(t for t in TARGETS if t == name)


def _attachment(file_name: str) -> str:
    return f"attachment; filename=\"{file_name}\"; filename*=UTF-8''{quote(file_name)}"
