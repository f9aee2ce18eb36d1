"""Survey problems from vector files: GeoJSON (also with a legacy ``crs`` member),
GeoPackage and Shapefile (file, folder or zip), read with pyogrio.

Each feature becomes a row numbered by its position (feature 1, 2...). Point geometries
give the coordinates (``__lon__``/``__lat__``, in the file's CRS, reported as
``source.crs``); any other geometry type is refused for that feature with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.errors import IngestError, InputFileError
from geo.core.text import tr
from geo.core.vectorfile import read_vector_file
from geo.ingest.sources.base import READ_ERROR, ROW, SurveySource
from geo.ingest.sources.xlsx_file import cell_text

LON, LAT = "__lon__", "__lat__"


def setup_vector(source: SurveySource, chunk_rows: int) -> None:
    """Prepare ``source`` to yield its features as text rows in chunks."""

    source.row_label = "feature"

    def read() -> Iterator[pd.DataFrame]:
        frame = _read(source)
        table = _table(frame)
        table.insert(0, ROW, np.arange(1, len(table) + 1))
        for start in range(0, len(table), chunk_rows):
            yield table.iloc[start : start + chunk_rows].reset_index(drop=True)

    source.reader = read


def _read(source: SurveySource) -> gpd.GeoDataFrame:
    path = source.path
    if path.is_dir():  # a Shapefile handed over as its folder
        shapes = sorted(path.glob("*.shp"))
        if not shapes:
            raise IngestError(
                tr(f"{path}: 文件夹中没有 Shapefile", f"{path}: no .shp file in the folder")
            )
        path = shapes[0]
    try:
        frame = read_vector_file(path)
    except InputFileError as exc:
        raise IngestError(exc.bilingual) from exc
    if frame.empty:
        raise IngestError(
            tr(f"{source.path}: 文件中没有要素", f"{source.path}: the file has no features")
        )
    source.crs = frame.crs.to_string() if frame.crs is not None else None
    return frame


def _table(frame: gpd.GeoDataFrame) -> pd.DataFrame:

    geoms = np.array(frame.geometry.values, dtype=object)
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table = pd.DataFrame(
        {str(c): [cell_text(_plain(v)) for v in props[c].tolist()] for c in props.columns},
        index=range(len(props)),
        dtype=object,
    )
    lon, lat, error = _coordinates(geoms)
    table[LON], table[LAT], table[READ_ERROR] = lon, lat, error
    return table


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _coordinates(geoms: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    """lon/lat text of point features; a reason for every other geometry."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    type_ids = np.where(missing, -1, shapely.get_type_id(geoms))
    single = (type_ids == 4) & (shapely.get_num_geometries(geoms) == 1)  # MultiPoint of one
    points = np.where(single, shapely.get_geometry(geoms, 0), geoms)
    is_point = (type_ids == 0) | single
    xy = np.full((len(geoms), 2), np.nan)
    if is_point.any():
        xy[is_point] = shapely.get_coordinates(points[is_point])[:, :2]
    lon = [repr(v) if np.isfinite(v) else "" for v in xy[:, 0].tolist()]
    lat = [repr(v) if np.isfinite(v) else "" for v in xy[:, 1].tolist()]
    error = [
        ""
        if ok or gone
        else tr(
            f"几何类型为 {g.geom_type}，问题必须是点",
            f"geometry is a {g.geom_type}, problems must be points",
        )
        for ok, gone, g in zip(is_point, missing, geoms, strict=True)
    ]
    return lon, lat, error
