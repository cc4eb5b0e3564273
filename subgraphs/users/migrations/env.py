"""Alembic environment of the users database."""

from shared.alembic_env import run_migrations
from subgraphs.users.models import Base

run_migrations(Base.metadata)
