"""Alembic environment of the survey service (see shared/migrations.py)."""

from services.survey.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
