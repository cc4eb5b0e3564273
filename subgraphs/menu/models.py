"""The menu database: categories, products and variants, toppings, store availability, coupons.

Money is stored as integer minor units in the chain's one currency
(:data:`subgraphs.menu.service.CURRENCY`). Availability rows exist only where a
store overrides the default (everything is available unless a row says otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the menu database only (never shared across subgraphs)."""


class Category(Base):
    """A section of the menu (Pizza, Sides...); sub-categories point at their parent."""

    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Product(Base):
    """Something on the menu, e.g. "Pepperoni Pizza"; sold as one or more variants."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), index=True)
    is_pizza: Mapped[bool] = mapped_column(Boolean, default=False)
    image_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Variant(Base):
    """A product in one size and crust (pizzas) or one pack size (sides, drinks), with its price."""

    __tablename__ = "variants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    size_inches: Mapped[int | None] = mapped_column(Integer)
    crust: Mapped[str | None] = mapped_column(String(20))
    price: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Topping(Base):
    """A topping; ``exclusive`` means at most one of its group per pizza (sauces)."""

    __tablename__ = "toppings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    group: Mapped[str] = mapped_column(String(20))
    whole_only: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ToppingPrice(Base):
    """The price of one portion of a topping on the whole pizza of one size."""

    __tablename__ = "topping_prices"

    topping_id: Mapped[str] = mapped_column(
        ForeignKey("toppings.id", ondelete="CASCADE"), primary_key=True
    )
    size_inches: Mapped[int] = mapped_column(Integer, primary_key=True)
    price: Mapped[int] = mapped_column(Integer)


class DefaultTopping(Base):
    """A topping a product comes with (on the whole pizza)."""

    __tablename__ = "default_toppings"

    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    topping_id: Mapped[str] = mapped_column(ForeignKey("toppings.id"), primary_key=True)
    amount: Mapped[str] = mapped_column(String(10), default="NORMAL")
    position: Mapped[int] = mapped_column(Integer, default=0)


class VariantAvailability(Base):
    """A store's override of whether it sells a variant (e.g. no gluten-free dough)."""

    __tablename__ = "variant_availability"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    variant_id: Mapped[str] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True
    )
    available: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ToppingAvailability(Base):
    """A store's override of whether it has a topping (e.g. out of anchovies)."""

    __tablename__ = "topping_availability"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    topping_id: Mapped[str] = mapped_column(
        ForeignKey("toppings.id", ondelete="CASCADE"), primary_key=True
    )
    available: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Coupon(Base):
    """A discount code under conditions: a percentage or a fixed amount off, a bundle price
    (``bundle_items`` for ``bundle_price``) or quantity tiers (``tiers`` over ``tier_category``).

    ``bundle_items``: ``[{"categoryCode", "size", "maxToppings", "quantity"}]`` (size and
    maxToppings may be null: any); ``tiers``: ``[{"minQuantity", "percentOff"}]``.
    """

    __tablename__ = "coupons"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    service_methods: Mapped[str] = mapped_column(String(40), default="DELIVERY,CARRYOUT")
    minimum_subtotal: Mapped[int] = mapped_column(Integer, default=0)
    percent_off: Mapped[int | None] = mapped_column(Integer)
    amount_off: Mapped[int | None] = mapped_column(Integer)
    combinable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    bundle_price: Mapped[int | None] = mapped_column(Integer)
    bundle_items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    tiers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    tier_category: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    @property
    def kind(self) -> str:
        """PERCENT, AMOUNT, BUNDLE or TIERED."""
        if self.bundle_price is not None:
            return "BUNDLE"
        if self.tiers:
            return "TIERED"
        return "PERCENT" if self.percent_off is not None else "AMOUNT"

    @property
    def service_method_list(self) -> list[str]:
        """Service methods as a list."""
        return [m for m in self.service_methods.split(",") if m]
