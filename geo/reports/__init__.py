"""What supervisors read: heat by area and its filters, point density, area
shapes, problem lists, statistics and rates, rankings, scores, the bulletin and the map
builders.

Imports: the packages below it (core → ingest).
"""
