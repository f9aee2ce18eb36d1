"""The ``civicgrid`` command line: thin click wrappers over geo/, sharing the
engine and error handling in ``common``.

Imports: web's infrastructure modules and web.security; never a blueprint's views.
"""
