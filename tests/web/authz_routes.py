"""The authorisation matrix's table: for every (rule, method) of the app, two probes
("in": inside every scoped principal's areas, "out": outside the district officer's and
grid manager's), the expected status per principal and probe, and the markers a 200
must show. Run by tests/web/test_authz_matrix.py; add one entry per new route."""

from __future__ import annotations

from tests.web.authz_rules import (
    API_CLOSE,
    ASSIGN_PAGE,
    EVERYONE,
    FORM_CLOSE,
    IN_GRID,
    INGESTERS,
    NOT_FOUND_PAGE,
    OPEN311_IN,
    OPEN311_OUT,
    PAGE,
    PAGE_SCOPED_OUT,
    READ_API,
    REPORT_PAGE,
    REPORTERS_IN,
    REPORTERS_OUT,
    SCOPED_400,
    SCOPED_403,
    SCOPED_OUT,
    Entry,
    Probe,
    same,
    statuses,
)

ROUTES: dict[tuple[str, str], Entry] = {
    ("/", "GET"): same(Probe("/"), Probe("/?lang=en"), PAGE),
    ("/api/v1/areas", "GET"): same(
        Probe("/api/v1/areas?level=grid"),
        Probe("/api/v1/areas?level=district"),
        READ_API,
        **{"in": ["329901001000001"], "out": ["枫桥区"]},
    ),
    ("/api/v1/points", "GET"): same(
        Probe("/api/v1/points"),
        Probe("/api/v1/points?lang=en"),
        READ_API,
        **{"in": ["云溪农贸市场"], "out": ["枫桥路", "临江实验小学"]},
    ),
    ("/api/v1/problems", "GET"): same(
        Probe("/api/v1/problems?grid=329901001000001"),
        Probe("/api/v1/problems?bbox=120.9,31.9,125.1,32.1"),  # the other district and beyond
        READ_API,
        **{"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER", "OUTSIDE-MARKER"]},
    ),
    ("/api/v1/problems/<int:problem_id>", "GET"): Entry(
        {"in": Probe("/api/v1/problems/{IN1}"), "out": Probe("/api/v1/problems/{OUT1}")},
        {"in": READ_API, "out": {**READ_API, **SCOPED_OUT}},
        {"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/api/v1/problems", "POST"): Entry(
        {
            "in": Probe("/api/v1/problems", "problem_in"),
            "out": Probe("/api/v1/problems", "problem_out"),
        },
        {"in": REPORTERS_IN, "out": REPORTERS_OUT},
    ),
    ("/api/v1/surveys", "POST"): same(
        Probe("/api/v1/surveys", "survey_in"), Probe("/api/v1/surveys", "survey_out"), INGESTERS
    ),
    ("/api/v1/openapi.json", "GET"): same(
        Probe("/api/v1/openapi.json"), Probe("/api/v1/openapi.json?lang=en"), EVERYONE
    ),
    ("/healthz", "GET"): same(Probe("/healthz"), Probe("/healthz?lang=en"), EVERYONE),
    ("/readyz", "GET"): same(Probe("/readyz"), Probe("/readyz?lang=en"), EVERYONE),
    ("/login", "GET"): same(
        Probe("/login"),
        Probe("/login?next=//evil.example/"),
        statuses(302, anonymous=200, token_city=200, token_district=200),
    ),
    ("/login", "POST"): Entry(
        {"in": Probe("/login", "login_ok"), "out": Probe("/login", "login_bad")},
        {"in": statuses(302), "out": statuses(200)},
    ),
    ("/logout", "POST"): same(
        Probe("/logout", "csrf_form"), Probe("/logout", "csrf_form"), statuses(302)
    ),
    # --- heat maps and area pages ---
    ("/<any(districts, streets, communities, grids):plural>/<code>", "GET"): Entry(
        {"in": Probe(f"/grids/{IN_GRID}"), "out": Probe("/districts/329902")},
        {"in": PAGE, "out": {**PAGE, **PAGE_SCOPED_OUT}},
        {"in": [IN_GRID], "out": ["枫桥区"]},
    ),
    ("/api/v1/heat", "GET"): same(
        Probe("/api/v1/heat?level=grid&status=all"),
        Probe("/api/v1/heat?level=grid"),
        READ_API,
        **{"in": [IN_GRID], "out": ["329902001000001"]},
    ),
    ("/api/v1/shapes", "GET"): same(
        Probe("/api/v1/shapes?level=grid"),
        Probe("/api/v1/shapes?level=district"),
        READ_API,
        **{"in": [IN_GRID], "out": ["枫桥区"]},
    ),
    ("/api/v1/heat/points", "GET"): same(
        Probe("/api/v1/heat/points?zoom=12"),
        Probe("/api/v1/heat/points?zoom=12&bbox=120.9,31.9,121.1,32.1"),
        READ_API,
    ),
    ("/api/v1/heat/problems", "GET"): Entry(
        {
            "in": Probe(f"/api/v1/heat/problems?within=grid:{IN_GRID}&status=all"),
            "out": Probe("/api/v1/heat/problems?within=district:329902&status=all"),
        },
        {"in": READ_API, "out": {**READ_API, **SCOPED_400}},
        {"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    # --- problems: pages, forms, API ---
    ("/problems/<int:problem_id>", "GET"): Entry(
        {"in": Probe("/problems/{IN1}"), "out": Probe("/problems/{OUT1}")},
        {"in": PAGE, "out": {**PAGE, **PAGE_SCOPED_OUT}},
        {"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/problems/<int:problem_id>/<action>", "POST"): Entry(
        # Closing a found problem is refused (409) after the checks of right and scope.
        {
            "in": Probe("/problems/{IN1}/close", "close_form"),
            "out": Probe("/problems/{OUT1}/close", "close_form"),
        },
        {"in": FORM_CLOSE, "out": {**FORM_CLOSE, "district_officer": 404}},
    ),
    ("/problems/<int:problem_id>/photos/<int:folder>/<name>", "GET"): same(
        Probe("/problems/{IN1}/photos/{IN1}/a.jpg"),
        Probe("/problems/{OUT1}/photos/{OUT1}/a.jpg"),
        statuses(404, anonymous=302, token_city=302, token_district=302),
    ),
    ("/api/v1/problems/<int:problem_id>/location", "GET"): Entry(
        {
            "in": Probe("/api/v1/problems/{IN1}/location"),
            "out": Probe("/api/v1/problems/{OUT1}/location"),
        },
        {"in": READ_API, "out": {**READ_API, **SCOPED_OUT}},
    ),
    ("/api/v1/problems/<int:problem_id>/area", "GET"): Entry(
        {"in": Probe("/api/v1/problems/{IN1}/area"), "out": Probe("/api/v1/problems/{OUT1}/area")},
        {"in": READ_API, "out": {**READ_API, **SCOPED_OUT}},
        {"in": [IN_GRID]},
    ),
    ("/api/v1/problems/<int:problem_id>", "POST"): Entry(
        {
            "in": Probe("/api/v1/problems/{IN1}", "close_json"),
            "out": Probe("/api/v1/problems/{OUT1}", "close_json"),
        },
        {"in": API_CLOSE, "out": {**API_CLOSE, "district_officer": 404, "token_district": 404}},
    ),
    ("/areas/<level>/<code>/assign", "GET"): Entry(
        {
            "in": Probe(f"/areas/grid/{IN_GRID}/assign"),
            "out": Probe("/areas/district/329902/assign"),
        },
        {"in": ASSIGN_PAGE, "out": {**ASSIGN_PAGE, "district_officer": 404}},
        {"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/problems/bulk-assign", "POST"): same(
        # No unit chosen: refused with a message (flash, back to the page), nothing written.
        Probe("/problems/bulk-assign", "bulk_in"),
        Probe("/problems/bulk-assign", "bulk_out"),
        statuses(
            302, anonymous=401, token_city=401, token_district=401, planner=403, grid_manager=403
        ),
    ),
    # --- rankings and scores ---
    ("/rankings", "GET"): same(
        Probe("/rankings?level=grid"), Probe("/rankings?level=district"), PAGE
    ),
    ("/api/v1/rankings", "GET"): Entry(
        {"in": Probe("/api/v1/rankings?level=grid"), "out": Probe("/api/v1/rankings?level=unit")},
        {"in": READ_API, "out": {**READ_API, **SCOPED_403}},
    ),
    ("/scores", "GET"): same(
        Probe("/scores?level=grid&period=2024-Q2"),
        Probe("/scores?level=district&period=2024-Q2"),
        PAGE,
        **{"in": [IN_GRID], "out": ["枫桥区"]},
    ),
    ("/api/v1/scores", "GET"): same(
        Probe("/api/v1/scores?level=grid&period=2024-Q2"),
        Probe("/api/v1/scores?level=district&period=2024-Q2"),
        READ_API,
        **{"in": [IN_GRID], "out": ["枫桥区"]},
    ),
    # --- search: a scoped user finds only what lies in their areas ---
    ("/search", "GET"): same(
        Probe("/search?q=%E7%BD%91%E6%A0%BC"),  # 网格: every grid's name
        Probe("/search?q=%E6%9E%AB%E6%A1%A5"),  # 枫桥: the other district, its road
        PAGE,
        **{"in": [IN_GRID], "out": ["枫桥区", "枫桥路"]},
    ),
    # --- hot spots and rebounds ---
    ("/hotspots", "GET"): same(Probe("/hotspots"), Probe("/hotspots?by=point&lang=en"), PAGE),
    ("/api/v1/hotspots", "GET"): same(
        Probe("/api/v1/hotspots"), Probe("/api/v1/hotspots?status=unresolved"), READ_API
    ),
    ("/api/v1/rebounds", "GET"): same(
        Probe("/api/v1/rebounds?days=365"), Probe("/api/v1/rebounds?by=point"), READ_API
    ),
    # --- the offline basemap file (no basemap configured here: not found once let in) ---
    ("/basemap.pmtiles", "GET"): same(
        Probe("/basemap.pmtiles"), Probe("/basemap.pmtiles?lang=en"), NOT_FOUND_PAGE
    ),
    # --- dashboard: district and street figures only within the scope ---
    ("/dashboard", "GET"): same(
        Probe("/dashboard?period=2024-05"), Probe("/dashboard?every=month&lang=en"), PAGE
    ),
    ("/dashboard.csv", "GET"): same(
        Probe("/dashboard.csv?chart=districts&period=2024-05"),
        Probe("/dashboard.csv?chart=streets"),
        PAGE,
    ),
    # --- bulletin archive (published rankings and bulletins) ---
    ("/bulletins", "GET"): same(Probe("/bulletins"), Probe("/bulletins?lang=en"), PAGE),
    ("/bulletins/<int:publication_id>", "GET"): Entry(
        {"in": Probe("/bulletins/{RANKING}"), "out": Probe("/bulletins/{BULLETIN}")},
        {"in": PAGE, "out": {**PAGE, "district_officer": 403, "grid_manager": 403}},
    ),
    ("/bulletins/<int:publication_id>.html", "GET"): Entry(
        {"in": Probe("/bulletins/{RANKING}.html"), "out": Probe("/bulletins/{BULLETIN}.html")},
        {"in": PAGE, "out": {**PAGE, "district_officer": 403, "grid_manager": 403}},
    ),
    ("/bulletins/<int:publication_id>.pdf", "GET"): Entry(
        {"in": Probe("/bulletins/{RANKING}.pdf"), "out": Probe("/bulletins/{BULLETIN}.pdf")},
        {"in": PAGE, "out": {**PAGE, "district_officer": 403, "grid_manager": 403}},
    ),
    # --- rounds and notices ---
    ("/rounds", "GET"): same(Probe("/rounds"), Probe("/rounds?lang=en"), PAGE),
    ("/rounds/<int:round_id>", "GET"): Entry(
        {"in": Probe("/rounds/{ROUND}"), "out": Probe("/rounds/999999")},
        {"in": PAGE, "out": statuses(404, anonymous=302, token_city=302, token_district=302)},
    ),
    ("/api/v1/rounds", "GET"): same(
        Probe("/api/v1/rounds"), Probe("/api/v1/rounds?lang=en"), READ_API
    ),
    ("/api/v1/rounds/<int:round_id>", "GET"): same(
        Probe("/api/v1/rounds/{ROUND}?level=grid"),
        Probe("/api/v1/rounds/{ROUND}?level=district"),
        READ_API,
    ),
    ("/api/v1/rounds/<int:round_id>/points", "GET"): same(
        Probe("/api/v1/rounds/{ROUND}/points"),
        Probe("/api/v1/rounds/{ROUND}/points?visited=0"),
        READ_API,
        **{"in": ["云溪农贸市场"], "out": ["临江实验小学"]},
    ),
    ("/rounds/<int:round_id>/notices/<street>", "GET"): Entry(
        {
            "in": Probe("/rounds/{ROUND}/notices/329901001"),
            "out": Probe("/rounds/{ROUND}/notices/329902001"),
        },
        {"in": {**PAGE, "grid_manager": 404}, "out": {**PAGE, **PAGE_SCOPED_OUT}},
    ),
    ("/rounds/<int:round_id>/notices/<street>", "POST"): same(
        # No point failed in the round: issuing is refused (400) once allowed at all.
        Probe("/rounds/{ROUND}/notices/329901001", "csrf_form"),
        Probe("/rounds/{ROUND}/notices/329902001", "csrf_form"),
        statuses(
            400,
            anonymous=401,
            token_city=401,
            token_district=401,
            district_officer=403,
            grid_manager=403,
            planner=403,
        ),
    ),
    ("/notices/<int:notice_id>", "GET"): same(
        Probe("/notices/1"), Probe("/notices/999999"), NOT_FOUND_PAGE
    ),
    ("/notices/<int:notice_id>.pdf", "GET"): same(
        Probe("/notices/1.pdf"), Probe("/notices/999999.pdf"), NOT_FOUND_PAGE
    ),
    # --- exports and standard APIs ---
    ("/export/<target>.<fmt>", "GET"): same(
        Probe(f"/export/problems.csv?area=grid:{IN_GRID}"),
        Probe("/export/problems.geojson"),
        READ_API,
        **{"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/ogcapi", "GET"): same(Probe("/ogcapi"), Probe("/ogcapi?f=html"), READ_API),
    ("/ogcapi/", "GET"): same(Probe("/ogcapi/"), Probe("/ogcapi/?f=json"), READ_API),
    ("/ogcapi/conformance", "GET"): same(
        Probe("/ogcapi/conformance"), Probe("/ogcapi/conformance?f=html"), READ_API
    ),
    ("/ogcapi/api", "GET"): same(Probe("/ogcapi/api"), Probe("/ogcapi/api?f=json"), READ_API),
    ("/ogcapi/collections", "GET"): same(
        Probe("/ogcapi/collections"), Probe("/ogcapi/collections?f=html"), READ_API
    ),
    ("/ogcapi/collections/<collection_id>", "GET"): Entry(
        {
            "in": Probe("/ogcapi/collections/problems?f=json"),
            "out": Probe("/ogcapi/collections/nope"),
        },
        {"in": READ_API, "out": statuses(404, anonymous=401)},
    ),
    ("/ogcapi/collections/<collection_id>/items", "GET"): same(
        Probe("/ogcapi/collections/problems/items?f=json"),
        Probe("/ogcapi/collections/districts/items?f=json"),
        READ_API,
        **{"in": ["IN-GRID-MARKER"], "out": ["枫桥区"]},
    ),
    ("/ogcapi/collections/<collection_id>/items/<feature_id>", "GET"): Entry(
        {
            "in": Probe("/ogcapi/collections/problems/items/{IN1}?f=json"),
            "out": Probe("/ogcapi/collections/problems/items/{OUT1}?f=json"),
        },
        {"in": READ_API, "out": {**READ_API, **SCOPED_OUT}},
        {"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/ogcapi/collections/<collection_id>/queryables", "GET"): same(
        Probe("/ogcapi/collections/problems/queryables"),
        Probe("/ogcapi/collections/districts/queryables"),
        READ_API,
    ),
    ("/open311/discovery.<fmt>", "GET"): same(
        Probe("/open311/discovery.json"), Probe("/open311/discovery.xml"), EVERYONE
    ),
    ("/open311/v2/discovery.<fmt>", "GET"): same(
        Probe("/open311/v2/discovery.json"), Probe("/open311/v2/discovery.xml"), EVERYONE
    ),
    ("/open311/v2/services.<fmt>", "GET"): same(
        Probe("/open311/v2/services.json"), Probe("/open311/v2/services.xml"), READ_API
    ),
    ("/open311/v2/services/<code>.<fmt>", "GET"): Entry(
        {
            "in": Probe("/open311/v2/services/litter.json"),
            "out": Probe("/open311/v2/services/nope.json"),
        },
        {"in": READ_API, "out": statuses(404, anonymous=401)},
    ),
    ("/open311/v2/requests.<fmt>", "GET"): same(
        # the markers' month: a list without dates covers the last 90 days only
        Probe("/open311/v2/requests.json?start_date=2024-04-15&end_date=2024-06-01"),
        Probe("/open311/v2/requests.xml?start_date=2024-04-15&end_date=2024-06-01"),
        READ_API,
        **{"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/open311/v2/requests/<request_id>.<fmt>", "GET"): Entry(
        {
            "in": Probe("/open311/v2/requests/{IN1}.json"),
            "out": Probe("/open311/v2/requests/{OUT1}.json"),
        },
        {"in": READ_API, "out": {**READ_API, **SCOPED_OUT}},
        {"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/open311/v2/requests.<fmt>", "POST"): Entry(
        {
            "in": Probe("/open311/v2/requests.json", "open311_in"),
            "out": Probe("/open311/v2/requests.json", "open311_out"),
        },
        {"in": OPEN311_IN, "out": OPEN311_OUT},
    ),
    # --- the phone app (issue 17) ---
    ("/my", "GET"): same(Probe("/my"), Probe("/my?lang=en"), PAGE),
    ("/report", "GET"): same(Probe("/report"), Probe("/report?lang=en"), REPORT_PAGE),
    ("/api/v1/my/markers", "GET"): same(
        Probe("/api/v1/my/markers"), Probe("/api/v1/my/markers?lang=en"), READ_API
    ),
    ("/api/v1/reports/points", "GET"): same(
        Probe("/api/v1/reports/points?lon=120.82&lat=32.01"),
        Probe("/api/v1/reports/points?lon=120.92&lat=32.01"),
        statuses(200, anonymous=401, planner=403),
    ),
    ("/api/v1/reports", "POST"): Entry(
        {
            "in": Probe("/api/v1/reports", "report_in"),
            "out": Probe("/api/v1/reports", "report_out"),
        },
        {"in": REPORTERS_IN, "out": REPORTERS_OUT},
    ),
    ("/inbox", "GET"): same(Probe("/inbox"), Probe("/inbox?lang=en"), PAGE),
    ("/inbox/read", "POST"): same(
        Probe("/inbox/read", "csrf_form"),
        Probe("/inbox/read", "csrf_form"),
        statuses(302, anonymous=401, token_city=401, token_district=401),
    ),
    ("/manifest.webmanifest", "GET"): same(
        Probe("/manifest.webmanifest"), Probe("/manifest.webmanifest?lang=en"), EVERYONE
    ),
    ("/sw.js", "GET"): same(Probe("/sw.js"), Probe("/sw.js?lang=en"), EVERYONE),
    ("/static/<path:filename>", "GET"): Entry(
        {"in": Probe("/static/civicgrid.css"), "out": Probe("/static/../README.md")},
        {"in": EVERYONE, "out": statuses(404)},
    ),
    ("/vendor/<package>/<path:filename>", "GET"): Entry(
        {
            "in": Probe("/vendor/leaflet/leaflet.js"),
            "out": Probe("/vendor/leaflet/../package.json"),
        },
        {"in": EVERYONE, "out": statuses(404)},
    ),
}
