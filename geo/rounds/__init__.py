"""Rounds of field evaluation: rounds, visits, coverage of inspection points,
rectification notices and their rendering.

Imports: the packages below it (core → lifecycle).
"""
