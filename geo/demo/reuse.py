"""Reusing a built demo database: a second `civicgrid demo` starts in a second.

The demo database (an SQLite file) gets a stamp file next to it holding a fingerprint of
what it was built from: every file of the demo folder, the taxonomy and the schema
revision. When the stamp still matches, the database is kept and only the demo users'
passwords are renewed (they are shown once, so a new run shows new ones).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

import sqlalchemy as sa

from geo.access.users import list_users, set_password
from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.demo.city import DemoAccount, build_demo, print_accounts
from geo.storage.db import make_engine, transaction
from geo.storage.schema import head_revision, require_schema

STAMP_SUFFIX = ".stamp"


def prepare_demo(
    url: str,
    demo_dir: Path,
    taxonomy_path: Path,
    echo: Callable[[str], object] = print,
    rebuild: bool = False,
) -> None:
    """Build the demo city at ``url``, or keep the one built from the same files.

    Steps: fingerprint the demo files and the taxonomy; when ``url`` is an SQLite file
    whose stamp matches (and ``rebuild`` is false), renew the demo passwords and print
    them; otherwise build it afresh (``build_demo``) and write the stamp.
    """
    stamp = stamp_path(url)
    fingerprint = demo_fingerprint(demo_dir, [taxonomy_path])
    if not rebuild and stamp is not None and _stamp_matches(stamp, url, fingerprint):
        database = stamp.with_suffix("")
        echo(tr(f"沿用已构建的示例数据库: {database}", f"reusing the demo database: {database}"))
        print_accounts(renew_demo_passwords(url), echo)
        return
    if stamp is not None:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
    build_demo(url, demo_dir, echo=echo)
    if stamp is not None:
        stamp.write_text(fingerprint + "\n", encoding="utf-8")


def stamp_path(url: str) -> Path | None:
    """Where the stamp of the SQLite file at ``url`` lives; None for other databases."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() != "sqlite" or sa_url.database in (None, "", ":memory:"):
        return None
    return Path(f"{sa_url.database}{STAMP_SUFFIX}")


def demo_fingerprint(demo_dir: Path, extra: Iterable[Path]) -> str:
    """SHA-256 over the names and contents of the demo files, ``extra`` files and the
    schema revision."""
    digest = hashlib.sha256(f"schema {head_revision()}\n".encode())
    files = sorted(p for p in demo_dir.iterdir() if p.is_file()) if demo_dir.is_dir() else []
    for path in [*files, *extra]:
        digest.update(f"{path.name}\n".encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def renew_demo_passwords(url: str) -> list[DemoAccount]:
    """Give every ``demo-…`` user a new random password and return the accounts."""
    engine = make_engine(url)
    accounts = []
    try:
        with transaction(engine) as session:
            for user in list_users(session):
                if not user.username.startswith("demo-"):
                    continue
                password = secrets.token_urlsafe(12)  # as long as build_demo's
                set_password(session, user.username, password, actor="demo")
                scope = ", ".join(f"{a.code} {a.name}" for a in user.areas) or tr(
                    "全市", "whole city"
                )
                accounts.append(DemoAccount(user.username, password, user.role, scope))
    finally:
        engine.dispose()
    return accounts


def _stamp_matches(stamp: Path, url: str, fingerprint: str) -> bool:
    database = stamp.with_suffix("")
    if not (stamp.is_file() and database.is_file()):
        return False
    if stamp.read_text(encoding="utf-8").strip() != fingerprint:
        return False
    engine = make_engine(url)
    try:
        require_schema(engine)
    except ConfigError:
        return False
    finally:
        engine.dispose()
    return True
