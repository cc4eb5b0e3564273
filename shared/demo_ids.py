"""Stable ids of the demo city's shared entities, so every subgraph's seed agrees.

Demo city: Austin, Texas (USD, America/Chicago). Each subgraph seeds only its own
tables; these ids are how their rows refer to each other's entities.
"""

from __future__ import annotations

from shared.ids import demo_id

CITY = "Austin"
CURRENCY = "USD"
TIME_ZONE = "America/Chicago"

STORE_DOWNTOWN = demo_id("sto", "downtown")
STORE_SOUTH_LAMAR = demo_id("sto", "south-lamar")
STORE_HYDE_PARK = demo_id("sto", "hyde-park")
STORE_EAST = demo_id("sto", "east-austin")
STORES = (STORE_DOWNTOWN, STORE_SOUTH_LAMAR, STORE_HYDE_PARK, STORE_EAST)

ADMIN_USER = demo_id("usr", "admin")
CUSTOMER_USER = demo_id("usr", "customer")
STAFF_DOWNTOWN = demo_id("usr", "staff-downtown")
DRIVERS = {
    demo_id("usr", "driver-ana"): ("Ana", STORE_DOWNTOWN),
    demo_id("usr", "driver-ben"): ("Ben", STORE_DOWNTOWN),
    demo_id("usr", "driver-carla"): ("Carla", STORE_SOUTH_LAMAR),
    demo_id("usr", "driver-dev"): ("Dev", STORE_HYDE_PARK),
    demo_id("usr", "driver-eli"): ("Eli", STORE_EAST),
}
"""Driver user id -> (first name, home store). A driver's id is their user id."""

DEMO_PASSWORD = "pizza-demo-1"
"""Password of every demo account (documented in the README; demo only)."""
