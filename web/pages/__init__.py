"""HTML pages for people: the overview, area pages, problems, rankings, rounds
and notices, with their forms.

Imports: web.security and web's infrastructure modules.
"""
