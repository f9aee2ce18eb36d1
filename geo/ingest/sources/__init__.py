"""Reading survey files as they arrive: the shared reader types (``base``),
format detection and opening (``survey``), and one reader per format.
"""
