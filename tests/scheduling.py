"""Which tests run, and how `make test` spreads them over its xdist workers.

A pytest plugin (tests/conftest.py lists it in ``pytest_plugins``). `make test` runs
``pytest -n auto --dist loadgroup`` on two cores; three rules keep both workers busy
until the end without building an expensive fixture twice:

* Tests marked ``xdist_group(name)`` run on one worker, one after the other, so a module
  fixture (the demo city, a browser test city) is built once. pytest-xdist does this by
  appending ``@name`` to each test's id on the worker; from pytest 9.2 on, node ids are
  structured and xdist's assignment no longer takes (pytest-xdist issue 1386), so the
  suffix is put back here when it is missing.
* Under xdist, tests marked ``slow`` are handed out first, then browser tests, then the
  quick rest: a two-minute test that starts last keeps one worker busy while the other
  has nothing left to do. (Groups go first anyway: xdist queues the largest first.) A
  serial run keeps the file order, so a module's tests stay with its module fixtures.
* Browser tests run on SQLite only: what Chromium checks does not depend on the backend,
  and the test-client tests cover every route on PostGIS.
"""

from __future__ import annotations

import pytest


def group_of(item: pytest.Item) -> str | None:
    """The ``xdist_group`` names of ``item`` joined as pytest-xdist joins them, or None."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) if names else None


def _set_nodeid(item: pytest.Item, nodeid: str) -> None:
    if hasattr(item, "_id"):  # pytest >= 9.2: a structured NodeId; its string is kept as given
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(nodeid)
    else:
        item._nodeid = nodeid


def _cost_rank(item: pytest.Item) -> int:
    """0 for slow tests, 1 for browser tests (seconds each), 2 for the rest."""
    if item.get_closest_marker("slow"):
        return 0
    return 1 if item.get_closest_marker("browser") else 2


def _distributed(config: pytest.Config) -> bool:
    """True in an xdist worker (where the items are collected and ordered)."""
    return hasattr(config, "workerinput")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgis = "postgis" in params.values()
        (dropped if on_postgis and item.get_closest_marker("browser") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    if _distributed(config):
        # Every worker sorts the same collection the same way (xdist checks they agree).
        kept.sort(key=_cost_rank)
    items[:] = kept


@pytest.hookimpl(tryfirst=True)  # before xdist sends the worker's test ids
def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    if not (_distributed(config) and config.getvalue("loadgroup")):
        return
    for item in session.items:
        group = group_of(item)
        if group and not item.nodeid.endswith(f"@{group}"):
            _set_nodeid(item, f"{item.nodeid}@{group}")
