"""GeoPackage exports through pyogrio, one chunk appended at a time (constant memory).

The layer is named after the target (``problems``, ``points``, ``areas``; with a
``_gcj02`` suffix for GCJ-02). WGS-84 exports carry EPSG:4326; GCJ-02 has no EPSG code,
so such a layer has an undefined geographic CRS and says "GCJ-02" in its description
and the dataset metadata. Times are date-times in UTC with milliseconds, as GeoPackage
requires ("2024-05-01T01:00:00.000Z"; without the milliseconds GDAL 3.6 warns).

Files are GeoPackage 1.2: the bundled GDAL writes 1.4 by default, which GDAL/QGIS 3.6
open with a "may only be partially supported" warning and whose R-tree update triggers
(update6/7) they do not know; 1.2 gets the update1–4 triggers every reader knows.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.export import encode as enc
from geo.export.fields import FIELDS, Field
from geo.export.query import Chunk
from geo.export.request import ExportRequest

GEOMETRY_TYPES = {"problems": "Point", "points": "Unknown", "areas": "MultiPolygon"}


def write_gpkg(chunks: Iterator[Chunk], request: ExportRequest, path: Path) -> None:
    """Write ``chunks`` as one GeoPackage layer at ``path``."""
    with warnings.catch_warnings():
        # The file is FILE.gpkg.part until complete; GDAL would warn about the suffix.
        warnings.filterwarnings("ignore", message=".*extension should be.*")
        warnings.filterwarnings("ignore", message=".*crs. was not provided.*")  # GCJ-02
        _write(chunks, request, path)


def _write(chunks: Iterator[Chunk], request: ExportRequest, path: Path) -> None:
    fields = FIELDS[request.target]
    layer = request.target + ("_gcj02" if request.crs == "gcj02" else "")
    crs = None if request.crs == "gcj02" else "EPSG:4326"
    path.unlink(missing_ok=True)  # GDAL wants to create the file itself
    first = True
    for chunk in chunks:
        if not len(chunk) and not first:
            continue
        frame = _frame(chunk, fields, request.tz, crs)
        pyogrio.write_dataframe(
            frame,
            path,
            layer=layer,
            driver="GPKG",
            append=not first,
            geometry_type=GEOMETRY_TYPES[request.target],
            **({} if not first else _creation_options(request)),
        )
        first = False
    if first:  # nothing matched: still write an empty, well-typed layer
        pyogrio.write_dataframe(
            _frame(_empty_chunk(fields), fields, request.tz, crs),
            path,
            layer=layer,
            driver="GPKG",
            geometry_type=GEOMETRY_TYPES[request.target],
            **_creation_options(request),
        )


def _creation_options(request: ExportRequest) -> dict[str, object]:
    meta = request.metadata()
    description = f"civicgrid {meta['target']}; {meta['coordinate_system']}"
    return {
        "dataset_options": {"VERSION": "1.2"},
        "layer_options": {
            "DESCRIPTION": description,
            "IDENTIFIER": request.target,
            "DATETIME_PRECISION": "MILLISECOND",
        },
        "metadata": {k: str(v) for k, v in meta.items()},
    }


def _frame(chunk: Chunk, fields: tuple[Field, ...], tz: str, crs: str | None) -> gpd.GeoDataFrame:
    data: dict[str, object] = {}
    for f in fields:
        values = chunk.columns[f.name]
        if f.type == "time":
            # GeoPackage stores date-times in UTC ("...Z"), as its specification requires.
            data[f.name] = enc.aware_datetimes(np.asarray(values, float), "UTC")
        elif f.type == "str":
            data[f.name] = pd.Series(values, dtype=object)
        else:
            data[f.name] = np.asarray(values, dtype=_DTYPES[f.type])
    geoms = enc.point_geometries(chunk)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs).values, crs=crs)


_DTYPES = {"int": "int64", "float": "float64", "bool": "bool", "str": "object", "time": "float64"}


def _empty_chunk(fields: tuple[Field, ...]) -> Chunk:
    columns = {f.name: np.array([], dtype=_DTYPES[f.type]) for f in fields}
    return Chunk(columns, np.array([], float), np.array([], float), None)
