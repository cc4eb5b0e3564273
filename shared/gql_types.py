"""GraphQL value types and enums every subgraph shares (all ``@shareable``).

They must be defined identically wherever they appear, so subgraphs import them
from here rather than declaring their own.
"""

from __future__ import annotations

import base64
from enum import Enum

import strawberry


@strawberry.federation.type(shareable=True, description="An amount of money in minor units.")
class Money:
    amount: int = strawberry.field(description="Amount in minor units (cents), never a float.")
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. USD.")


@strawberry.federation.type(shareable=True, description="A point on Earth (WGS 84).")
class GeoPoint:
    lat: float = strawberry.field(description="Latitude in degrees.")
    lng: float = strawberry.field(description="Longitude in degrees.")


@strawberry.input(description="A point on Earth (WGS 84).")
class GeoPointInput:
    lat: float = strawberry.field(description="Latitude in degrees, -90..90.")
    lng: float = strawberry.field(description="Longitude in degrees, -180..180.")


@strawberry.enum(description="How the customer gets the order.")
class ServiceMethod(Enum):
    DELIVERY = strawberry.enum_value("DELIVERY", description="A driver brings it to an address.")
    CARRYOUT = strawberry.enum_value(
        "CARRYOUT", description="The customer picks it up at the store."
    )


@strawberry.federation.type(shareable=True, description="Relay pagination state of a connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow the last edge.")
    has_previous_page: bool = strawberry.field(description="Items precede the first edge.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge.")


def money(amount: int, currency: str) -> Money:
    """A Money value (amount in minor units)."""
    return Money(amount=amount, currency=currency)


def page_info(*, offset: int, count: int, total: int, cursors: list[str]) -> PageInfo:
    """The PageInfo of ``count`` items starting at ``offset`` out of ``total`` (offset paging)."""
    return PageInfo(
        has_next_page=offset + count < total,
        has_previous_page=offset > 0,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def encode_cursor(offset: int) -> str:
    """An opaque cursor for a position in a list."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor names; -1 for none. Raises ValueError when malformed."""
    if cursor is None:
        return -1
    raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    if not raw.startswith("o:"):
        raise ValueError(cursor)
    return int(raw[2:])


@strawberry.enum(description="Which part of the pizza a topping covers.")
class Placement(Enum):
    WHOLE = strawberry.enum_value("WHOLE", description="The whole pizza.")
    LEFT = strawberry.enum_value("LEFT", description="The left half.")
    RIGHT = strawberry.enum_value("RIGHT", description="The right half.")


@strawberry.enum(description="How much of a topping.")
class ToppingAmount(Enum):
    NONE = strawberry.enum_value("NONE", description="Leave it off (removes a default topping).")
    LIGHT = strawberry.enum_value("LIGHT", description="Less than usual.")
    NORMAL = strawberry.enum_value("NORMAL", description="The usual amount.")
    EXTRA = strawberry.enum_value(
        "EXTRA", description="One portion beyond the usual (priced as such)."
    )
    DOUBLE = strawberry.enum_value(
        "DOUBLE", description="Two portions beyond the usual (priced as such)."
    )


@strawberry.enum(description="How long the pizza bakes.")
class BakeOption(Enum):
    NORMAL = strawberry.enum_value("NORMAL", description="Standard bake.")
    WELL_DONE = strawberry.enum_value("WELL_DONE", description="Longer bake, crispier.")


@strawberry.enum(description="How the pizza is cut.")
class CutOption(Enum):
    PIE = strawberry.enum_value("PIE", description="Triangular slices.")
    SQUARE = strawberry.enum_value("SQUARE", description="Square pieces.")
    UNCUT = strawberry.enum_value("UNCUT", description="Not cut.")


@strawberry.input(description="One topping choice on a line.")
class ToppingChoiceInput:
    topping_code: str = strawberry.field(description="Code of the topping, e.g. PEPPERONI.")
    placement: Placement = strawberry.field(description="Whole pizza or one half.")
    amount: ToppingAmount = strawberry.field(
        description="How much; NONE removes a default topping."
    )


@strawberry.input(description="Cooking instructions of a line.")
class CookingInstructionsInput:
    bake: BakeOption = strawberry.field(default=BakeOption.NORMAL, description="Bake option.")
    cut: CutOption = strawberry.field(default=CutOption.PIE, description="Cut option.")
    seasoning: bool = strawberry.field(default=True, description="Garlic seasoning on the crust.")


@strawberry.input(description="One line of a cart: a variant, a quantity and its customization.")
class OrderLineInput:
    variant_id: strawberry.ID = strawberry.field(
        description="The product variant (size and crust)."
    )
    quantity: int = strawberry.field(description="How many, 1..25.")
    toppings: list[ToppingChoiceInput] | None = strawberry.field(
        default=None, description="Changes to the toppings; omitted keeps the defaults."
    )
    instructions: CookingInstructionsInput | None = strawberry.field(
        default=None, description="Cooking instructions."
    )
