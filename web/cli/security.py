"""`civicgrid users …` and `civicgrid tokens …`, and a `run` that needs a secret key.

Thin click wrappers over geo/access/users.py and geo/access/tokens.py; every change is audited with
the operating-system user as the actor. Scope areas are area codes (``level:code``
when a code exists at several levels); no scope means the whole city.
"""

from __future__ import annotations

import getpass
import secrets
import sys
from datetime import datetime, timedelta

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo, pass_script_info
from flask.cli import run_command as flask_run_command

from geo.access.audit import utcnow
from geo.access.passwords import MIN_PASSWORD
from geo.access.scope import ROLES, TOKEN_ROLES, role_label
from geo.access.tokens import create_token, list_tokens, revoke_token, token_state
from geo.access.users import (
    create_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
    set_scope,
)
from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.storage.db import transaction
from geo.storage.models import Area
from web.cli.common import domain_errors, echo, ready_engine, say
from web.security.guard import secret_key_message

users_group = AppGroup("users", help="用户与角色 Users, roles and their area scopes.")
tokens_group = AppGroup("tokens", help="脚本令牌 API tokens for scripts.")

_SCOPE_HELP = "Area code (or level:code) the role is limited to; repeat for more."


def init_app(app: Flask) -> None:
    """Attach the `users` and `tokens` groups to ``app.cli``."""
    app.cli.add_command(users_group)
    app.cli.add_command(tokens_group)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def _scope_text(areas: list[Area]) -> str:
    if not areas:
        return say(tr("全市", "whole city"))
    return ", ".join(f"{a.code} {a.name}" for a in areas)


def _password(from_stdin: bool, generate: bool) -> str:
    if generate:
        return secrets.token_urlsafe(16)
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(
        click.prompt(
            say(tr(f"密码（≥{MIN_PASSWORD}）", f"password (≥{MIN_PASSWORD})")),
            hide_input=True,
            confirmation_prompt=True,
        )
    )


@users_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", "display_name", default="", help="Display name, e.g. 张伟.")
@click.option("--scope", "scope", multiple=True, help=_SCOPE_HELP)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate-password", is_flag=True, help="Make a random password and print it.")
@domain_errors
def users_add(
    username: str,
    role: str,
    display_name: str,
    scope: tuple[str, ...],
    password_stdin: bool,
    generate_password: bool,
) -> None:
    """Add a user 添加用户."""
    password = _password(password_stdin, generate_password)
    with transaction(ready_engine()) as session:
        user = create_user(session, username, password, role, display_name, scope, _actor())
        echo(
            tr(
                (
                    f"已添加 {user.username}: {role_label(role)} ({role}), 范围: "
                    f"{_scope_text(user.areas)}"
                ),
                (
                    f"added {user.username}: {role_label(role, 'en')} ({role}), scope: "
                    f"{_scope_text(user.areas)}"
                ),
            )
        )
    if generate_password:
        echo(tr(f"密码（只显示这一次）: {password}", f"password (shown once): {password}"))


@users_group.command("list")
@domain_errors
def users_list() -> None:
    """List users 用户列表."""
    with transaction(ready_engine(), write=False) as session:
        users = list_users(session)
        if not users:
            echo(
                tr(
                    "还没有用户: civicgrid users add NAME --role admin",
                    "no users yet: civicgrid users add NAME --role admin",
                )
            )
        for u in users:
            state = "停用 disabled" if u.disabled else "启用 active"
            last = u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "-"
            echo(
                f"{u.username:<20} {u.role:<17} {state:<12} last login {last:<16} "
                f"{u.display_name}  [{_scope_text(u.areas)}]"
            )


@users_group.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@domain_errors
def users_disable(username: str, enable: bool) -> None:
    """Disable a user (their sessions end at once) 停用用户."""
    with transaction(ready_engine()) as session:
        user = set_disabled(session, username, not enable, _actor())
        echo(
            tr(
                f"{user.username}: {'已启用' if enable else '已停用'}",
                f"{user.username}: {'enabled' if enable else 'disabled'}",
            )
        )


@users_group.command("set-scope")
@click.argument("username")
@click.argument("areas", nargs=-1)
@domain_errors
def users_set_scope(username: str, areas: tuple[str, ...]) -> None:
    """Limit a user to AREAS (codes); none = whole city 设置管辖范围."""
    with transaction(ready_engine()) as session:
        user = set_scope(session, username, areas, _actor())
        echo(
            tr(
                f"{user.username}: 范围: {_scope_text(user.areas)}",
                f"{user.username}: scope: {_scope_text(user.areas)}",
            )
        )


@users_group.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--scope", "scope", multiple=True, help=_SCOPE_HELP)
@click.option("--whole-city", is_flag=True, help="Clear the scope (city-wide roles).")
@domain_errors
def users_set_role(username: str, role: str, scope: tuple[str, ...], whole_city: bool) -> None:
    """Change a user's role (and scope) 修改角色."""
    codes = [] if whole_city else (list(scope) if scope else None)
    with transaction(ready_engine()) as session:
        user = set_role(session, username, role, codes, _actor())
        scope_text = _scope_text(user.areas)
        echo(
            tr(
                f"{user.username}: {role_label(role)} ({role}), {scope_text}",
                f"{user.username}: {role_label(role, 'en')} ({role}), {scope_text}",
            )
        )


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate-password", is_flag=True, help="Make a random password and print it.")
@domain_errors
def users_set_password(username: str, password_stdin: bool, generate_password: bool) -> None:
    """Set a new password (ends the user's sessions) 重置密码."""
    password = _password(password_stdin, generate_password)
    with transaction(ready_engine()) as session:
        user = set_password(session, username, password, _actor())
    echo(tr(f"{user.username}: 密码已更新", f"{user.username}: password changed"))
    if generate_password:
        echo(tr(f"密码（只显示这一次）: {password}", f"password (shown once): {password}"))


@tokens_group.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(TOKEN_ROLES))
@click.option("--scope", "scope", multiple=True, help=_SCOPE_HELP)
@click.option("--expires-days", type=click.IntRange(1, 3650), help="Valid for this many days.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), help="Valid until (UTC).")
@domain_errors
def tokens_create(
    name: str,
    role: str,
    scope: tuple[str, ...],
    expires_days: int | None,
    expires: datetime | None,
) -> None:
    """Create a token; it is printed once and stored hashed 创建令牌."""
    if expires_days is not None:
        expires = utcnow() + timedelta(days=expires_days)
    with transaction(ready_engine()) as session:
        token, secret = create_token(session, name, role, scope, expires, _actor())
        until = token.expires_at.isoformat(timespec="minutes") if token.expires_at else "never"
        echo(
            tr(
                f"令牌 {token.name}: {role}, 范围: {_scope_text(token.areas)}, 过期: {until}",
                f"token {token.name}: {role}, scope: {_scope_text(token.areas)}, expires: {until}",
            )
        )
    echo(tr("只显示这一次，请妥善保存", "shown once, keep it safe:"))
    echo(secret)


@tokens_group.command("list")
@domain_errors
def tokens_list() -> None:
    """List tokens (never their secrets) 令牌列表."""
    with transaction(ready_engine(), write=False) as session:
        tokens = list_tokens(session)
        if not tokens:
            echo(tr("还没有令牌", "no tokens yet"))
        for t in tokens:
            used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "-"
            until = t.expires_at.isoformat(timespec="minutes") if t.expires_at else "never"
            echo(
                f"{t.name:<20} {t.prefix}…  {t.role:<17} {token_state(t):<8} "
                f"expires {until:<16} last used {used:<16} [{_scope_text(t.areas)}]"
            )


@tokens_group.command("revoke")
@click.argument("name")
@domain_errors
def tokens_revoke(name: str) -> None:
    """Revoke a token (it stops working at once) 吊销令牌."""
    with transaction(ready_engine()) as session:
        token = revoke_token(session, name, _actor())
    echo(tr(f"{token.name}: 已吊销", f"{token.name}: revoked"))


@click.command(
    "run",
    params=flask_run_command.params,
    help="Serve the app (needs CIVICGRID_SECRET_KEY outside debug) 启动服务.",
)
@pass_script_info
@click.pass_context
def run_command(ctx: click.Context, info: ScriptInfo, **kwargs: object) -> None:
    """Flask's `run`, refusing to start without a usable secret key."""
    app = info.load_app()
    if app.config.get("SECRET_KEY_MISSING"):
        echo(
            tr(
                f"错误: {ConfigError(secret_key_message())}",
                f"error: {ConfigError(secret_key_message())}",
            ),
            err=True,
        )
        sys.exit(2)
    ctx.invoke(flask_run_command, **kwargs)
