"""Survey files and reports arriving: the chunked pipeline and its result,
column mapping, row validation, visits carried by surveys, single-report intake, uploads;
``sources/`` reads CSV, XLSX and vector files.

Imports: the packages below it (core → rounds).
"""
