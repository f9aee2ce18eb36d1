"""tests/dbcache.py hands out a cached city: the rows through SQLite's backup API, the
files the builder wrote as files — never the database file itself or its -wal/-shm,
which would overwrite the restored rows under the connections that share them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests import dbcache


@dbcache.cached_city
def _tiny_city(engine: sa.Engine, tmp_path: Path) -> int:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO units (name) VALUES ('云溪区城管局')"))
    (tmp_path / "city-notes.txt").write_text("built", encoding="utf-8")
    return 7


def _unit_names(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.text("SELECT name FROM units")))


def test_a_cached_city_is_restored_without_its_database_files(
    migrated_sqlite, tmp_path: Path
) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    first = migrated_sqlite(first_dir / "same-name.db")
    assert _tiny_city(first, first_dir) == 7  # built, then kept
    entry = next(e for k, e in dbcache._SQLITE_CACHE.items() if k[1] == "_tiny_city")
    assert sorted(entry.files) == ["city-notes.txt"]
    second = migrated_sqlite(second_dir / "same-name.db")
    with second.connect() as conn:  # an open connection shares the restored database
        conn.execute(sa.text("SELECT 1"))
        assert _tiny_city(second, second_dir) == 7  # handed out from the cache
    assert _unit_names(second) == ["云溪区城管局"]
    assert (second_dir / "city-notes.txt").read_text(encoding="utf-8") == "built"
    first.dispose()
    second.dispose()
