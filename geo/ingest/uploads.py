"""Survey files arriving over HTTP: checked, stored under a safe name, ingested.

The upload is written to a private temporary folder under a name made safe by
geo.core.safety (no folders, no ``..``), its type checked from the name and the first
bytes, then handed to ``geo.ingest.pipeline.ingest_file`` — the same pipeline as the CLI — and
removed. Only whole-city principals with the ``ingest`` permission may upload.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import Engine

from geo.access.audit import audit
from geo.access.scope import Principal, require_whole_city
from geo.core.errors import IngestError, InvalidParameterError, UnsupportedFileError
from geo.core.safety import SURVEY_TYPES, check_upload_type, safe_upload_name
from geo.core.taxonomy import Taxonomy
from geo.core.text import en, in_lang, tr
from geo.ingest.pipeline import IngestOptions, IngestResult, ingest_file
from geo.ingest.rows import Reject
from geo.storage.db import transaction

SOURCE_RE = re.compile(r"^[\w.@:-]{1,100}$")
_HEAD = 8192
_CHUNK = 1 << 20


@dataclass
class UploadOutcome:
    """What became of an upload: written (or checked, for a dry run) or refused."""

    result: IngestResult
    written: bool
    message: str = ""
    rejects: list[Reject] = field(default_factory=list)

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        """The API body: the batch summary and the rejects (row numbers and reasons in
        both languages); a refusal's message in ``lang``."""
        r = self.result
        body: dict[str, Any] = {
            "batch": {
                "id": r.batch_id,
                "file_name": r.file_name,
                "rows": r.rows,
                "accepted": r.accepted,
                "duplicates": r.duplicates,
                "outside": r.outside,
                "written": self.written,
            },
            "rejects": [reject_json(x) for x in sorted(self.rejects, key=lambda x: x.row)],
        }
        if self.message:
            body = {
                "error": {"code": "IngestError", "message": in_lang(self.message, lang), **body}
            }
        return body


def reject_json(reject: Reject) -> dict[str, Any]:
    """One rejected row as JSON."""
    return {
        "row": reject.row,
        "reason_zh": reject.reason_zh,
        "reason_en": reject.reason_en,
        "external_id": reject.external_id,
    }


def check_source(source: object, default: str = "survey") -> str:
    """The ingest source name (scopes external ids): 1-100 of letters, digits, _.@:-
    (anything but text, e.g. a JSON object, is refused like a bad name)."""
    if source is not None and not isinstance(source, str):
        raise InvalidParameterError(tr("source 必须是文本", "source must be text"))
    value = (source or "").strip() or default
    if not SOURCE_RE.match(value):
        raise InvalidParameterError(
            tr(
                f"source 无效 '{value[:60]}'",
                f"invalid source '{value[:60]}' (1-100 letters, digits, _.@:-)",
            )
        )
    return value


def ingest_upload(
    engine: Engine,
    name: str | None,
    stream: IO[bytes],
    options: IngestOptions,
    principal: Principal,
    taxonomy: Taxonomy | None = None,
) -> UploadOutcome:
    """Ingest an uploaded survey file for ``principal``.

    Steps: check the permission → make the name safe and check the type → copy the
    stream to a private temporary folder → ingest → audit → remove the folder.
    A strict refusal returns the outcome with every reject (found by a second, dry
    pass) instead of raising, so the caller can show them all; the database is then
    unchanged. Raises ``UnsupportedFileError``, ``ForbiddenError`` or ``IngestError``
    (unreadable file).
    """
    require_whole_city(principal, "ingest")
    safe = safe_upload_name(name, default="survey.csv")
    head = stream.read(_HEAD)
    suffix = check_upload_type(safe, head, SURVEY_TYPES)
    folder = Path(tempfile.mkdtemp(prefix="civicgrid-upload-"))
    try:
        path = folder / safe
        _save(path, head, stream, text=SURVEY_TYPES[suffix] == "text")
        outcome = _ingest(engine, path, options, taxonomy)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with transaction(engine) as session:
        detail = outcome.as_json()["batch"] if outcome.written else {"refused": outcome.message}
        audit(session, principal.actor, "survey_upload", safe, detail)
    return outcome


def _save(path: Path, head: bytes, stream: IO[bytes], text: bool) -> None:
    with path.open("xb") as out:
        out.write(head)
        while chunk := stream.read(_CHUNK):
            if text and b"\x00" in chunk:
                # A text file with NUL bytes is binary in disguise (and PostgreSQL text
                # cannot store NUL); refuse it before anything reads it.
                raise UnsupportedFileError(
                    tr(f"{path.name}: 文本文件中有空字符", f"{path.name}: NUL byte in a text file")
                )
            out.write(chunk)


def _ingest(
    engine: Engine, path: Path, options: IngestOptions, taxonomy: Taxonomy | None
) -> UploadOutcome:
    try:
        result = ingest_file(engine, path, options, taxonomy)
    except IngestError as exc:
        message = tr(  # never show server paths
            str(exc).replace(str(path), path.name), en(exc).replace(str(path), path.name)
        )
        if not options.strict:
            raise IngestError(message) from None
        # Strict refusal: list every bad row (a lenient dry pass writes nothing).
        try:
            checked = ingest_file(
                engine, path, replace(options, strict=False, dry_run=True), taxonomy
            )
        except IngestError:
            raise IngestError(message) from None
        checked.accepted = 0
        return UploadOutcome(checked, False, message, checked.rejects)
    return UploadOutcome(result, not options.dry_run, rejects=result.rejects)
