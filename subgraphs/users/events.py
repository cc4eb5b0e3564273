"""What users publishes (through the outbox) and consumes (nothing yet).

Every event about an account carries the account as it is after the change (``userId``,
``name``, ``roles``, ``storeId``, ``active``), so a consumer never has to ask users, and
one arriving late (Redis Streams keeps one stream per event type) can be recognised by
the envelope's ``occurredAt``:

- ``UserRegistered`` — a new account (also ``email``);
- ``UserRolesChanged`` — an admin changed its roles or store;
- ``UserDeactivated`` / ``UserReactivated`` — an admin switched it off or on again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.users.models import User

SOURCE = "users"


def account_payload(user: User) -> dict[str, Any]:
    """The account as every account event describes it."""
    return {
        "userId": user.id,
        "name": user.name,
        "roles": user.role_list,
        "storeId": user.store_id,
        "active": user.active,
    }


async def _stage(session: AsyncSession, event_type: str, payload: dict[str, Any]) -> None:
    await outbox.stage(session, Event(type=event_type, source=SOURCE, payload=payload))


async def stage_user_registered(session: AsyncSession, user: User) -> None:
    """Announce a new account (notifications greets it; delivery adds new drivers)."""
    await _stage(session, "UserRegistered", {**account_payload(user), "email": user.email})


async def stage_user_roles_changed(session: AsyncSession, user: User) -> None:
    """An admin changed the account's roles or store (delivery adds, moves or retires drivers)."""
    await _stage(session, "UserRolesChanged", account_payload(user))


async def stage_user_active_changed(session: AsyncSession, user: User) -> None:
    """``UserDeactivated`` or ``UserReactivated``, after the account's new ``active``."""
    event_type = "UserReactivated" if user.active else "UserDeactivated"
    await _stage(session, event_type, account_payload(user))


def register_consumers(runtime: SubgraphRuntime) -> None:
    """users consumes no events yet."""
