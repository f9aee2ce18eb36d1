"""Who is asking, may they, and the headers every response carries.

``init_app`` wires it all with one call: secret-key check, session cookie flags,
Flask-Login (sessions), bearer tokens (``/api/`` only), CSRF on every unsafe request
that is not token-authenticated (Flask-WTF), the default-deny access gate, security
headers with a per-request CSP nonce, the login/logout pages.

Every route declares what it needs with ``@requires(action)`` (an action of
geo.access.scope.ACTIONS) or ``@public``; a route with neither is refused (fail closed).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
from flask import Flask, Response, abort, current_app, g, redirect, request, url_for
from flask import session as flask_session
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from geo.access.scope import PUBLIC_ROLE, Principal, Scope, require, role_label
from geo.access.tokens import authenticate_request
from geo.access.users import load_session_user
from geo.core.errors import AuthenticationError, ConfigError, ForbiddenError, InvalidParameterError
from geo.core.text import tr
from geo.reports.maps import basemap_for
from web import database
from web.errors import error_response
from web.httpcache import make_private

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
"""Access rule of routes anyone may reach (login page, static files, API description)."""

PUBLIC_ENDPOINTS: dict[str, str] = {"static": PUBLIC, "vendor": PUBLIC}
"""Rules for endpoints whose view functions are not ours to decorate."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PATHS = ("/api/", "/ogcapi", "/open311/", "/export/")
"""Where scripts and GIS tools may authenticate with a bearer token instead of a login."""
WEAK_KEYS = frozenset({"", "dev-only-insecure-key", "dev", "secret", "changeme", "change-me"})
MIN_KEY_LENGTH = 16

csrf = CSRFProtect()
login_manager = LoginManager()


def requires(action: str) -> Callable[[F], F]:
    """Mark a view: the caller needs ``action`` (geo.access.scope.ACTIONS) in their role."""

    def mark(view: F) -> F:
        view.access_rule = action  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Mark a view that anyone may reach, logged in or not."""
    view.access_rule = PUBLIC  # type: ignore[attr-defined]
    return view


def current_principal() -> Principal | None:
    """Who makes this request: a user, a token, the public demo visitor, or None."""
    return g.get("principal")


def current_scope() -> Scope:
    """The scope every query of this request must be limited to."""
    principal = current_principal()
    return principal.scope if principal is not None else Scope.nothing()


def authenticated_principal() -> Principal:
    """The principal of a route that needs one (the gate has already checked)."""
    principal = current_principal()
    if principal is None:
        raise AuthenticationError(tr("需要登录", "login required"))
    return principal


def csp_nonce() -> str:
    """This request's nonce for inline <script>/<style> (CSP)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def client_ip() -> str | None:
    """The caller's address (after CIVICGRID_PROXY_HOPS trusted proxies)."""
    return request.remote_addr


class LoginUser(UserMixin):
    """Flask-Login's view of a logged-in user; the id carries a password stamp."""

    def __init__(self, principal: Principal, session_id: str) -> None:
        self.principal = principal
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


def init_app(app: Flask) -> None:
    """Install sessions, tokens, CSRF, the access gate and headers (the login pages are
    the blueprint in web/security/auth.py, registered by the factory)."""
    _configure(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    app.before_request(_gate)
    app.after_request(_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.context_processor(
        lambda: {
            "csp_nonce": csp_nonce,
            "current_principal": current_principal,
            "role_label": role_label,
        }
    )


# --- configuration ---------------------------------------------------------------------


def _configure(app: Flask) -> None:
    cfg = app.config
    _check_secret_key(app)
    if cfg.get("PUBLIC_DEMO") and not cfg.get("DEMO"):
        raise ConfigError(
            tr(
                "CIVICGRID_PUBLIC_DEMO 只能用于 `civicgrid demo`",
                (
                    "CIVICGRID_PUBLIC_DEMO=true is only allowed for the demo "
                    "(`civicgrid demo`), never on real data"
                ),
            )
        )
    https = bool(cfg.get("HTTPS"))
    cfg.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=int(cfg.get("SESSION_HOURS", 12))),
        MAX_CONTENT_LENGTH=int(cfg.get("MAX_UPLOAD_MB", 50)) * 1024 * 1024,
        WTF_CSRF_CHECK_DEFAULT=False,  # _gate calls csrf.protect() unless token-authenticated
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session
        WTF_CSRF_SSL_STRICT=https,
    )
    hops = int(cfg.get("PROXY_HOPS", 0))
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _check_secret_key(app: Flask) -> None:
    key = app.config.get("SECRET_KEY") or ""
    if len(key) >= MIN_KEY_LENGTH and key not in WEAK_KEYS:
        return
    if app.debug or app.testing or app.config.get("DEMO"):
        # A random key per process: sessions end at restart, but nobody can forge one.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    if click.get_current_context(silent=True) is not None:
        # CLI commands need no sessions; serving is refused by `civicgrid run` and _gate.
        app.config["SECRET_KEY"] = None
        app.config["SECRET_KEY_MISSING"] = True
        return
    raise ConfigError(secret_key_message())


def secret_key_message() -> str:
    """What to do when no usable secret key is configured."""
    return tr(
        (
            f"CIVICGRID_SECRET_KEY 未设置或短于 {MIN_KEY_LENGTH} 个字符："
            "请设置一个长随机值，例如 `python -c 'import secrets; "
            "print(secrets.token_hex(32))'` 的输出（仅开发时可用 "
            "CIVICGRID_DEBUG=true）"
        ),
        (
            "CIVICGRID_SECRET_KEY is not set or shorter than "
            f"{MIN_KEY_LENGTH} characters: set a long random value, e.g. "
            "the output of `python -c 'import secrets; "
            "print(secrets.token_hex(32))'` (for development only: "
            "CIVICGRID_DEBUG=true)"
        ),
    )


# --- per request -----------------------------------------------------------------------


def _load_user(session_id: str) -> LoginUser | None:
    principal = load_session_user(database.session(), session_id)
    if principal is None:
        # Refused (logged out, ended, forged): never send it back in a refreshed cookie,
        # so every copy expires with the cookie lifetime (geo.access.users.logout).
        flask_session.pop("_user_id", None)
        return None
    return LoginUser(principal, session_id)


def _gate() -> Response | None:
    """Authenticate, then allow or refuse the request by its route's access rule."""
    if current_app.config.get("SECRET_KEY_MISSING"):
        # Served by a runner that bypassed `civicgrid run` (e.g. plain `flask run`).
        abort(503, description=secret_key_message())
    csp_nonce()
    _refuse_nul_characters()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None  # static files: no need to look anyone up
    g.principal = _principal()
    if request.endpoint is None:
        return None  # no such route: 404 / 405 follow
    rule = _access_rule(request.endpoint)
    if rule != PUBLIC:
        if g.principal is None:
            return _unauthenticated()
        require(g.principal, rule)
    if request.method not in SAFE_METHODS and not g.get("token_auth"):
        csrf.protect()
    return None


def _refuse_nul_characters() -> None:
    # PostgreSQL text cannot hold NUL, and no legitimate form field or query needs one.
    sources = [request.args]
    if request.method not in SAFE_METHODS:
        sources.append(request.form)
    for source in sources:
        for key, value in source.items(multi=True):
            if "\x00" in f"{key}{value}":
                raise InvalidParameterError(
                    tr(
                        f"参数 {str(key)[:40]!r} 含有空字符 (NUL)",
                        f"parameter {str(key)[:40]!r} contains a NUL character",
                    )
                )


def _principal() -> Principal | None:
    token = _bearer_principal()
    if token is not None:
        return token
    if current_user.is_authenticated:
        return current_user.principal
    if current_app.config.get("PUBLIC_DEMO"):
        return Principal(kind="public", name="demo", role=PUBLIC_ROLE, scope=Scope.city())
    return None


def _bearer_principal() -> Principal | None:
    if not request.path.startswith(TOKEN_PATHS):
        return None
    secret = _token_secret()
    if secret is None:
        return None
    # Read-only lookup; the use is recorded outside the request, never waiting for a writer.
    target = f"{request.method} {request.path}"
    principal = authenticate_request(database.engine(), secret, client_ip(), target)
    g.token_auth = True
    return principal


def _token_secret() -> str | None:
    """The request's token: ``Authorization: Bearer``, or Open311's ``api_key`` field."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError(
                tr("Authorization 头应为: Bearer <token>", "header must be: Bearer <token>")
            )
        return secret.strip()
    if request.path.startswith("/open311/"):
        key = (request.form.get("api_key") or request.args.get("api_key") or "").strip()
        return key or None
    return None


def _csrf_error(exc: CSRFError) -> Any:
    return error_response(
        400,
        "csrf_failed",
        tr(
            f"CSRF 令牌缺失或无效（{exc.description}），请刷新页面后重试",
            f"CSRF token missing or invalid ({exc.description}): reload the page and try again",
        ),
    )


def _access_rule(endpoint: str) -> str:
    view = current_app.view_functions.get(endpoint)
    rule = getattr(view, "access_rule", None) or PUBLIC_ENDPOINTS.get(endpoint)
    if rule is None:
        current_app.logger.error("route %s has no access rule: refused", endpoint)
        raise ForbiddenError(tr("此地址未声明访问规则", "this route declares no access rule"))
    return str(rule)


def _unauthenticated() -> Response:
    if request.path.startswith(TOKEN_PATHS) or request.method not in SAFE_METHODS:
        raise AuthenticationError(tr("需要登录或令牌", "login or a bearer token required"))
    return redirect(url_for("auth.login", next=_relative_url()))  # type: ignore[return-value]


def _relative_url() -> str:
    full = request.full_path if request.query_string else request.path
    return full.rstrip("?")


def safe_next(target: str | None, home: str | None = None) -> str:
    """``target`` when it is a path on this site, else ``home`` or the overview (no open
    redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.isprintable():
            return target
    return home or url_for("pages.index")


# --- response headers ------------------------------------------------------------------


def _headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = _csp()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    # The report form (/report) asks for the phone's location and camera, on this origin only.
    headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=(self)"
    if current_app.config.get("HTTPS"):
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint not in PUBLIC_ENDPOINTS:
        make_private(response)  # depends on who asks: never in a shared cache
    if response.status_code == 401 and request.path.startswith(TOKEN_PATHS):
        headers["WWW-Authenticate"] = 'Bearer realm="civicgrid"'
    return response


def _csp() -> str:
    nonce = f"'nonce-{csp_nonce()}'"
    images = " ".join(["'self'", "data:", *tile_sources()])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {nonce}",
            f"style-src 'self' {nonce}",
            "style-src-attr 'unsafe-inline'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def tile_sources() -> list[str]:
    """CSP sources of the configured basemap's tiles (none without a basemap)."""
    cfg = current_app.config
    basemap = basemap_for(cfg["BASEMAP"], cfg["TILE_URL"], cfg["TIANDITU_KEY"])
    return [] if basemap is None else [tile_source(basemap.url)]


def tile_source(url: str) -> str:
    """The CSP host source of a tile URL template ({s}/{z}/{x}/{y} placeholders)."""
    parts = urlsplit(url.replace("{s}", "a"))
    labels = parts.hostname.split(".") if parts.hostname else []
    templated = "{s}" in url.split("//", 1)[-1].split("/", 1)[0]
    if templated and labels:
        labels[0] = "*"  # e.g. webrd0{s}.is.autonavi.com → *.is.autonavi.com
    host = ".".join(labels)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if host else f"{parts.scheme}:"
