"""Alembic environment of the certificates service (see shared/migrations.py)."""

from services.certificates.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
