"""/bulletins: the archive of issued bulletins and published monthly rankings, each as
HTML and PDF with the CLI's figures and bytes; scoped like /rankings; bad ids are 404."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.storage.publication_models import Publication
from tests.helpers import signed_in, table_counts
from tests.stats_data import load_stats_city


@pytest.fixture
def issued(app: Flask, tmp_path: Path) -> tuple[Flask, bytes]:
    """The stats city with week 2026-W47's bulletin issued through the CLI (its bytes)."""
    from web import database

    with app.app_context():
        load_stats_city(database.engine(), tmp_path)
    out = tmp_path / "w47.html"
    result = app.test_cli_runner().invoke(args=["bulletin", "--period", "2026-W47", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return app, out.read_bytes()


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


def _ids(app: Flask) -> dict[tuple[str, str], int]:
    from web import database

    with app.app_context(), database.engine().connect() as conn:
        rows = conn.execute(sa.select(Publication.kind, Publication.level, Publication.id))
        return {(kind, level): pid for kind, level, pid in rows}


def test_the_archive_lists_the_issued_bulletin_with_the_cli_bytes(issued, tmp_path: Path) -> None:
    app, cli_bytes = issued
    client = signed_in(app)
    html = client.get("/bulletins").get_data(as_text=True)
    assert "2026-W47" in html and "创建工作周通报" in html
    bulletin = _ids(app)[("bulletin", "")]
    download = client.get(f"/bulletins/{bulletin}.html")
    assert download.data == cli_bytes  # byte for byte what the CLI wrote
    view = client.get(f"/bulletins/{bulletin}")
    assert view.status_code == 200 and "文明城市创建工作周通报" in view.get_data(as_text=True)
    assert '<style nonce="' in view.get_data(as_text=True)
    pdf = client.get(f"/bulletins/{bulletin}.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"/bulletins/{bulletin}.pdf").data == pdf.data
    # Issuing again from the CLI writes the same bytes.
    again = tmp_path / "again.html"  # not the app's instance folder: that is the checkout's
    app.test_cli_runner().invoke(args=["bulletin", "--period", "2026-W47", "-o", str(again)])
    assert again.read_bytes() == cli_bytes


def test_a_monthly_ranking_shown_once_is_in_the_archive(issued) -> None:
    app, _ = issued
    client = signed_in(app)
    assert client.get("/rankings?level=street&period=2026-11").status_code == 200
    html = client.get("/bulletins").get_data(as_text=True)
    assert "月度排名" in html and "2026-11" in html
    from web import database

    with app.app_context(), database.engine().connect() as conn:
        monthly = conn.execute(
            sa.select(Publication.id).where(Publication.period == "2026-11")
        ).scalar_one()
    doc = client.get(f"/bulletins/{monthly}").get_data(as_text=True)
    assert "月度排名 · 街道" in doc and "东门街道" in doc and "南湖街道" in doc


def test_scoped_users_see_their_rows_and_no_bulletin(issued) -> None:
    app, _ = issued
    ids = _ids(app)
    planner = signed_in(app, "planner", ["329902"])  # 枫桥区 only (南湖街道)
    listing = planner.get("/bulletins").get_data(as_text=True)
    assert 'data-testid="scope-note"' in listing
    assert planner.get(f"/bulletins/{ids[('bulletin', '')]}").status_code == 403
    assert planner.get(f"/bulletins/{ids[('ranking', 'unit')]}.pdf").status_code == 403
    street = planner.get(f"/bulletins/{ids[('ranking', 'street')]}").get_data(as_text=True)
    assert "南湖街道" in street and "东门街道" not in street


def test_bad_ids_are_404_and_write_nothing(issued) -> None:
    app, _ = issued
    client = signed_in(app)
    before = table_counts(_engine(app))
    for path in ("/bulletins/999999", "/bulletins/999999.pdf", "/bulletins/abc", "/bulletins/-1"):
        assert client.get(path).status_code == 404, path
    assert table_counts(_engine(app)) == before
    # Published scores are stored beside them but are no bulletin: 404, not a crash.
    scores = app.test_cli_runner().invoke(args=["scores", "--period", "2026-Q3"])
    assert scores.exit_code == 0, scores.output
    scores_id = _ids(app)[("scores", "district")]
    for suffix in ("", ".html", ".pdf"):
        response = client.get(f"/bulletins/{scores_id}{suffix}?lang=en")
        assert response.status_code == 404 and b"no publication" in response.data
    assert client.get("/bulletins?lang=en").status_code == 200


def test_an_empty_archive_says_how_to_issue(app: Flask) -> None:
    html = signed_in(app).get("/bulletins").get_data(as_text=True)
    assert 'data-testid="no-bulletins"' in html and "civicgrid bulletin" in html


def test_the_archive_header_is_the_menu_alone(app: Flask) -> None:
    """No second row of links beside the menu (on a phone it squeezed the search box)."""
    html = signed_in(app).get("/bulletins").get_data(as_text=True)
    header = html[html.index('<header class="cg-header">') : html.index("</header>")]
    assert 'class="cg-nav"' not in header and 'data-testid="menu"' in header
    menu = header[header.index('class="cg-menu-list"') :]
    assert all(href in menu for href in ('href="/rankings"', 'href="/scores"', 'href="/bulletins"'))
