"""A problem's life after it is found: transitions (assign, rectify, verify,
reopen, extend, hold, void…), the problem view and its actions, photos.

Imports: the packages below it (core, storage, access, summary, areas).
"""
