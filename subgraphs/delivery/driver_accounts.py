"""Driver accounts: delivery's drivers kept in line with the accounts users announces.

Users' ``UserRegistered`` introduces a driver (:func:`register_driver`); its account events
(roles changed, deactivated, reactivated) are applied by :func:`apply_account_change`,
which decides whether the driver may still be dispatched, and when a move to another store
or going off duty takes effect. The consumers in :mod:`subgraphs.delivery.events` call
these through :mod:`subgraphs.delivery.service`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.delivery.dispatch import active_deliveries
from subgraphs.delivery.models import Delivery, Driver


def first_name_of(full_name: str) -> str:
    """The first word of a full name (what customers see), as users' ``User.firstName``."""
    return (full_name.strip().split(" ", 1)[0] or full_name)[:100]


def is_dispatchable(*, roles: Collection[str], store_id: str | None, active: bool) -> bool:
    """Whether users' account is one delivery may dispatch: active, role DRIVER, a store."""
    return active and "DRIVER" in roles and bool(store_id)


def go_off_duty(driver: Driver) -> None:
    """OFF_DUTY, at the store users moved them to if a move was waiting."""
    driver.status = "OFF_DUTY"
    driver.available_since = None
    if driver.next_store_id:
        driver.store_id, driver.next_store_id = driver.next_store_id, None


async def register_driver(
    *,
    session: AsyncSession,
    driver_id: str,
    first_name: str,
    store_id: str,
    changed_at: datetime | None = None,
) -> Driver:
    """A new driver account (users' ``UserRegistered``): OFF_DUTY at their store.

    A driver already known keeps their row as it is (status, position, vehicle): the
    event introduces drivers, it never resets one (redeliveries, demo drivers).
    ``changed_at`` is when users made the account (see :func:`apply_account_change`).
    """
    driver = await session.get(Driver, driver_id)
    if driver is not None:
        return driver
    driver = Driver(
        id=driver_id,
        first_name=first_name,
        store_id=store_id,
        status="OFF_DUTY",
        active=True,
        account_changed_at=changed_at,
    )
    session.add(driver)
    await session.flush()
    return driver


@dataclass(slots=True)
class AccountChange:
    """What a change of a user's account did to delivery's driver (the consumer logs it)."""

    driver: Driver | None
    """The driver row, None when the account is not (and was never) a driver here."""
    stale: bool = False
    """The change is older than the last one applied: nothing was done."""
    carrying: list[Delivery] = field(default_factory=list)
    """Deliveries the driver still carries: they stay theirs (staff can reassign them)."""


async def apply_account_change(
    *,
    session: AsyncSession,
    driver_id: str,
    first_name: str,
    roles: Collection[str],
    store_id: str | None,
    active: bool,
    changed_at: datetime | None = None,
) -> AccountChange:
    """Bring a driver in line with their account in users (roles, store, active).

    - A dispatchable account (:func:`is_dispatchable`) unknown here becomes an OFF_DUTY
      driver of its store; an account that is not one and has no driver row is ignored.
    - A driver who is no longer dispatchable (role DRIVER taken away, account
      deactivated) is ``active`` false: never a dispatch candidate, cannot go on duty or
      be assigned by staff. They go OFF_DUTY at once when carrying nothing, else when
      their last order ends; orders they carry stay theirs (``carrying``) until then or
      until staff reassign them. Dispatchable again (reactivated, role given back):
      ``active`` again, still OFF_DUTY until they go on duty themselves.
    - A move to another store (role DRIVER kept) applies at once to a driver carrying
      nothing, who goes OFF_DUTY (they go on duty at the new store); a driver carrying
      orders moves when their last one ends (``next_store_id``).
    - ``changed_at`` (when users made the change) older than the change applied last is
      ignored (``stale``): account events travel on different streams and may arrive
      out of order. Redeliveries are the caller's concern (``record_event``).
    """
    dispatchable = is_dispatchable(roles=roles, store_id=store_id, active=active)
    driver = await session.get(Driver, driver_id, with_for_update=True)
    if driver is None:
        if not dispatchable or store_id is None:
            return AccountChange(driver=None)
        driver = await register_driver(
            session=session,
            driver_id=driver_id,
            first_name=first_name,
            store_id=store_id,
            changed_at=changed_at,
        )
        return AccountChange(driver=driver)
    last = driver.account_changed_at
    if changed_at is not None and last is not None and changed_at < last:
        return AccountChange(driver=driver, stale=True)
    driver.account_changed_at = changed_at or last
    driver.active = dispatchable
    carrying = await active_deliveries(session=session, driver_id=driver.id)
    if "DRIVER" in roles and store_id:
        driver.next_store_id = store_id if store_id != driver.store_id else None
    else:
        driver.next_store_id = None  # not a driver any more: they stay where they were
    if not carrying and (not dispatchable or driver.next_store_id):
        go_off_duty(driver)
    await session.flush()
    return AccountChange(driver=driver, carrying=carrying)
