"""Browser (issue 17, bad input): what the report form checks on the phone itself — a
location with poor accuracy or outside every grid is warned about and sent only when
confirmed; a photo that is not an image or stays too large is refused before anything is
queued; a good photo is resized to at most 1600 px before it is sent."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.helpers import TEST_PASSWORD, ensure_user
from tests.web.browser import live_server, logged_in_page, screenshot, wait_until
from tests.web.phone import GRID, HERE, PHONE, load_phone_city, mobile_reports

QUEUED = "window.cgQueue.all().then(items => items.length)"
SHOWN_ERROR = "document.querySelector('[data-testid=report-error]').hidden === false"


@pytest.fixture
def city_app(sqlite_app: Flask, tmp_path: Path) -> Flask:
    sqlite_app.config["PHOTO_MAX_MB"] = 0.05
    return load_phone_city(sqlite_app, tmp_path)


def _stored_photos(app: Flask) -> list[Path]:
    folder = Path(app.config["PHOTO_DIR"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _phone_page(browser, base: str, app: Flask, user: str, accuracy: float) -> Any:
    here = {**HERE, "accuracy": accuracy}
    page = logged_in_page(
        browser, base, app, user, TEST_PASSWORD,
        geolocation=here, permissions=["geolocation"], **PHONE,
    )  # fmt: skip
    page.goto(base + "/report")
    wait_until(page, "document.querySelector('[name=lon]').value !== ''")
    return page


def _answer_dialogs(page, answers: list[bool]) -> list[str]:
    """Answer the page's confirm() dialogs with ``answers`` in turn; returns their texts."""
    asked: list[str] = []

    def handle(dialog) -> None:
        asked.append(dialog.message)
        if answers.pop(0):
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", handle)
    return asked


def _warning(page) -> str:
    wait_until(page, "!document.querySelector('[data-testid=location-warning]').hidden")
    return page.inner_text("[data-testid=location-warning]")


@pytest.mark.browser
def test_poor_accuracy_is_warned_and_sent_only_when_confirmed(city_app: Flask, browser) -> None:
    user = ensure_user(city_app, "grid_manager", [GRID])
    with live_server(city_app) as base:
        page = _phone_page(browser, base, city_app, user, accuracy=250)
        assert "250 米" in page.inner_text("[data-testid=location-text]")  # accuracy shown
        assert "100 米" in _warning(page)
        screenshot(page, "phone-report-poor-accuracy")
        answers: list[bool] = [False]
        asked = _answer_dialogs(page, answers)
        page.click("[data-testid=submit]")  # declined: nothing stored, nothing sent
        assert asked == ["定位精度差于 100 米，仍要提交吗？"]
        assert page.evaluate(QUEUED) == 0 and mobile_reports(city_app) == []

        answers.append(True)
        page.click("[data-testid=submit]")  # confirmed: sent, once
        wait_until(page, "document.querySelector('[data-testid=queue-sent]') !== null")
        assert len(asked) == 2 and len(mobile_reports(city_app)) == 1
        assert page.evaluate(QUEUED) == 0
        page.context.close()


FAR_AWAY = (  # a tap on the map far outside the city (no GCJ-02 shift on the test basemap)
    "() => { const m = document.getElementById('cg-report-map').cgMap;"
    " m.fire('click', { latlng: L.latLng(31.2, 119.5) }); }"
)


@pytest.mark.browser
def test_a_place_outside_every_grid_needs_a_confirmation(city_app: Flask, browser) -> None:
    user = ensure_user(city_app, "city_officer")
    with live_server(city_app) as base:
        page = _phone_page(browser, base, city_app, user, accuracy=20)
        wait_until(page, "!!document.getElementById('cg-report-map').cgMap")
        page.evaluate(FAR_AWAY)
        wait_until(page, "document.querySelector('[name=lon]').value.startsWith('119.5')")
        assert "不在任何网格内" in _warning(page)
        answers: list[bool] = [False]
        asked = _answer_dialogs(page, answers)
        page.click("[data-testid=submit]")
        assert asked == ["该位置不在任何网格内，仍要提交吗？"]
        assert page.evaluate(QUEUED) == 0 and mobile_reports(city_app) == []

        answers.append(True)  # the city office may report there: allowed once confirmed
        page.click("[data-testid=submit]")
        wait_until(page, "document.querySelector('[data-testid=queue-sent]') !== null")
        assert [grid for _, grid in mobile_reports(city_app)] == [None]
        page.context.close()


def _image(width: int, height: int, noise: bool = False) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    if noise:  # random pixels: a JPEG of them stays large however it is resized
        Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
            buffer, format="PNG"
        )
    else:
        Image.new("RGB", (width, height), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


BAD_PHOTOS = [
    ({"name": "notice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}, "图片文件"),
    ({"name": "fake.jpg", "mimeType": "image/jpeg", "buffer": b"not a JPEG"}, "图片文件"),
    ({"name": "big.png", "mimeType": "image/png", "buffer": _image(500, 500, True)}, "过大"),
]


@pytest.mark.browser
def test_bad_photos_are_refused_in_the_browser_and_a_good_one_is_resized(
    city_app: Flask, browser
) -> None:
    user = ensure_user(city_app, "grid_manager", [GRID])
    with live_server(city_app) as base:
        page = _phone_page(browser, base, city_app, user, accuracy=20)
        for file, message in BAD_PHOTOS:
            page.set_input_files("[data-testid=photo]", files=[file])
            page.click("[data-testid=submit]")
            wait_until(page, SHOWN_ERROR)
            assert message in page.inner_text("[data-testid=report-error]"), file["name"]
            assert page.evaluate(QUEUED) == 0
        screenshot(page, "phone-report-photo-refused")
        assert mobile_reports(city_app) == [] and _stored_photos(city_app) == []

        wide = {"name": "wide.png", "mimeType": "image/png", "buffer": _image(2400, 1200)}
        page.set_input_files("[data-testid=photo]", files=[wide])
        page.click("[data-testid=submit]")
        wait_until(page, "document.querySelector('[data-testid=queue-sent]') !== null")
        assert len(mobile_reports(city_app)) == 1
        from PIL import Image

        [stored] = _stored_photos(city_app)
        with Image.open(stored) as photo:  # resized in the browser, sent as a JPEG
            assert (photo.format, photo.size) == ("JPEG", (1600, 800))
        page.set_viewport_size({"width": 1440, "height": 900})  # the desk's problem page:
        page.click("[data-testid=queue-sent]")  # the photo under its event's line, even
        wait_until(page, "document.querySelector('.cg-event-report img.cg-photo')?.naturalWidth")
        page.evaluate(  # when a short actor name leaves room for it beside the line
            "document.querySelector('.cg-event-report [data-testid=actor]').textContent = '王'"
        )
        label = page.locator(".cg-event-report b").bounding_box()
        photo_box = page.locator(".cg-event-report img.cg-photo").bounding_box()
        assert photo_box["y"] >= label["y"] + label["height"]
        page.context.close()


@pytest.mark.browser
def test_a_late_answer_for_an_earlier_place_does_not_hide_the_warning(
    city_app: Flask, browser
) -> None:
    """The nearby lookup of the phone's first fix answers after the pin was moved outside
    every grid: the stale answer must not clear the warning nor reset the suggestions."""
    user = ensure_user(city_app, "city_officer")
    with live_server(city_app) as base:
        page = logged_in_page(
            browser, base, city_app, user, TEST_PASSWORD,
            geolocation=HERE,
            permissions=["geolocation"], **PHONE,
        )  # fmt: skip
        held: list[Any] = []

        def hold_first(route: Any) -> None:
            if held:
                route.continue_()
            else:
                held.append(route)

        page.route("**/api/v1/reports/points*", hold_first)
        page.goto(base + "/report")
        wait_until(page, "document.querySelector('[name=lon]').value !== ''")
        page.wait_for_timeout(300)
        assert len(held) == 1  # the first fix's lookup, held back
        page.evaluate(FAR_AWAY)
        assert "不在任何网格内" in _warning(page)
        held[0].continue_()  # the stale answer (inside a grid) arrives last
        page.wait_for_timeout(800)
        assert "不在任何网格内" in _warning(page)
        page.context.close()
