"""Alembic environment of the reviews database."""

from shared.alembic_env import run_migrations
from subgraphs.reviews.models import Base

run_migrations(Base.metadata)
