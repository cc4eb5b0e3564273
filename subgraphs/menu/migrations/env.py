"""Alembic environment of the menu database."""

from shared.alembic_env import run_migrations
from subgraphs.menu.models import Base

run_migrations(Base.metadata)
