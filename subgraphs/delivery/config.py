"""Configuration only delivery reads (``PIZZA_`` environment variables, pydantic-settings).

The trail retention itself is process-wide (``PIZZA_TRAIL_RETENTION_HOURS`` in
``shared.settings``, ADR 0012); how often delivery applies it is set here.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.subgraph import SubgraphRuntime

EXTRAS_KEY = "delivery_settings"


class DeliverySettings(BaseSettings):
    """What only delivery reads; the process-wide settings stay in ``shared.settings``."""

    model_config = SettingsConfigDict(env_prefix="PIZZA_", extra="ignore")

    trail_purge_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="how often delivery deletes the trails of deliveries finished longer "
        "than PIZZA_TRAIL_RETENTION_HOURS ago",
    )


def delivery_settings(runtime: SubgraphRuntime) -> DeliverySettings:
    """The delivery settings of this runtime (read from the environment once, unless given)."""
    return runtime.extras.setdefault(EXTRAS_KEY, DeliverySettings())
