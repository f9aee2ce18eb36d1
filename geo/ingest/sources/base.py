"""Names shared by the survey readers (survey.py, xlsx_file.py, vector_file.py)."""

from __future__ import annotations

ROW = "__row__"
"""Column holding the row number the user sees (header = row 1; feature number for vectors)."""

READ_ERROR = "__read_error__"
"""Column holding a reason ("zh / en") when the reader could not use a row as it is."""
