"""Alembic environment of the geo database."""

from shared.alembic_env import run_migrations
from subgraphs.geo.models import Base

run_migrations(Base.metadata)
