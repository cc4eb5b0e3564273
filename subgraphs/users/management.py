"""Admins manage accounts: staff, drivers, admins and partners; roles; (de)activation.

Plain async functions with keyword-only arguments over a SQLAlchemy session, like
``service.py``; the caller must be an ADMIN (FORBIDDEN otherwise). Rules:

- STAFF and DRIVER accounts belong to a store (STORE_REQUIRED without one); other roles
  carry no store (STORE_NOT_ALLOWED).
- Admins cannot take the ADMIN role from themselves nor deactivate themselves, so the
  chain never locks its last admin out by accident.
- A deactivated account cannot sign in or refresh: its refresh tokens are revoked at
  once. Access tokens already issued stay valid until they expire (15 minutes).
- Every change is announced in the caller's transaction (``events``, through the outbox):
  ``UserRolesChanged`` when the roles or the store changed, ``UserDeactivated`` /
  ``UserReactivated`` when ``active`` flipped. A call that changes nothing announces nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import ROLES, Principal, require_role
from shared.db import utcnow
from shared.errors import Conflict, DomainError
from subgraphs.users import events, service
from subgraphs.users.models import RefreshToken, User

STORE_ROLES = frozenset({"STAFF", "DRIVER"})


def check_roles(roles: Sequence[str], store_id: str | None) -> tuple[list[str], str | None]:
    """Distinct known roles, at least one, and the store they need (or none)."""
    distinct = list(dict.fromkeys(roles))
    if not distinct:
        raise DomainError("Give at least one role.", code="INVALID_ROLE", field="roles")
    unknown = set(distinct) - set(ROLES)
    if unknown:
        raise DomainError(
            f"Unknown roles: {', '.join(sorted(unknown))}.", code="INVALID_ROLE", field="roles"
        )
    store_id = (store_id or "").strip() or None
    if STORE_ROLES & set(distinct):
        if store_id is None:
            raise DomainError(
                "Staff and drivers belong to a store.", code="STORE_REQUIRED", field="storeId"
            )
    elif store_id is not None:
        raise DomainError(
            "Only staff and drivers belong to a store.", code="STORE_NOT_ALLOWED", field="storeId"
        )
    return distinct, store_id


async def create_user(
    *,
    session: AsyncSession,
    principal: Principal | None,
    email: str,
    name: str,
    password: str,
    roles: Sequence[str],
    store_id: str | None = None,
    phone: str | None = None,
) -> User:
    """An account with any roles (admin only)."""
    require_role(principal, "ADMIN")
    roles, store_id = check_roles(roles, store_id)
    return await service.register(
        session=session,
        email=email,
        password=password,
        name=name,
        phone=phone,
        roles=roles,
        store_id=store_id,
    )


async def update_user_roles(
    *,
    session: AsyncSession,
    principal: Principal | None,
    user_id: str,
    roles: Sequence[str],
    store_id: str | None = None,
) -> User:
    """Replace a user's roles and store (admin only); effective from their next token.

    Stages ``UserRolesChanged`` when either changed.
    """
    caller = require_role(principal, "ADMIN")
    roles, store_id = check_roles(roles, store_id)
    user = await service.get_user(session=session, user_id=user_id)
    if user.id == caller.user_id and "ADMIN" not in roles:
        raise Conflict(
            "You cannot take the ADMIN role from yourself.",
            code="CANNOT_DEMOTE_SELF",
            field="roles",
        )
    changed = set(user.role_list) != set(roles) or user.store_id != store_id
    user.roles = ",".join(roles)
    user.store_id = store_id
    await session.flush()
    if changed:
        await events.stage_user_roles_changed(session, user)
    return user


async def revoke_refresh_tokens(*, session: AsyncSession, user_id: str) -> int:
    """Revoke every live refresh token of ``user_id``; returns how many."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0


async def set_user_active(
    *, session: AsyncSession, principal: Principal | None, user_id: str, active: bool
) -> User:
    """Deactivate (sign-in refused, refresh tokens revoked) or reactivate an account.

    Stages ``UserDeactivated`` or ``UserReactivated`` when ``active`` changed.
    """
    caller = require_role(principal, "ADMIN")
    user = await service.get_user(session=session, user_id=user_id)
    if not active and user.id == caller.user_id:
        raise Conflict(
            "You cannot deactivate your own account.", code="CANNOT_DEACTIVATE_SELF", field="userId"
        )
    changed = user.active != active
    if not active and user.active:
        user.active = False
        user.deactivated_at = utcnow()
        await revoke_refresh_tokens(session=session, user_id=user.id)
    elif active:
        user.active = True
        user.deactivated_at = None
    await session.flush()
    if changed:
        await events.stage_user_active_changed(session, user)
    return user
