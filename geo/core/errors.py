"""Typed domain errors.

Every error a user can cause is one of these. web/errors.py maps them to HTTP status
codes and the CLI maps them to a one-line message and an exit code, so no caller has
to know how an error is shown.
"""

from __future__ import annotations

from geo.core.text import Text, in_lang


class CivicgridError(Exception):
    """Base of all expected, user-facing errors."""

    http_status = 400
    exit_code = 1

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(message, *args)
        self.bilingual = message if isinstance(message, Text) else Text(str(message))

    def __str__(self) -> str:
        return str.__str__(self.bilingual)

    def message(self, lang: str) -> str:
        """The message in ``lang`` ("zh" or "en"), always encodable as UTF-8 (a lone
        surrogate quoted from the input is shown escaped)."""
        text = in_lang(self.bilingual, lang)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class TaxonomyError(CivicgridError, ValueError):
    """The taxonomy file is malformed, or a value is not in it."""


class ConfigError(CivicgridError):
    """A setting is missing or has a bad value."""

    exit_code = 2


class InputFileError(CivicgridError):
    """An input file cannot be read at all (missing, wrong format, unreadable)."""


class AreaLoadError(CivicgridError):
    """An area file has a bad feature (missing or duplicate code, unknown parent...)."""


class PointLoadError(CivicgridError):
    """An inspection point file has a bad feature (unknown kind, missing code...)."""


class IngestError(CivicgridError):
    """A survey file was refused as a whole."""


class NotFoundError(CivicgridError):
    """An area, point or problem that does not exist was asked for."""

    http_status = 404


class InvalidParameterError(CivicgridError):
    """A query parameter, form field or option has a value that is not allowed."""


class TransitionError(CivicgridError):
    """A status change the problem's current state does not allow (e.g. close a found one)."""

    http_status = 409


class StaleVersionError(TransitionError):
    """A change made against an old version of a problem: someone else changed it first."""


class PhotoError(InvalidParameterError):
    """An uploaded photo is too large or not a JPEG/PNG/WebP image."""


class ExportError(CivicgridError):
    """An export cannot be written: unwritable path, too many rows for the format..."""


class PermissionDeniedError(CivicgridError):
    """The actor's role does not allow the action (e.g. approving without the right)."""

    http_status = 403


# --- Access control (issue 6) ---------------------------------------------------------


class AuthenticationError(CivicgridError):
    """No valid credentials: wrong password, disabled user, unknown/expired/revoked token."""

    http_status = 401


class ForbiddenError(CivicgridError):
    """The caller may not do this: role or area scope, missing or wrong key, feature off."""

    http_status = 403


class RateLimitedError(CivicgridError):
    """Too many failed attempts in a short time (login)."""

    http_status = 429


class AlreadyExistsError(CivicgridError):
    """The object to create exists already (same name, or same source and external id)."""

    http_status = 409


class UnsupportedFileError(CivicgridError):
    """An uploaded file's name or content is not an accepted type."""

    http_status = 415


class ValidationError(CivicgridError):
    """A well-formed request whose content is refused (bad field values)."""

    http_status = 422


# --- The database is busy, full or down (issue 22) ------------------------------------


class DatabaseUnavailableError(CivicgridError):
    """The database cannot answer now: locked by a writer, out of connections, out of
    disk, unreadable or unreachable. Nothing was changed; the same request may be retried.

    ``kind`` is ``busy``, ``full``, ``access`` or ``down``; ``detail`` is the driver's
    first line (for logs and the CLI, never shown on web pages).
    """

    http_status = 503
    exit_code = 2

    def __init__(self, message: object = "", kind: str = "down", detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.detail = detail
