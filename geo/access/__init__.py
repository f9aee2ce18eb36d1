"""Who may see and do what: roles, the permission table, area scopes and scope
filters, users and sessions, API tokens, the audit log.

Imports: geo.core, geo.storage.
"""
