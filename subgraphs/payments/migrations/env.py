"""Alembic environment of the payments database."""

from shared.alembic_env import run_migrations
from subgraphs.payments.models import Base

run_migrations(Base.metadata)
