"""Reading vector files (GeoJSON, GeoPackage, Shapefile) with clear errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from geo.core.errors import InputFileError
from geo.core.text import tr

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb"}


def read_vector_file(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio into a GeoDataFrame (in the file's own CRS).

    Raises ``InputFileError`` naming the file when it is missing, empty, not a vector
    format GDAL knows, or has no geometry column.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(tr(f"{path}: 文件不存在", f"{path}: file not found"))
    if path.is_dir() or path.stat().st_size == 0:
        raise InputFileError(tr(f"{path}: 文件为空或不是文件", f"{path}: empty file or not a file"))
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFileError(
            tr(
                f"{path}: 无法识别的文件格式（{_first_line(exc)}）",
                f"{path}: not a readable GeoJSON, GeoPackage or Shapefile ({_first_line(exc)})",
            )
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(
            tr(
                f"{path}: 文件无法读取（{_first_line(exc)}）",
                f"{path}: unreadable file ({_first_line(exc)})",
            )
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputFileError(tr(f"{path}: 文件没有几何字段", f"{path}: the file has no geometry"))
    return frame


def require_fields(frame: gpd.GeoDataFrame, path: str | Path, fields: dict[str, str]) -> None:
    """Raise ``InputFileError`` when a field named by an option is not in the file.

    ``fields`` maps the option name (e.g. ``--code-field``) to the field it names.
    """
    for option, field in fields.items():
        if field not in frame.columns:
            available = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
            raise InputFileError(
                tr(
                    f"{path}: 缺少字段 '{field}'; 文件中的字段: {available}",
                    f"{path}: missing field '{field}' ({option}); fields in file: {available}",
                )
            )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
