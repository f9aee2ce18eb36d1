"""Login and logout pages (session cookies through Flask-Login)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from geo.access.scope import Principal
from geo.access.users import LoginPolicy, authenticate, get_user, load_session_user, new_session_id
from geo.access.users import logout as end_user_sessions
from geo.core.errors import AuthenticationError, RateLimitedError
from geo.storage.db import transaction
from web import database
from web.i18n import current_lang, translate
from web.security.guard import LoginUser, client_ip, current_principal, public, safe_next

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """The login form; on success, a fresh session and back to where the user was going."""
    form = LoginForm()
    if request.method == "GET" and _logged_in():
        principal = current_principal()
        home = _home(principal.role if principal is not None else None)
        return redirect(safe_next(request.args.get("next"), home))
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
        return render_template("auth/login.html", form=form, error=None)
    if not form.validate():
        return render_template(
            "auth/login.html",
            form=form,
            error=translate("请输入用户名和密码", "enter a username and a password"),
        ), 400
    error, principal_id = _check(form.username.data or "", form.password.data or "")
    if error is not None:
        # The form again with the reason: 200 like any re-shown form (a 401 would need a
        # WWW-Authenticate challenge), 429 when rate-limited.
        status = 429 if isinstance(error, RateLimitedError) else 200
        return render_template(
            "auth/login.html", form=form, error=error.message(current_lang())
        ), status
    principal = _start_session(principal_id)
    return redirect(safe_next(form.next.data, _home(principal.role)))


@bp.post("/logout")
@public
def logout() -> ResponseReturnValue:
    """End this session, every copy of its cookie included; the user's other sessions
    (another browser, the phone) go on (a form button in the page header; POST with a
    CSRF token)."""
    _end_this_session()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


def _end_this_session() -> None:
    """Record this request's session as ended (in the database: every worker refuses it)."""
    principal = current_principal()
    session_id = getattr(current_user, "session_id", None)
    if principal is None or principal.kind != "user" or principal.id is None:
        return
    if session_id is None:
        return
    lifetime = current_app.permanent_session_lifetime
    with transaction(database.engine()) as s:
        end_user_sessions(s, principal.id, session_id, principal.actor, client_ip(), lifetime)


def _logged_in() -> bool:
    principal = current_principal()
    return principal is not None and principal.kind == "user"


def _check(
    username: str, password: str
) -> tuple[AuthenticationError | RateLimitedError | None, str]:
    """Authenticate, keeping the audit entries even when the login fails."""
    cfg = current_app.config
    policy = LoginPolicy(
        int(cfg.get("LOGIN_ATTEMPTS", 5)),
        timedelta(minutes=int(cfg.get("LOGIN_WINDOW_MINUTES", 15))),
        int(cfg.get("LOGIN_ADDRESS_ATTEMPTS", 20)),
    )
    with transaction(database.engine()) as s:
        try:
            principal = authenticate(s, username, password, client_ip(), policy)
        except (AuthenticationError, RateLimitedError) as exc:
            return exc, ""
        user = get_user(s, principal.name)
        return None, new_session_id(user)


def _home(role: str | None) -> str | None:
    """Where a login without a ``next`` lands: a grid manager's day starts at "my work"
    (/my, also the installed app's start page); the other roles at the overview."""
    if role == "grid_manager" and "mywork.my" in current_app.view_functions:
        return url_for("mywork.my")
    return None


def _start_session(session_id: str) -> Principal:
    principal = load_session_user(database.session(), session_id)
    assert principal is not None
    lang = session.get("lang")
    session.clear()  # no session fixation: nothing from before the login survives
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(LoginUser(principal, session_id))
    return principal
