"""The city's geography: loading areas (district → grid) and inspection points,
assigning lon/lat to the finest area, linking problems to nearby points, responsible units,
reassignment after a boundary change, geometry quality checks.

Imports: geo.core, geo.storage, geo.summary.
"""
