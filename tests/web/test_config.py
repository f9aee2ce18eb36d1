"""Settings are declared once and each is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.core.errors import ConfigError
from web import create_app
from web.config import SETTINGS

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_in_the_readme(setting) -> None:
    assert f"`{setting.env}`" in README.read_text(encoding="utf-8")


SECRET = "a-test-secret-key-that-is-long-enough"


def test_environment_overrides_defaults(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", SECRET)
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CIVICGRID_BASEMAP", "osm")
    app = create_app()
    assert app.config["BASEMAP"] == "osm"
    assert app.config["DATABASE_URL"].endswith("x.db")


def test_bad_basemap_is_refused_clearly(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CIVICGRID_BASEMAP", "googlemaps")
    with pytest.raises(ConfigError, match="googlemaps"):
        create_app()


def test_default_database_is_in_the_instance_folder(monkeypatch) -> None:
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", SECRET)
    monkeypatch.delenv("CIVICGRID_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{Path(app.instance_path) / 'civicgrid.db'}"
