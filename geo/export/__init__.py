"""Exports of problems, points and areas (GeoJSON, GeoJSONSeq, CSV, XLSX, GPKG),
streamed in chunks: the request, the fields, the queries, the encoders and the writers.

Imports: the packages below it (core → reports).
"""
