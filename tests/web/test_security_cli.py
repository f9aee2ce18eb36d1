"""`civicgrid users …`, `civicgrid tokens …`, `civicgrid run` without a key, demo accounts."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from geo.access.audit import entries
from geo.storage.db import transaction
from tests.helpers import add_user, load_tiny_city_with_grids, table_counts

ERROR = "error:"
EN = {"LC_ALL": "en_US.UTF-8"}  # an English terminal; without it messages are Chinese


@pytest.fixture
def city_runner(runner, engine, tmp_path):
    load_tiny_city_with_grids(engine, tmp_path)
    return runner


def _ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_users_add_list_disable_set_scope(city_runner, engine, client) -> None:
    add = ["users", "add", "zhangwei", "--role", "district_officer", "--name", "张伟"]
    output = _ok(city_runner.invoke(args=[*add, "--scope", "329901", "--password-stdin"],
                                    input="long-enough-pass\n", env=EN))  # fmt: skip
    assert "added zhangwei: District officer" in output and "329901 云溪区" in output
    listing = _ok(city_runner.invoke(args=["users", "list"]))
    assert re.search(r"zhangwei\s+district_officer\s+启用 active", listing)
    output = _ok(city_runner.invoke(args=["users", "set-scope", "zhangwei", "329901", "329902"]))
    assert "云溪区" in output and "枫桥区" in output
    _ok(city_runner.invoke(args=["users", "disable", "zhangwei"]))
    assert "停用 disabled" in _ok(city_runner.invoke(args=["users", "list"]))
    _ok(city_runner.invoke(args=["users", "disable", "zhangwei", "--enable"]))
    output = _ok(
        city_runner.invoke(args=["users", "set-role", "zhangwei", "planner", "--whole-city"])
    )
    assert "zhangwei: 规划" in output and "全市" in output
    output = _ok(
        city_runner.invoke(
            args=["users", "set-role", "zhangwei", "city_officer", "--whole-city"], env=EN
        )
    )
    assert "whole city" in output
    with transaction(engine, write=False) as s:
        actions = [e.action for e in entries(s)]
        actors = {e.actor for e in entries(s)}
    assert actions[:6] == [
        "role_changed",
        "role_changed",
        "user_enabled",
        "user_disabled",
        "scope_changed",
        "user_created",
    ]
    assert all(actor.startswith("cli") for actor in actors)


def test_generated_password_is_printed_once_and_works(city_runner, app) -> None:
    output = _ok(
        city_runner.invoke(args=["users", "add", "li", "--role", "planner", "--generate-password"])
    )
    password = output.strip().splitlines()[-1].split(": ")[-1]
    from tests.helpers import login_client

    assert login_client(app.test_client(), "li", password).status_code == 302
    output = _ok(city_runner.invoke(args=["users", "set-password", "li", "--generate-password"]))
    assert password not in output


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["users", "add", "wang", "--role", "grid_manager", "--password-stdin"], "plum-river-sky\n",
         "needs at least one area"),
        (["users", "add", "wang", "--role", "grid_manager", "--scope", "329901",
          "--password-stdin"], "plum-river-sky\n", "cannot be scoped to district"),
        (["users", "add", "wang", "--role", "planner", "--password-stdin"], "short\n",
         "at least 12"),
        (["users", "add", "wang", "--role", "planner", "--scope", "9", "--password-stdin"],
         "plum-river-sky\n", "unknown area code '9'"),
        (["users", "disable", "nobody"], "", "no user 'nobody'"),
        (["users", "set-scope", "nobody"], "", "no user"),
        (["tokens", "revoke", "nothing"], "", "no token called"),
        (["tokens", "create", "t", "--role", "grid_manager"], "", "needs at least one area"),
        (["tokens", "create", "bad name", "--role", "planner"], "", "invalid token name"),
    ],
)  # fmt: skip
def test_cli_refusals_are_one_line_and_write_nothing(city_runner, engine, args, stdin, fragment):
    before = table_counts(engine)
    result = city_runner.invoke(args=args, input=stdin, env=EN)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith(ERROR)]
    assert len(errors) == 1 and fragment in errors[0], result.output
    assert "Traceback" not in result.output
    assert table_counts(engine) == before


def test_unknown_role_is_a_usage_error(city_runner) -> None:
    result = city_runner.invoke(args=["users", "add", "x1", "--role", "mayor"])
    assert result.exit_code == 2 and "mayor" in result.output


def test_tokens_create_list_revoke(city_runner, app) -> None:
    output = _ok(
        city_runner.invoke(
            args=["tokens", "create", "nightly", "--role", "district_officer", "--scope",
                  "329901", "--expires-days", "30"]
        )
    )  # fmt: skip
    secret = output.strip().splitlines()[-1]
    assert secret.startswith("cg_") and "329901 云溪区" in output
    listing = _ok(city_runner.invoke(args=["tokens", "list"]))
    assert "nightly" in listing and secret[:8] in listing and secret not in listing
    assert "active" in listing
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/problems", headers=auth).status_code == 200
    _ok(city_runner.invoke(args=["tokens", "revoke", "nightly"]))
    assert "revoked" in _ok(city_runner.invoke(args=["tokens", "list"]))
    assert client.get("/api/v1/problems", headers=auth).status_code == 401
    again = city_runner.invoke(args=["tokens", "create", "nightly", "--role", "planner"], env=EN)
    assert again.exit_code == 1 and "exists already" in again.output


def test_admin_tokens_are_refused(city_runner) -> None:
    result = city_runner.invoke(args=["tokens", "create", "root", "--role", "admin"])
    assert result.exit_code == 2 and "admin" in result.output


def test_run_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch) -> None:
    from web.__main__ import main

    monkeypatch.delenv("CIVICGRID_SECRET_KEY", raising=False)
    monkeypatch.delenv("CIVICGRID_DEBUG", raising=False)
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(main, ["run", "--port", "0"])
    assert result.exit_code == 2
    assert "CIVICGRID_SECRET_KEY" in result.output and "Traceback" not in result.output
    # Commands that serve nothing still work without a key.
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    assert CliRunner().invoke(main, ["users", "list"]).exit_code == 0


def test_a_server_started_around_the_check_answers_503(tmp_path, monkeypatch) -> None:
    """`flask run` (not `civicgrid run`) loads the app inside click: it then serves only
    an explanation."""
    import click

    from web import create_app

    monkeypatch.delenv("CIVICGRID_SECRET_KEY", raising=False)
    with click.Context(click.Command("run")):
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    response = app.test_client().get("/login")
    assert response.status_code == 503
    assert "CIVICGRID_SECRET_KEY" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("password", "at least 12"),
        ("12345678", "at least 12"),
        ("        ", "at least 12"),
        ("aaaaaaaa", "at least 12"),
        ("qwertyui", "at least 12"),
        ("qwertyuiop123", "very common"),
        ("zzzzzzzzzzzzzz", "repeated"),
        ("wang-my-own-pass", "username"),
        ("P@ssw0rd2024", "digits or symbols added"),
    ],
)
def test_users_add_and_set_password_refuse_weak_passwords(
    city_runner, engine, password, fragment
) -> None:
    add_user(engine, "wang", "planner")
    before = table_counts(engine)
    for args in (["users", "add", "wang", "--role", "planner"], ["users", "set-password", "wang"]):
        result = city_runner.invoke(args=[*args, "--password-stdin"], input=password + "\n", env=EN)
        assert result.exit_code == 1, result.output
        assert fragment in result.output, result.output
    assert table_counts(engine) == before
