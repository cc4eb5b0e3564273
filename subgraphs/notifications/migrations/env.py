"""Alembic environment of the notifications database."""

from shared.alembic_env import run_migrations
from subgraphs.notifications.models import Base

run_migrations(Base.metadata)
