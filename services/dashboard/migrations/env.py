"""Alembic environment of the dashboard service (see shared/migrations.py)."""

from services.dashboard.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
