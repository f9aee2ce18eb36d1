"""Authentication and authorisation for every request: login sessions, API
tokens, the access gate, CSRF, security headers; the login blueprint.

Imports: web's infrastructure modules (config, database, errors, i18n, assets).
"""
