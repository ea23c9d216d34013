"""Alembic environment of the registration service (see shared/migrations.py)."""

from services.registration.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
