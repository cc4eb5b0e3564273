"""Alembic environment of the orders database."""

import subgraphs.orders.coupons  # noqa: F401  (registers order_coupons in Base.metadata)
from shared.alembic_env import run_migrations
from subgraphs.orders.models import Base

run_migrations(Base.metadata)
