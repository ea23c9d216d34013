"""Alembic environment of the consultation service (see shared/migrations.py)."""

from services.consultation.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
