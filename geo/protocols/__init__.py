"""Standard interfaces over the data: OGC API – Features, Open311 GeoReport v2,
the problem API and their OpenAPI documents; framework-free (web/ adapts them to Flask).

Imports: the packages below it (core → export).
"""
