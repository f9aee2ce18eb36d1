"""Foundations every other package uses: typed errors, coordinate systems
(WGS-84/CGCS2000/GCJ-02/BD-09), reporting periods, time parsing, the working calendar and
deadlines, the taxonomy, GeoJSON helpers, vector-file reading and upload safety.

Imports: nothing else from geo (the lowest layer).
"""
