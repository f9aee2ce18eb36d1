"""The bulletin's static map: unresolved problems by district, drawn with
geopandas/matplotlib (Agg backend, Noto Sans CJK for the Chinese labels) as a PNG.

Districts are read from the areas table (EPSG:4326) and drawn in Web Mercator
(EPSG:3857) so shapes look as on a web map; counts are problems unresolved at
``cutoff`` (found before it and not closed by then).
"""

from __future__ import annotations

import base64
import io
from datetime import datetime

import geopandas as gpd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.text import tr
from geo.storage.models import Area, Problem
from geo.storage.statuses import open_at_sql

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei"]


def district_heat_png(session: so.Session, cutoff: datetime, title: str) -> str:
    """A choropleth of unresolved problems per district, as base64 PNG text."""
    frame = _districts_with_counts(session, cutoff)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": CJK_FONTS}):
        fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=150)
        try:
            _draw(ax, frame, title)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", bbox_inches="tight")
        finally:
            plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _districts_with_counts(session: so.Session, cutoff: datetime) -> gpd.GeoDataFrame:
    unresolved = (
        sa.select(Problem.district_id, sa.func.count().label("n"))
        .where(
            open_at_sql(cutoff),  # held and voided problems are not waiting for rectification
        )
        .group_by(Problem.district_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(Area.code, Area.name, Area.geom, sa.func.coalesce(unresolved.c.n, 0))
        .outerjoin(unresolved, unresolved.c.district_id == Area.id)
        .where(Area.level == "district")
        .order_by(Area.code)
    ).all()
    frame = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "n": [int(r[3]) for r in rows],
        },
        geometry=[r[2] for r in rows],
        crs=4326,
    )
    return frame.to_crs(3857)


def _draw(ax: object, frame: gpd.GeoDataFrame, title: str) -> None:
    import matplotlib.pyplot as plt

    axes = ax if isinstance(ax, plt.Axes) else plt.gca()
    axes.set_axis_off()
    axes.set_title(f"未销号问题分布（按区）· {title}", fontsize=11)
    if frame.empty:
        axes.text(
            0.5,
            0.5,
            tr("尚未加载区界", "no districts loaded"),
            ha="center",
            transform=axes.transAxes,
        )
        return
    frame.plot(
        column="n",
        cmap="OrRd",
        linewidth=0.8,
        edgecolor="#555555",
        legend=True,
        legend_kwds={"label": "未销号问题数", "shrink": 0.7},
        ax=axes,
    )
    points = frame.geometry.representative_point()
    for point, name, n in zip(points, frame["name"], frame["n"], strict=True):
        axes.annotate(
            f"{name}\n{n}",
            xy=(point.x, point.y),
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.75},
        )
