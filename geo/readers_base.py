"""Names shared by the survey readers (geo/readers.py, geo/xlsx.py, geo/vector_survey.py)."""

from __future__ import annotations

ROW = "__row__"
"""Column holding the row number the user sees (header = row 1; feature number for vectors)."""

READ_ERROR = "__read_error__"
"""Column holding a reason ("zh / en") when the reader could not use a row as it is."""
