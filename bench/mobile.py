"""Benchmark: the grid manager's phone pages (/my, /report) on a slow phone.

Builds the tests' tiny city with ``--problems`` extra open problems in the grid
manager's grid, serves it, and loads each page in Chromium at 390×844 with touch, the
CPU throttled ``--cpu`` times and the network emulated as Fast 3G (Chrome DevTools
Protocol: Emulation.setCPUThrottlingRate, Network.emulateNetworkConditions):

- first: a fresh browser context (empty caches, no service worker), seconds from the
  navigation until the page is usable (/my: the map's grids and markers drawn; /report:
  the categories listed and the map drawn) and the bytes the page transferred;
- repeat: the same page again in the same context, once the service worker (registered
  after the page has loaded) controls it: HTTP cache and service worker warm.

The anchor is the same first load without throttling, in the same run: ratio = the
slowest throttled first load / its unthrottled twin (how much the slow phone costs).
Targets (issue 17): first ≤ 3 s and ≤ 500 KB, repeat ≤ 1 s.

    python bench/mobile.py --problems 300
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit

PAGES = {
    "/my": "document.querySelector('#cg-my-map')?.dataset.ready === '1'",
    "/report": (
        "document.querySelectorAll('#cg-category option').length > 0 &&"
        " !!document.querySelector('#cg-report-map .leaflet-pane')"
    ),
}
FAST_3G = {  # Chrome DevTools' "Fast 3G" preset (Lighthouse's mobile throttling)
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
    "uploadThroughput": 750 * 1024 / 8 * 0.9,
}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "geolocation": {"latitude": 32.011, "longitude": 120.81, "accuracy": 15},
    "permissions": ["geolocation"],
}
TARGETS = {"first_s": 3.0, "first_kb": 500, "repeat_s": 1.0}
GRID = "grid:329901001001001"


def main(argv: list[str] | None = None, browser: Any = None) -> dict[str, Any]:
    """Run the benchmark; ``browser``: a Playwright browser to use (tests), else one is
    launched."""
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-") as tmp:
        app, user = _city(Path(tmp), args.problems)
        figures = _with_browser(browser, lambda b: _measure(app, user, b, args.cpu))
    slow = max(figures["pages"].values(), key=lambda p: p["first_s"])
    result = {
        "bench": "mobile",
        "problems": args.problems,
        "cpu_slowdown": args.cpu,
        "network": "Fast 3G",
        "first_s": slow["first_s"],
        "repeat_s": max(p["repeat_s"] for p in figures["pages"].values()),
        "first_kb": max(p["first_kb"] for p in figures["pages"].values()),
        "anchor": "same first load, no throttling",
        "anchor_seconds": slow["anchor_s"],
        "ratio": round(slow["first_s"] / max(slow["anchor_s"], 1e-3), 2),
        "pages": figures["pages"],
        "targets": TARGETS,
        "console_errors": figures["errors"],
    }
    emit(result)
    return result


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=300, help="open problems in the grid")
    parser.add_argument("--cpu", type=float, default=4.0, help="CPU slowdown factor")
    return parser.parse_args(argv)


def _city(tmp: Path, problems: int) -> tuple[Any, str]:
    """The tiny city, ``problems`` more found problems in the grid manager's grid."""
    import numpy as np

    from geo.ingest.pipeline import IngestOptions, ingest_file
    from geo.storage.db import make_engine
    from geo.summary.upgrade import upgrade
    from tests.helpers import ensure_user, write_csv
    from tests.lifecycle_data import load_lifecycle_city
    from web import create_app

    url = f"sqlite:///{tmp / 'mobile.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_lifecycle_city(engine, tmp)
    rng = np.random.default_rng(5)
    rows = ["id,lon,lat,category,found_at"] + [
        f"M{i},{rng.uniform(120.801, 120.849):.6f},{rng.uniform(32.001, 32.039):.6f},"
        f"litter,2026-11-20T09:00:00+08:00"
        for i in range(problems)
    ]
    ingest_file(
        engine,
        write_csv(tmp / "more.csv", "\n".join(rows) + "\n"),
        IngestOptions(source="bench", actor="bench"),
    )
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    return app, ensure_user(app, "grid_manager", [GRID])


def _with_browser(browser: Any, work: Any) -> Any:
    if browser is not None:
        return work(browser)
    from playwright.sync_api import sync_playwright

    from tests.web.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return work(launched)
        finally:
            launched.close()


def _measure(app: Any, user: str, browser: Any, cpu: float) -> dict[str, Any]:
    from tests.web.browser import live_server

    pages: dict[str, Any] = {}
    errors = 0
    with live_server(app) as base:
        for path, ready in PAGES.items():  # a warm server: what a phone normally meets
            _visit(browser, base, user, path, ready, throttle=None)
        for path, ready in PAGES.items():
            anchor = _visit(browser, base, user, path, ready, throttle=None)
            slow = _visit(browser, base, user, path, ready, throttle=cpu)
            errors += anchor["errors"] + slow["errors"]
            pages[path] = {
                "first_s": slow["first_s"],
                "repeat_s": slow["repeat_s"],
                "first_kb": slow["first_kb"],
                "anchor_s": anchor["first_s"],
                "clustered": slow["clustered"],
            }
    return {"pages": pages, "errors": errors}


def _visit(
    browser: Any, base: str, user: str, path: str, ready: str, throttle: float | None
) -> dict[str, Any]:
    """First and repeat load of ``path`` in a fresh, logged-in phone context."""
    from tests.helpers import TEST_PASSWORD
    from tests.web.browser import PageWatch, context_login, wait_until

    context = browser.new_context(locale="zh-CN", **PHONE)
    context_login(context, base, user, TEST_PASSWORD)
    page = context.new_page()
    watch = PageWatch(page, base)
    if throttle is not None:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", FAST_3G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    finished: list[Any] = []
    page.on("requestfinished", lambda request: finished.append(request))
    first = _load(page, base + path, ready)
    page.wait_for_load_state("networkidle")
    size = sum(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in finished)
    # A repeat visit comes after the service worker has installed (it starts after load).
    wait_until(page, "navigator.serviceWorker.controller !== null", timeout=120_000)
    repeat = _load(page, base + path, ready)
    clustered = page.evaluate("document.querySelector('#cg-my-map')?.dataset.clustered === '1'")
    context.close()
    return {
        "clustered": bool(clustered),
        "first_s": first,
        "repeat_s": repeat,
        "first_kb": round(size / 1024, 1),
        "errors": len(watch.console_errors),
    }


def _load(page: Any, url: str, ready: str) -> float:
    """Seconds from the start of the navigation until ``ready`` holds."""
    from tests.web.browser import wait_until

    page.goto(url, wait_until="commit", timeout=120_000)
    wait_until(page, ready, timeout=120_000)
    return round(float(page.evaluate("performance.now()")) / 1000, 3)


if __name__ == "__main__":
    main()
