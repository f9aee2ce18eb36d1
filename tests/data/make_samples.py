"""Make the small, real-shaped survey sample files in tests/data/surveys/.

    python tests/data/make_samples.py [OUT_DIR]

Every file holds the same three problems in the tiny test city (tests/helpers.py:
lon 120.80–121.00, lat 32.00–32.04), laid out the way each tool exports them:
KoboToolbox CSV (semicolon separated, geopoint + split columns in a group) and XLSX,
ODK Central CSV, Excel "CSV" in GBK, Excel "CSV UTF-8" with a BOM, an XLSX with a merged
title row and merged header cells (and a formula cell), GeoJSON with a legacy ``crs``
member (EPSG:4490) and with non-point geometries, GeoPackage, Shapefile (folder and
zip), and a CSV of GCJ-02 coordinates picked on AMap.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).resolve().parent / "surveys"

# (id, lon, lat, category label, description, local time +08:00)
PROBLEMS = [
    ("A1", 120.821234, 32.012345, "暴露垃圾/环境卫生差", "菜场门口垃圾堆放", "2024-05-01 09:15:00"),
    ("A2", 120.912345, 32.021234, "机动车乱停放", "人行道上停车", "2024-05-01 10:30:00"),
    ("A3", 120.962345, 32.031234, "小广告/乱张贴/乱涂写", "电线杆小广告", "2024-05-02 14:05:00"),
]
UUIDS = [
    "8e1c2f0a-3b4d-4c5e-9f60-718293a4b5c6",
    "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b",
    "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
]
SAMPLES = (
    "kobo.csv",
    "kobo.xlsx",
    "odk.csv",
    "gbk.csv",
    "bom.csv",
    "merged_header.xlsx",
    "legacy_crs.geojson",
    "mixed_geometries.geojson",
    "problems.gpkg",
    "problems_shp",
    "problems_shp.zip",
    "gcj02.csv",
)


def main(out: Path = OUT) -> list[Path]:
    """Write every sample into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    writers = (
        _kobo_csv,
        _kobo_xlsx,
        _odk_csv,
        _gbk_csv,
        _bom_csv,
        _merged_xlsx,
        _legacy_geojson,
        _mixed_geojson,
        _gpkg,
        _shapefiles,
        _gcj02_csv,
    )
    for write in writers:
        write(out)
    return [out / name for name in SAMPLES]


def _utc(local: str) -> str:
    stamp = dt.datetime.fromisoformat(local) - dt.timedelta(hours=8)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _kobo_rows() -> tuple[list[str], list[list[str]]]:
    header = [
        "start",
        "end",
        "problem/category",
        "problem/description",
        "problem/loc",
        "problem/_loc_latitude",
        "problem/_loc_longitude",
        "problem/_loc_altitude",
        "problem/_loc_precision",
        "_id",
        "_uuid",
        "_submission_time",
        "_validation_status",
        "_index",
    ]
    rows = []
    for i, (_, lon, lat, cat, desc, local) in enumerate(PROBLEMS):
        start = local.replace(" ", "T") + ".000+08:00"
        rows.append(
            [
                start,
                start,
                cat,
                desc,
                f"{lat} {lon} 12.5 4.8",
                str(lat),
                str(lon),
                "12.5",
                "4.8",
                str(30170 + i),
                UUIDS[i],
                _utc(local)[:19],
                "",
                str(i + 1),
            ]
        )
    return header, rows


def _kobo_csv(out: Path) -> None:
    header, rows = _kobo_rows()
    with (out / "kobo.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)


def _kobo_xlsx(out: Path) -> None:
    import openpyxl

    header, rows = _kobo_rows()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "暗访问题"
    sheet.append(header)
    for row in rows:
        sheet.append(
            [float(v) if i in (5, 6, 7, 8) else int(v) if i == 9 else v for i, v in enumerate(row)]
        )
    _save(book, out / "kobo.xlsx")


def _odk_csv(out: Path) -> None:
    header = [
        "SubmissionDate",
        "g-category",
        "g-description",
        "g-loc-Latitude",
        "g-loc-Longitude",
        "g-loc-Altitude",
        "g-loc-Accuracy",
        "meta-instanceID",
        "KEY",
        "SubmitterID",
        "SubmitterName",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Status",
        "ReviewState",
        "DeviceID",
        "Edits",
        "FormVersion",
    ]
    with (out / "odk.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, (_, lon, lat, cat, desc, local) in enumerate(PROBLEMS):
            uuid = f"uuid:{UUIDS[i]}"
            meta = [0, 0, "", "", "collect:abc", 0, "2024050101"]
            writer.writerow(
                [_utc(local), cat, desc, lat, lon, 8.0, 3.9, uuid, uuid, 12, "巡查员王", *meta]
            )


def _zh_table() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["编号", "经度", "纬度", "问题类别", "问题描述", "发现时间"])
    for pid, lon, lat, cat, desc, local in PROBLEMS:
        writer.writerow([pid, lon, lat, cat, desc, local.replace("-", "/")[:16]])
    return buffer.getvalue()


def _gbk_csv(out: Path) -> None:
    (out / "gbk.csv").write_bytes(_zh_table().encode("gbk"))


def _bom_csv(out: Path) -> None:
    (out / "bom.csv").write_bytes(_zh_table().encode("utf-8-sig"))


def _merged_xlsx(out: Path) -> None:
    """A title row merged across the sheet, then a two-row header: 位置 merged over
    经度/纬度, and the other headers merged vertically over both header rows."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "问题清单"
    sheet["A1"] = "2024年5月文明城市暗访督查问题清单"
    sheet.merge_cells("A1:F1")
    for col, text in zip("ABEF", ["编号", "问题类别", "问题描述", "发现时间"], strict=True):
        sheet[f"{col}2"] = text
        sheet.merge_cells(f"{col}2:{col}3")
    sheet["C2"] = "位置"
    sheet.merge_cells("C2:D2")
    sheet["C3"], sheet["D3"] = "经度", "纬度"
    for pid, lon, lat, cat, desc, local in PROBLEMS:
        sheet.append([pid, cat, lon, lat, desc, dt.datetime.fromisoformat(local)])
    sheet["E6"] = '=HYPERLINK("http://example.invalid/photo/A3.jpg","照片")'
    _save(book, out / "merged_header.xlsx")


def _save(book: object, path: Path) -> None:
    fixed = dt.datetime(2024, 5, 3, 9, 0, 0)
    book.properties.created = fixed  # type: ignore[attr-defined]
    book.properties.modified = fixed  # type: ignore[attr-defined]
    book.save(path)  # type: ignore[attr-defined]


def _feature(pid: str, geometry: dict[str, object], cat: str, desc: str, local: str) -> dict:
    props = {"id": pid, "category": cat, "description": desc, "found_at": local}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _legacy_geojson(out: Path) -> None:
    features = [
        _feature(pid, {"type": "Point", "coordinates": [lon, lat]}, cat, desc, local)
        for pid, lon, lat, cat, desc, local in PROBLEMS
    ]
    collection = {
        "type": "FeatureCollection",
        "name": "problems",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": features,
    }
    text = json.dumps(collection, ensure_ascii=False, indent=1)
    (out / "legacy_crs.geojson").write_text(text, encoding="utf-8")


def _mixed_geojson(out: Path) -> None:
    pid, lon, lat, cat, desc, local = PROBLEMS[0]
    features = [
        _feature(pid, {"type": "Point", "coordinates": [lon, lat]}, cat, desc, local),
        _feature(
            "L1",
            {"type": "LineString", "coordinates": [[120.85, 32.01], [120.86, 32.02]]},
            "illegal_ads",
            "沿街小广告",
            local,
        ),
        _feature(
            "G1",
            {
                "type": "Polygon",
                "coordinates": [[[120.9, 32.0], [120.91, 32.0], [120.91, 32.01], [120.9, 32.0]]],
            },
            "litter",
            "片区垃圾",
            local,
        ),
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    (out / "mixed_geometries.geojson").write_text(text, encoding="utf-8")


def _frame() -> object:
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {
            "id": [p[0] for p in PROBLEMS],
            "category": [p[3] for p in PROBLEMS],
            "descriptio": [p[4] for p in PROBLEMS],  # Shapefile names stop at 10 characters
            "found_at": [p[5] for p in PROBLEMS],
        },
        geometry=gpd.points_from_xy([p[1] for p in PROBLEMS], [p[2] for p in PROBLEMS]),
        crs=4326,
    )


def _gpkg(out: Path) -> None:
    path = out / "problems.gpkg"
    path.unlink(missing_ok=True)
    frame = _frame().to_crs(32651)  # type: ignore[attr-defined]
    frame.to_file(path, layer="problems", driver="GPKG", engine="pyogrio")


def _shapefiles(out: Path) -> None:
    folder = out / "problems_shp"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    _frame().to_file(  # type: ignore[attr-defined]
        folder / "problems.shp", driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8"
    )
    with zipfile.ZipFile(out / "problems_shp.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.iterdir()):
            info = zipfile.ZipInfo(part.name, date_time=(2024, 5, 3, 9, 0, 0))
            archive.writestr(info, part.read_bytes(), zipfile.ZIP_DEFLATED)


def _gcj02_csv(out: Path) -> None:
    from geo.core.crs import wgs84_to_gcj02

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "lng", "lat", "category", "found_at"])
    for pid, lon, lat, cat, _, local in PROBLEMS:
        glon, glat = wgs84_to_gcj02(lon, lat)
        writer.writerow([pid, f"{float(glon):.7f}", f"{float(glat):.7f}", cat, local])
    (out / "gcj02.csv").write_text(buffer.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    for written in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(written)
