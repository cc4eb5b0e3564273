"""Who may see what in delivery: the store's staff, the order's customer, its driver.

Plain predicates on the caller (:class:`shared.auth.Principal`, None when anonymous) that
the GraphQL layer and :mod:`subgraphs.delivery.service` check before reading or acting.
"""

from __future__ import annotations

from shared.auth import Principal
from subgraphs.delivery.models import Delivery, Driver


def is_staff_of(principal: Principal | None, store_id: str) -> bool:
    """Admins run every store; staff run the store in their token."""
    if principal is None:
        return False
    return principal.has_role("ADMIN") or (
        principal.has_role("STAFF") and principal.store_id == store_id
    )


def can_track(principal: Principal | None, delivery: Delivery) -> bool:
    """The customer of the order, its driver, and the store's staff see a delivery."""
    if principal is None:
        return False
    return principal.user_id in (delivery.customer_id, delivery.driver_id) or is_staff_of(
        principal, delivery.store_id
    )


def can_see_position(principal: Principal | None, driver: Driver) -> bool:
    """A driver's live position: the driver and their store's staff (customers use tracking)."""
    return principal is not None and (
        principal.user_id == driver.id or is_staff_of(principal, driver.store_id)
    )
