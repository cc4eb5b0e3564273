"""Alembic environment of the delivery database."""

from shared.alembic_env import run_migrations
from subgraphs.delivery.models import Base

run_migrations(Base.metadata)
