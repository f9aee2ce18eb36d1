"""Machine interfaces: the JSON API (/api/v1), heat, exports, OGC API Features,
Open311 and the OpenAPI documents.

Imports: web.security and web's infrastructure modules.
"""
