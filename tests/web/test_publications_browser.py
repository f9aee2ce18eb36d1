"""Browser, desktop (1440×900) and phone (390×844): the rankings page with a tie group at
the black list's end (left off whole, the page says so), the scores page, the bulletin
archive and one issued bulletin — no console errors, no horizontal overflow on the phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from geo.ingest.pipeline import IngestOptions, ingest_file
from tests.helpers import TEST_PASSWORD, ensure_user, write_csv
from tests.stats_data import load_stats_city
from tests.web.browser import PageWatch, live_server, logged_in_page, screenshot

# Six units, one problem each due Wed 18 Nov 2026 (week 2026-W47, Beijing): 甲 and 乙
# closed on time; 丙, 丁 and 戊 closed a day late (the same history: tied); 己 never closed.
_ON = "closed,甲单位,2026-11-18T09:00+08:00,2026-11-17T09:00+08:00,2026-11-17T12:00+08:00,0"
TIES = (
    "id,lon,lat,category,found_at,status,unit,deadline,rectified_at,closed_at,reopened\n"
    + "\n".join(
        f"U{i},120.82,32.01,litter,2026-11-16T09:00+08:00,{rest}"
        for i, rest in enumerate(
            [
                _ON,
                _ON.replace("甲", "乙"),
                *(
                    f"closed,{u}单位,2026-11-18T09:00+08:00,2026-11-19T09:00+08:00,"
                    "2026-11-19T12:00+08:00,0"
                    for u in "丙丁戊"
                ),
                "assigned,己单位,2026-11-18T09:00+08:00,,,0",
            ]
        )
    )
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def tie_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        engine = database.engine()
    load_stats_city(engine, tmp_path)
    ingest_file(engine, write_csv(tmp_path / "ties.csv", TIES), IngestOptions(source="t"))
    result = app.test_cli_runner().invoke(
        args=["bulletin", "--period", "2026-W47", "-o", str(tmp_path / "w47.html")]
    )
    assert result.exit_code == 0, result.output
    return app


def _filters_folded_on_phone(page, size: str) -> None:
    """The page's filter form (.cg-filter) sits behind the 筛选 button on a phone."""
    form = page.locator("form.cg-filter")
    if size == "desktop":
        assert form.is_visible() and page.get_by_test_id("filter-toggle").count() == 0
        return
    assert not form.is_visible()
    page.get_by_test_id("filter-toggle").click()
    assert form.is_visible()


@pytest.mark.browser
def test_rankings_scores_and_bulletins_on_desktop_and_phone(tie_app: Flask, browser) -> None:
    user = ensure_user(tie_app)
    with live_server(tie_app) as base:
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = logged_in_page(browser, base, tie_app, user, TEST_PASSWORD, viewport=viewport)
            watch = PageWatch(page, base)
            page.goto(f"{base}/rankings?level=unit&period=2026-W47")
            notes = page.inner_text("[data-testid=list-notes]")
            # 8 units ranked (with the stats city's two): lists of 3; 丙丁戊 hold places 4–6
            # and straddle the black list's end (places 6–8): left off whole.
            assert "3 个并列第 4 名" in notes and "整组不上黑榜" in notes
            red = page.inner_text("[data-testid=red-list]")
            assert "甲单位" in red and "乙单位" in red and "丙单位" not in red
            black = page.inner_text("[data-testid=black-list]")
            assert "己单位" in black and "东门街道办事处" in black and "丙单位" not in black
            assert "并列" in page.inner_text("[data-testid=ranking]")
            assert page.evaluate(NO_OVERFLOW), f"/rankings overflows on {size}"
            _filters_folded_on_phone(page, size)
            screenshot(page, f"h16-rankings-tie-{size}")
            page.goto(f"{base}/rankings?level=street&period=2026-W47&recomputed=1")
            assert "本期数据按期末状态计算" in page.inner_text("[data-testid=recomputed]")
            assert page.evaluate(NO_OVERFLOW), f"recomputed /rankings overflows on {size}"
            screenshot(page, f"h16-rankings-recomputed-{size}")
            page.goto(f"{base}/scores?level=street&period=2026-Q4")
            assert "不适用" in page.inner_text("[data-testid=scores]")
            assert page.evaluate(NO_OVERFLOW), f"/scores overflows on {size}"
            _filters_folded_on_phone(page, size)
            screenshot(page, f"h16-scores-{size}")
            page.goto(f"{base}/bulletins")
            assert "2026-W47" in page.inner_text("[data-testid=bulletins]")
            assert page.evaluate(NO_OVERFLOW), f"/bulletins overflows on {size}"
            screenshot(page, f"h16-bulletins-{size}")
            page.click("[data-testid=bulletins] li.cg-bulletin-bulletin a:first-child")
            assert "文明城市创建工作周通报" in page.inner_text("h1")
            # The issued document's own style sheet applies (the CSP nonce is added).
            color = page.eval_on_selector("h1", "e => getComputedStyle(e).color")
            assert color == "rgb(178, 34, 34)"
            assert page.evaluate(NO_OVERFLOW), f"the issued bulletin overflows on {size}"
            screenshot(page, f"h16-bulletin-{size}")
            assert watch.console_errors == [] and watch.offorigin == []
            page.context.close()
