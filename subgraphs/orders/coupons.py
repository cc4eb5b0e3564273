"""Coupons on orders: asking menu what the codes take off a cart, and keeping what applied.

Enters: the cart's codes (``couponCode`` and/or ``couponCodes``) and lines. Menu decides
(``quoteCoupons``, see docs/contracts.md): validity window, service method, minimum
subtotal, bundles, tiers, combinability. Leaves: :class:`AppliedCoupon` values, or menu's
DomainError with ``field`` rewritten to the input the customer sent (``couponCode`` or
``couponCodes[i]``). The applied coupons of a placed order are kept in ``order_coupons``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.errors import DomainError
from shared.settings import Settings
from shared.subgraph_client import call_subgraph
from subgraphs.orders.models import Base

if TYPE_CHECKING:
    from subgraphs.orders.catalog import CartLine

MAX_CODES = 5
"""Most coupon codes on one order (menu has the same cap)."""


@dataclass(frozen=True, slots=True)
class AppliedCoupon:
    """What one coupon took off the order, in minor units of ``currency``."""

    code: str
    description: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class CodeInput:
    """A normalized code and the input field it came from."""

    code: str
    field: str


class OrderCoupon(Base):
    """A coupon applied to a placed order, with what it took off (kept for receipts, reports)."""

    __tablename__ = "order_coupons"

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))


def code_inputs(coupon_code: str | None, coupon_codes: Sequence[str]) -> list[CodeInput]:
    """The cart's codes, upper-cased, blanks dropped, the same code once (first wins)."""
    given = [(coupon_code, "couponCode")] if coupon_code is not None else []
    given += [(c, f"couponCodes[{i}]") for i, c in enumerate(coupon_codes)]
    seen: dict[str, CodeInput] = {}
    for raw, field in given:
        code = raw.strip().upper()
        if code and code not in seen:
            seen[code] = CodeInput(code, field)
    if len(seen) > MAX_CODES:
        raise DomainError(
            f"At most {MAX_CODES} coupons per order.", code="TOO_MANY_COUPONS", field="couponCodes"
        )
    return list(seen.values())


def _input_field(error: DomainError, codes: Sequence[CodeInput]) -> str | None:
    field = error.field or ""
    if field.startswith("codes[") and field.endswith("]"):
        index = int(field[len("codes[") : -1])
        if 0 <= index < len(codes):
            return codes[index].field
    if field == "codes":
        return "couponCodes"
    return error.field


async def quote_cart(
    *,
    quoter: Any,
    store_id: str,
    service_method: str,
    codes: Sequence[CodeInput],
    lines: list[CartLine],
    at: datetime,
    currency: str,
) -> list[AppliedCoupon]:
    """Ask menu (through ``quoter.quote_coupons``) what ``codes`` take off; [] without codes."""
    if not codes:
        return []
    try:
        applied = await quoter.quote_coupons(
            store_id=store_id,
            service_method=service_method,
            codes=[c.code for c in codes],
            lines=lines,
            at=at,
        )
    except DomainError as error:
        error.field = _input_field(error, codes)
        raise
    if any(a.currency != currency for a in applied):
        raise DomainError("The store's prices disagree on the currency.", code="CURRENCY_MISMATCH")
    return list(applied)


QUOTE_COUPONS = """
query QuoteCoupons(
  $storeId: ID!, $serviceMethod: ServiceMethod!, $codes: [String!]!,
  $lines: [OrderLineInput!]!, $at: DateTime
) {
  quoteCoupons(
    storeId: $storeId, serviceMethod: $serviceMethod, codes: $codes, lines: $lines, at: $at
  ) {
    discounts { code description amount { amount currency } }
  }
}"""


async def quote_via_menu(
    *,
    settings: Settings,
    peers: Mapping[str, httpx.AsyncClient] | None,
    authorization: str | None,
    store_id: str,
    service_method: str,
    codes: Sequence[str],
    lines: list[CartLine],
    at: datetime,
) -> list[AppliedCoupon]:
    """menu's ``quoteCoupons`` over GraphQL."""
    data = await call_subgraph(
        settings=settings,
        peers=peers,
        name="menu",
        query=QUOTE_COUPONS,
        variables={
            "storeId": store_id,
            "serviceMethod": service_method,
            "codes": list(codes),
            "lines": [line.to_variables() for line in lines],
            "at": at.isoformat(),
        },
        authorization=authorization,
    )
    return [
        AppliedCoupon(
            code=d["code"],
            description=d["description"],
            amount=d["amount"]["amount"],
            currency=d["amount"]["currency"],
        )
        for d in data["quoteCoupons"]["discounts"]
    ]


async def save_order_coupons(
    *, session: AsyncSession, order_id: str, applied: Sequence[AppliedCoupon]
) -> None:
    """Keep what the coupons took off ``order_id`` (replacing what was kept before)."""
    await session.execute(delete(OrderCoupon).where(OrderCoupon.order_id == order_id))
    session.add_all(
        OrderCoupon(
            order_id=order_id,
            position=i,
            code=a.code,
            description=a.description,
            amount=a.amount,
            currency=a.currency,
        )
        for i, a in enumerate(applied)
    )
    await session.flush()


async def order_coupons(*, session: AsyncSession, order_id: str) -> list[AppliedCoupon]:
    """The coupons applied to ``order_id``, in the order they were given."""
    rows = await session.scalars(
        select(OrderCoupon).where(OrderCoupon.order_id == order_id).order_by(OrderCoupon.position)
    )
    return [AppliedCoupon(r.code, r.description, r.amount, r.currency) for r in rows]
