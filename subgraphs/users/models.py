"""The users database: accounts, saved addresses and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.crypto import EncryptedString
from shared.db import UTCDateTime
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the users database only (never shared across subgraphs)."""


class User(Base):
    """An account: customer, driver, staff, admin or partner."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(EncryptedString("users.phone"))  # encrypted at rest
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(200), default="CUSTOMER")
    store_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A deactivated account cannot sign in or refresh; admins can reactivate it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    addresses: Mapped[list[Address]] = relationship(
        back_populates="user", order_by="Address.created_at"
    )

    @property
    def role_list(self) -> list[str]:
        """Roles as a list."""
        return [r for r in self.roles.split(",") if r]


class Address(Base):
    """A saved delivery address of a user."""

    __tablename__ = "addresses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(60))
    # Encrypted at rest (ADR 0012): the street lines and the courier instructions.
    line1: Mapped[str] = mapped_column(EncryptedString("addresses.line1"))
    line2: Mapped[str | None] = mapped_column(EncryptedString("addresses.line2"))
    city: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    instructions: Mapped[str | None] = mapped_column(EncryptedString("addresses.instructions"))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="addresses")


class RefreshToken(Base):
    """A refresh token, stored as a hash; rotated on every use."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata)
"""Events staged with the change that caused them, until the relay published them."""
