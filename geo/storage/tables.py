"""The whole schema as mapped: every model module imported, so ``metadata`` holds every
table (Alembic's environment and the schema-drift test compare against it).

The models are split by owner: geo/storage/models.py (areas, points, problems, their
history, the summary tables), geo/storage/round_models.py (rounds, visits, notices),
geo/storage/access_models.py (users, tokens, scopes, audit),
geo/storage/publication_models.py (published rankings and bulletins).
"""

from __future__ import annotations

import sqlalchemy as sa

from geo.storage import access_models, publication_models, round_models
from geo.storage.models import Base

MODEL_MODULES = (access_models, round_models, publication_models)
"""The model modules besides geo/storage/models.py (imported for their tables)."""

metadata: sa.MetaData = Base.metadata
