"""Alembic environment of the orders database."""

from shared.alembic_env import run_migrations
from subgraphs.orders.models import Base

run_migrations(Base.metadata)
