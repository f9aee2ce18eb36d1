"""Browser: walk one problem from found to closed through the pages; rankings page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.storage.models import Problem
from tests.helpers import TEST_PASSWORD, XSS, ensure_user
from tests.lifecycle_data import load_lifecycle_city, problem_id
from tests.stats_data import load_stats_city
from tests.web.browser import (
    PageWatch,
    browser_login,
    live_server,
    screenshot,
    wait_for_layers,
    wait_until,
)


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    app.config["PHOTO_DIR"] = str(tmp_path / "photos")
    engine = _engine(app)
    load_lifecycle_city(engine, tmp_path)
    with engine.begin() as conn:
        conn.execute(sa.update(Problem).where(Problem.external_id == "A1").values(description=XSS))
    return app


def _wait_map(page) -> dict:
    wait_for_layers(page)
    return json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))


def _submit(page, form) -> None:
    with page.expect_navigation():
        form.locator("button").click()


@pytest.mark.browser
def test_walk_a_problem_from_found_to_closed(city_app: Flask, browser, tmp_path: Path) -> None:
    pid = problem_id(_engine(city_app), "A1")
    photo = tmp_path / "after.png"
    from PIL import Image

    Image.new("RGB", (64, 48), "#2e7d32").save(photo)
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_login(page, base, ensure_user(city_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(f"{base}/areas/street/329901001/assign")
        assert XSS in page.inner_text("[data-testid=problems]")  # description as text
        assert page.evaluate("window.__xss") is None
        page.click(f"a[href='/problems/{pid}']")
        assert _wait_map(page) == {"area": 1, "problem": 1}
        heat_before = int(page.inner_text("[data-testid=heat]"))
        assert page.inner_text("[data-testid=status]") == "发现"
        assert XSS in page.inner_text(".cg-description")  # shown as text
        screenshot(page, "problem-found")

        form = page.locator("[data-testid=form-assign]")
        form.locator("select[name=unit]").select_option("东门街道办事处")
        _submit(page, form)
        assert page.inner_text("[data-testid=status]") == "已交办"
        assert page.inner_text("[data-testid=unit]") == "东门街道办事处"

        form = page.locator("[data-testid=form-rectify]")
        form.locator("button").click()  # no note: the browser refuses (required)
        assert page.inner_text("[data-testid=status]") == "已交办"
        form.locator("textarea[name=note]").fill("已清理堆放垃圾")
        form.locator("input[name=photo]").set_input_files(str(photo))
        _submit(page, form)
        assert page.inner_text("[data-testid=status]") == "已整改"
        wait_until(page, "document.querySelector('img.cg-photo').naturalWidth === 64")

        form = page.locator("[data-testid=form-close]")
        form.locator("textarea[name=note]").fill("复核通过，予以销号")
        _submit(page, form)
        assert page.inner_text("[data-testid=status]") == "已销号"
        assert int(page.inner_text("[data-testid=heat]")) == heat_before - 1
        timeline = page.inner_text("[data-testid=timeline]")
        for text in ("交办", "整改", "销号", "已清理堆放垃圾", "测试city_officer"):
            assert text in timeline
        _wait_map(page)
        screenshot(page, "problem-closed")
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_reopen_asks_for_the_new_deadline(city_app: Flask, browser, size) -> None:
    pid = problem_id(_engine(city_app), "C3")  # closed
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        browser_login(page, base, ensure_user(city_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(f"{base}/problems/{pid}")
        form = page.locator("[data-testid=form-reopen]")
        form.locator("textarea[name=note]").fill("回头看发现反弹")
        form.locator("button").click()  # no deadline: the browser refuses (required)
        assert page.inner_text("[data-testid=status]") == "已销号"
        day = page.evaluate(
            "document.querySelector('[data-testid=form-reopen] input[name=deadline]').min"
        )
        form.locator("input[name=deadline]").fill(day)
        form.locator("input[name=deadline]").scroll_into_view_if_needed()
        screenshot(page, f"problem-reopen-{'phone' if size[0] < 700 else 'desktop'}")
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        _submit(page, form)
        assert page.inner_text("[data-testid=status]") == "已交办"
        assert page.inner_text("[data-testid=deadline]") == f"{day} 23:59"
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_assign_form_suggests_the_unit_past_assignments_give(
    city_app: Flask, browser, size
) -> None:
    a1, a2 = (problem_id(_engine(city_app), e) for e in ("A1", "A2"))
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        browser_login(page, base, ensure_user(city_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(f"{base}/problems/{a1}")
        form = page.locator("[data-testid=form-assign]")
        options = form.locator("select[name=unit] option").all_inner_texts()
        assert options[1].endswith("（本区域）") and not options[-1].endswith("（本区域）")
        assert form.get_by_test_id("unit-suggestion").count() == 0  # nothing assigned yet
        form.locator("select[name=unit]").select_option("云溪区城管局")
        _submit(page, form)
        page.goto(f"{base}/problems/{a2}")  # same category, same street
        form = page.locator("[data-testid=form-assign]")
        assert form.locator("select[name=unit]").input_value() == "云溪区城管局"
        hint = form.get_by_test_id("unit-suggestion")
        assert "本区域此类问题有 1 次" in hint.inner_text()
        hint.scroll_into_view_if_needed()
        screenshot(page, f"problem-assign-suggestion-{'phone' if size[0] < 700 else 'desktop'}")
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


@pytest.mark.browser
def test_stale_form_shows_a_conflict(city_app: Flask, browser) -> None:
    pid = problem_id(_engine(city_app), "C1")
    with live_server(city_app) as base:
        first, second = browser.new_page(), browser.new_page()  # two people, one problem
        for page, role in ((first, "city_officer"), (second, "admin")):
            browser_login(page, base, ensure_user(city_app, role), TEST_PASSWORD)
            page.goto(f"{base}/problems/{pid}")
        for page, who in ((first, "甲"), (second, "乙")):
            form = page.locator("[data-testid=form-rectify]")
            form.locator("textarea[name=note]").fill(f"{who}整改")
            _submit(page, form)
        assert "已整改" in first.inner_text("[data-testid=status]")
        assert "请刷新后重试 (#" in second.inner_text("[data-testid=error]")  # a Chinese browser
        screenshot(second, "problem-conflict")
        first.close()
        second.close()


@pytest.mark.browser
def test_rankings_and_bulk_assign_pages(app: Flask, browser, tmp_path: Path) -> None:
    load_stats_city(_engine(app), tmp_path)
    from geo.areas.units import unit_ids
    from geo.storage.db import transaction

    with transaction(_engine(app)) as session:
        unit_ids(session, ["东门街道办事处", f"市政所{XSS}"])
    with live_server(app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_login(page, base, ensure_user(app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(f"{base}/rankings?level=street&period=2026-W47")
        assert "南湖街道" in page.inner_text("[data-testid=red-list]")
        assert "东门街道" in page.inner_text("[data-testid=black-list]")
        screenshot(page, "rankings")
        page.click("[data-testid=black-list] a")
        assert page.inner_text("[data-testid=open-total]") == "4"  # P3, P5, P6, P7
        bulk = page.locator("[data-testid=bulk-assign]")
        bulk.locator("select[name=unit]").select_option("东门街道办事处")
        _submit(page, bulk)
        assert "已交办 1 个问题" in page.inner_text("[data-testid=flash]")  # P7 was found
        screenshot(page, "area-assign")
        page.goto(f"{base}/scores?level=street&period=2026-Q4&lang=en")
        assert "National civilized city" in page.inner_text("[data-testid=scores]")
        screenshot(page, "scores-en")
        page.goto(f"{base}/rankings?level=unit&period=2026-W47")
        assert f"市政所{XSS}" in page.inner_text("[data-testid=ranking]")
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()
