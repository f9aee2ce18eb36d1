"""What the phone-app browser tests share: the phone's size and place, the lifecycle test
city behind a live app, and the problems reported from the phone."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine

from geo.storage.models import Problem
from tests.lifecycle_data import load_lifecycle_city

GRID = "grid:329901001001001"  # the grid manager's grid in the lifecycle city
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
HERE = {"latitude": 32.011, "longitude": 120.81, "accuracy": 20}  # inside GRID


def app_engine(app: Flask) -> Engine:
    from web import database

    with app.app_context():
        return database.engine()


def load_phone_city(app: Flask, tmp_path: Path) -> Flask:
    """``app`` with the lifecycle city loaded and its photos under ``tmp_path``."""
    app.config["PHOTO_DIR"] = str(tmp_path / "photos")
    load_lifecycle_city(app_engine(app), tmp_path)
    return app


def mobile_reports(app: Flask) -> list[tuple[int, int | None]]:
    """(id, grid id) of every problem reported from the phone, by id."""
    with app_engine(app).connect() as conn:
        stmt = sa.select(Problem.id, Problem.grid_id).where(Problem.source == "mobile")
        return [(int(i), g) for i, g in conn.execute(stmt.order_by(Problem.id))]
