"""The demo city: builds a database from data/demo with areas, points, problems,
users and a round.

Imports: any geo package (the top layer).
"""
