"""Counts kept at write time so that reads do not scan problems: the per-area
summary cubes (heat maps) and the rate summary (rankings), their batch counting in pandas,
the merge into the tables, and rebuild/check.

Imports: geo.core, geo.storage.
"""
