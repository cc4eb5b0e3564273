"""Users' rules: registration, sign-in with rotating refresh tokens, addresses.

Plain async functions with keyword-only arguments over a SQLAlchemy session;
no GraphQL here. They raise :class:`shared.errors.DomainError` subclasses.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import ROLES, Principal, issue_access_token
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated
from shared.ids import new_id
from shared.settings import Settings
from subgraphs.users.models import Address, RefreshToken, User

_hasher = PasswordHasher()
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
MAX_ADDRESSES = 20


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a successful sign-in returns."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def _check_password_rules(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            code="WEAK_PASSWORD",
            field=field,
        )


def _normalize_email(email: str) -> str:
    normalized = email.strip().lower()
    if not EMAIL_RE.match(normalized):
        raise DomainError("That is not an email address.", code="INVALID_EMAIL", field="email")
    return normalized


async def register(
    *,
    session: AsyncSession,
    email: str,
    password: str,
    name: str,
    phone: str | None = None,
    roles: list[str] | None = None,
    store_id: str | None = None,
) -> User:
    """Create an account (a customer unless ``roles`` says otherwise)."""
    email = _normalize_email(email)
    if not name.strip():
        raise DomainError("The name must not be empty.", code="INVALID_NAME", field="name")
    _check_password_rules(password, "password")
    roles = roles or ["CUSTOMER"]
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise DomainError(f"Unknown roles: {', '.join(sorted(unknown))}.", code="INVALID_ROLE")
    if await session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(
            "An account with this email exists already.", code="EMAIL_TAKEN", field="email"
        )
    user = User(
        id=new_id("usr"),
        email=email,
        name=name.strip(),
        phone=phone,
        password_hash=hash_password(password),
        roles=",".join(roles),
        store_id=store_id,
        created_at=utcnow(),
    )
    session.add(user)
    await session.flush()
    return user


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_tokens(*, session: AsyncSession, settings: Settings, user: User) -> TokenPair:
    refresh = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=new_id("rft"),
            user_id=user.id,
            token_hash=_hash_refresh(refresh),
            expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    access = issue_access_token(
        settings=settings, user_id=user.id, roles=user.role_list, store_id=user.store_id
    )
    return TokenPair(access, refresh, settings.access_token_ttl_seconds, user)


async def login(
    *, session: AsyncSession, settings: Settings, email: str, password: str
) -> TokenPair:
    """Check the password and issue an access token and a refresh token."""
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        if user is None:
            raise VerifyMismatchError
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError) as exc:
        raise Unauthenticated("Wrong email or password.") from exc
    if not user.active:
        raise Unauthenticated("This account is deactivated; ask an admin to reactivate it.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return await issue_tokens(session=session, settings=settings, user=user)


async def refresh(*, session: AsyncSession, settings: Settings, refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old one stops working (rotation)."""
    row = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _hash_refresh(refresh_token))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated("The refresh token is not valid: sign in again.")
    row.revoked_at = utcnow()
    user = await session.get(User, row.user_id)
    if user is None:
        raise Unauthenticated("The account no longer exists.")
    if not user.active:
        raise Unauthenticated("This account is deactivated; ask an admin to reactivate it.")
    return await issue_tokens(session=session, settings=settings, user=user)


async def logout(*, session: AsyncSession, principal: Principal) -> int:
    """Revoke every refresh token of the caller; returns how many were active."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == principal.user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0


async def change_password(
    *, session: AsyncSession, principal: Principal, current_password: str, new_password: str
) -> User:
    """Replace the caller's password after checking the current one; signs out other devices."""
    user = await get_user(session=session, user_id=principal.user_id)
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerifyMismatchError, InvalidHashError) as exc:
        raise DomainError(
            "The current password is wrong.", code="WRONG_PASSWORD", field="currentPassword"
        ) from exc
    _check_password_rules(new_password, "newPassword")
    user.password_hash = hash_password(new_password)
    await logout(session=session, principal=principal)
    return user


async def get_user(*, session: AsyncSession, user_id: str) -> User:
    """The user with ``user_id``; NOT_FOUND otherwise."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user has id {user_id!r}.")
    return user


async def list_users(
    *,
    session: AsyncSession,
    offset: int,
    limit: int,
    role: str | None = None,
    search: str | None = None,
    active: bool | None = None,
) -> tuple[list[User], int]:
    """A page of users (admin), newest first, and the total count.

    ``search`` matches a substring of the email or the name, ignoring case.
    """
    conditions = []
    if role:
        conditions.append(User.roles.contains(role))
    if search and search.strip():
        term = search.strip().lower()
        conditions.append(
            func.lower(User.email).contains(term, autoescape=True)
            | func.lower(User.name).contains(term, autoescape=True)
        )
    if active is not None:
        conditions.append(User.active.is_(active))
    query = select(User).where(*conditions)
    count = select(func.count(User.id)).where(*conditions)
    rows = await session.scalars(
        query.order_by(User.created_at.desc(), User.id).offset(offset).limit(limit)
    )
    return list(rows), int(await session.scalar(count) or 0)


async def add_address(
    *,
    session: AsyncSession,
    principal: Principal,
    label: str,
    line1: str,
    city: str,
    postcode: str,
    line2: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    instructions: str | None = None,
    make_default: bool = False,
) -> Address:
    """Save an address for the caller; the first one becomes the default."""
    for field, value in (
        ("label", label),
        ("line1", line1),
        ("city", city),
        ("postcode", postcode),
    ):
        if not value.strip():
            raise DomainError(
                f"The address {field} must not be empty.", code="INVALID_ADDRESS", field=field
            )
    if (lat is None) != (lng is None) or (
        lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)
    ):
        raise DomainError(
            "The location must have a valid latitude and longitude.",
            code="INVALID_LOCATION",
            field="location",
        )
    existing = list(
        await session.scalars(select(Address).where(Address.user_id == principal.user_id))
    )
    if len(existing) >= MAX_ADDRESSES:
        raise DomainError(
            f"At most {MAX_ADDRESSES} addresses can be saved.", code="TOO_MANY_ADDRESSES"
        )
    make_default = make_default or not existing
    if make_default:
        for other in existing:
            other.is_default = False
    address = Address(
        id=new_id("adr"),
        user_id=principal.user_id,
        label=label.strip(),
        line1=line1.strip(),
        line2=line2,
        city=city.strip(),
        postcode=postcode.strip(),
        lat=lat,
        lng=lng,
        instructions=instructions,
        is_default=make_default,
        created_at=utcnow(),
    )
    session.add(address)
    await session.flush()
    return address


async def _owned_address(
    *, session: AsyncSession, principal: Principal, address_id: str
) -> Address:
    address = await session.get(Address, address_id)
    if address is None or address.user_id != principal.user_id:
        # Same answer whether it does not exist or belongs to someone else (no IDOR oracle).
        raise NotFound(f"No address of yours has id {address_id!r}.")
    return address


async def update_address(
    *, session: AsyncSession, principal: Principal, address_id: str, changes: dict[str, object]
) -> Address:
    """Change fields of one of the caller's addresses."""
    address = await _owned_address(session=session, principal=principal, address_id=address_id)
    for key, value in changes.items():
        if key in {"label", "line1", "city", "postcode"} and (
            not isinstance(value, str) or not value.strip()
        ):
            raise DomainError(
                f"The address {key} must not be empty.", code="INVALID_ADDRESS", field=key
            )
        setattr(address, key, value)
    return address


async def remove_address(*, session: AsyncSession, principal: Principal, address_id: str) -> None:
    """Delete one of the caller's addresses; another becomes default if needed."""
    address = await _owned_address(session=session, principal=principal, address_id=address_id)
    was_default = address.is_default
    await session.delete(address)
    await session.flush()
    if was_default:
        other = await session.scalar(
            select(Address).where(Address.user_id == principal.user_id).order_by(Address.created_at)
        )
        if other is not None:
            other.is_default = True


async def set_default_address(
    *, session: AsyncSession, principal: Principal, address_id: str
) -> Address:
    """Make one of the caller's addresses the default."""
    address = await _owned_address(session=session, principal=principal, address_id=address_id)
    for other in await session.scalars(select(Address).where(Address.user_id == principal.user_id)):
        other.is_default = other.id == address.id
    return address


def can_read_user(principal: Principal | None, user_id: str) -> bool:
    """Users see themselves; staff and admins see everyone."""
    return principal is not None and (principal.user_id == user_id or principal.is_staff)


def ensure_can_read_user(principal: Principal | None, user_id: str) -> None:
    """FORBIDDEN unless :func:`can_read_user`."""
    if not can_read_user(principal, user_id):
        raise Forbidden("You can only read your own account.")
