"""menu's service rules against the demo menu in its database, without GraphQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shared import demo_ids
from shared.auth import Principal
from shared.errors import DomainError
from subgraphs.menu import service
from subgraphs.menu.demo import category_id, product_id, variant_id
from subgraphs.menu.models import Coupon, Variant
from subgraphs.menu.pricing import LineRequest, ToppingChoice
from subgraphs.menu.service import DefaultToppingSpec, VariantSpec

ADMIN = Principal(user_id=demo_ids.ADMIN_USER, roles=frozenset({"ADMIN"}))
DOWNTOWN_STAFF = Principal(
    user_id=demo_ids.STAFF_DOWNTOWN, roles=frozenset({"STAFF"}), store_id=demo_ids.STORE_DOWNTOWN
)
PEPPERONI_14 = variant_id("PEPPERONI-14-HT")


@pytest.fixture
async def db(start_subgraph):
    menu = await start_subgraph("menu")
    return menu.runtime.db


async def broken(coroutine) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await coroutine
    return caught.value


def line(variant: str, quantity: int = 1, *toppings: tuple[str, str, str]) -> LineRequest:
    return LineRequest(variant, quantity, tuple(ToppingChoice(*t) for t in toppings))


async def test_demo_pepperoni_half_and_half_is_priced_from_the_database(db) -> None:
    async with db.session() as session:
        result = await service.price_lines(
            session=session,
            store_id=demo_ids.STORE_DOWNTOWN,
            lines=[
                line(
                    PEPPERONI_14, 2, ("MUSHROOMS", "LEFT", "NORMAL"), ("ONIONS", "RIGHT", "EXTRA")
                ),
                line(variant_id("COKE-2L")),
            ],
        )
    pizza, coke = result.lines
    assert (pizza.unit_price, pizza.line_total, pizza.category_code) == (1724, 3448, "PIZZA")
    assert coke.category_code == "DRINKS"
    assert result.subtotal == 3448 + 349


async def test_variant_unavailable_at_one_store_only(db) -> None:
    gluten_free = variant_id("PEPPERONI-10-GF")
    async with db.session() as session:
        error = await broken(
            service.price_lines(
                session=session, store_id=demo_ids.STORE_EAST, lines=[line(gluten_free)]
            )
        )
        downtown = await service.price_lines(
            session=session, store_id=demo_ids.STORE_DOWNTOWN, lines=[line(gluten_free)]
        )
    assert (error.code, error.field) == ("VARIANT_UNAVAILABLE", "lines[0].variantId")
    assert downtown.subtotal == 1399


async def test_topping_unavailable_at_one_store_only(db) -> None:
    jalapenos = line(PEPPERONI_14, 1, ("JALAPENOS", "WHOLE", "NORMAL"))
    async with db.session() as session:
        error = await broken(
            service.price_lines(
                session=session, store_id=demo_ids.STORE_SOUTH_LAMAR, lines=[jalapenos]
            )
        )
        hyde_park = await service.price_lines(
            session=session, store_id=demo_ids.STORE_HYDE_PARK, lines=[jalapenos]
        )
    assert (error.code, error.field) == ("TOPPING_UNAVAILABLE", "lines[0].toppings[0]")
    assert hyde_park.subtotal == 1499 + 150


async def test_a_default_topping_the_store_ran_out_of_must_be_removed(db) -> None:
    veggie = variant_id("VEGGIE_SUPREME-14-HT")
    async with db.session() as session:
        await service.set_availability(
            session=session,
            principal=ADMIN,
            store_id=demo_ids.STORE_DOWNTOWN,
            topping_code="MUSHROOMS",
            available=False,
        )
        await session.commit()
        error = await broken(
            service.price_lines(
                session=session, store_id=demo_ids.STORE_DOWNTOWN, lines=[line(veggie)]
            )
        )
        without = await service.price_lines(
            session=session,
            store_id=demo_ids.STORE_DOWNTOWN,
            lines=[line(veggie, 1, ("MUSHROOMS", "WHOLE", "NONE"))],
        )
    assert (error.code, error.field) == ("TOPPING_UNAVAILABLE", "lines[0].toppings")
    assert without.lines[0].description.endswith("— no mushrooms")


async def test_an_inactive_product_cannot_be_ordered(db) -> None:
    async with db.session() as session:
        await service.update_product(
            session=session, product_id=product_id("PEPPERONI"), active=False
        )
        await session.commit()
        error = await broken(
            service.price_lines(
                session=session, store_id=demo_ids.STORE_DOWNTOWN, lines=[line(PEPPERONI_14)]
            )
        )
    assert error.code == "VARIANT_UNAVAILABLE"


async def test_a_store_must_be_named(db) -> None:
    async with db.session() as session:
        error = await broken(service.price_lines(session=session, store_id=" ", lines=[]))
    assert (error.code, error.field) == ("INVALID_STORE", "storeId")


def _calzone(**changes) -> dict:
    spec = {
        "code": "CALZONE",
        "name": "Calzone",
        "category_id": category_id("SPECIALTY"),
        "is_pizza": True,
        "variants": [VariantSpec(code="CALZONE-12-HT", price=1199, size=12, crust="HAND_TOSSED")],
        "default_toppings": [DefaultToppingSpec("ROBUST_TOMATO"), DefaultToppingSpec("HAM")],
    }
    return {**spec, **changes}


async def test_created_pizza_is_priced_with_its_defaults(db) -> None:
    async with db.session() as session:
        await service.create_product(session=session, **_calzone())
        await session.commit()
        result = await service.price_lines(
            session=session,
            store_id=demo_ids.STORE_DOWNTOWN,
            lines=[line(await _variant_id(session, "CALZONE-12-HT"), 1, ("HAM", "WHOLE", "EXTRA"))],
        )
    priced = result.lines[0]
    # Ham is a default: EXTRA costs one 12" portion beyond it.
    assert (priced.variant_name, priced.unit_price) == ('12" Hand Tossed', 1199 + 175)
    assert priced.description == '12" Hand Tossed Calzone — extra ham'


async def _variant_id(session, code: str) -> str:
    return await session.scalar(select(Variant.id).where(Variant.code == code))


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"code": "cal zone!"}, "INVALID_CODE", "code"),
        ({"code": "PEPPERONI"}, "CODE_TAKEN", "code"),
        ({"name": "  "}, "INVALID_NAME", "name"),
        ({"category_id": "cat_nope"}, "NOT_FOUND", "categoryId"),
        ({"variants": []}, "INVALID_VARIANTS", "variants"),
        (
            {"variants": [VariantSpec("C-13", 100, size=13, crust="THIN")]},
            "INVALID_SIZE",
            "variants[0].size",
        ),
        ({"variants": [VariantSpec("C-12", 100, size=12)]}, "INVALID_CRUST", "variants[0].crust"),
        (
            {"variants": [VariantSpec("C-12", -1, size=12, crust="PAN")]},
            "INVALID_PRICE",
            "variants[0].price",
        ),
        (
            {"variants": [VariantSpec("PEPPERONI-14-HT", 100, size=14, crust="PAN")]},
            "CODE_TAKEN",
            "variants[0].code",
        ),
        (
            {
                "variants": [
                    VariantSpec("C-12", 1, size=12, crust="PAN"),
                    VariantSpec("C-12", 1, size=14, crust="PAN"),
                ]
            },
            "CODE_TAKEN",
            "variants[1].code",
        ),
        (
            {"default_toppings": [DefaultToppingSpec("KALE")]},
            "INVALID_TOPPING",
            "defaultToppings[0].toppingCode",
        ),
        (
            {"default_toppings": [DefaultToppingSpec("HAM", "NONE")]},
            "INVALID_TOPPING",
            "defaultToppings[0]",
        ),
        (
            {"is_pizza": False, "variants": [VariantSpec("C-1", 100, name="One")]},
            "NOT_CUSTOMIZABLE",
            "defaultToppings",
        ),
        (
            {
                "is_pizza": False,
                "default_toppings": [],
                "variants": [VariantSpec("C-1", 100, name="One", size=12)],
            },
            "INVALID_SIZE",
            "variants[0].size",
        ),
        (
            {"is_pizza": False, "default_toppings": [], "variants": [VariantSpec("C-1", 100)]},
            "INVALID_NAME",
            "variants[0].name",
        ),
    ],
)
async def test_create_product_validates_every_field(db, changes, code, field) -> None:
    async with db.session() as session:
        error = await broken(service.create_product(session=session, **_calzone(**changes)))
    assert (error.code, error.field) == (code, field)


async def test_update_product_changes_prices_of_its_own_variants_only(db) -> None:
    async with db.session() as session:
        await service.update_product(
            session=session,
            product_id=product_id("PEPPERONI"),
            variant_prices=[(PEPPERONI_14, 1599)],
        )
        error = await broken(
            service.update_product(
                session=session,
                product_id=product_id("PEPPERONI"),
                variant_prices=[(variant_id("HAWAIIAN-14-HT"), 1)],
            )
        )
        await session.commit()
        result = await service.price_lines(
            session=session, store_id=demo_ids.STORE_DOWNTOWN, lines=[line(PEPPERONI_14)]
        )
    assert (error.code, error.field) == ("NOT_FOUND", "variantPrices[0].variantId")
    assert result.subtotal == 1599


async def test_staff_set_availability_of_their_own_store_only(db) -> None:
    async with db.session() as session:
        await service.set_availability(
            session=session,
            principal=DOWNTOWN_STAFF,
            store_id=demo_ids.STORE_DOWNTOWN,
            variant_id=PEPPERONI_14,
            available=False,
        )
        error = await broken(
            service.set_availability(
                session=session,
                principal=DOWNTOWN_STAFF,
                store_id=demo_ids.STORE_EAST,
                variant_id=PEPPERONI_14,
                available=False,
            )
        )
        assert error.code == "FORBIDDEN"
        assert PEPPERONI_14 in await service.unavailable_variant_ids(
            session=session, store_id=demo_ids.STORE_DOWNTOWN
        )


@pytest.mark.parametrize(
    ("target", "code", "field"),
    [
        ({}, "BAD_USER_INPUT", "variantId"),
        ({"variant_id": "v", "topping_code": "HAM"}, "BAD_USER_INPUT", "variantId"),
        ({"variant_id": "var_nope"}, "NOT_FOUND", "variantId"),
        ({"topping_code": "KALE"}, "INVALID_TOPPING", "toppingCode"),
    ],
)
async def test_set_availability_needs_one_known_target(db, target, code, field) -> None:
    async with db.session() as session:
        error = await broken(
            service.set_availability(
                session=session,
                principal=ADMIN,
                store_id=demo_ids.STORE_EAST,
                available=False,
                **target,
            )
        )
    assert (error.code, error.field) == (code, field)


NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def coupon(**changes) -> Coupon:
    fields = {
        "code": "TEST",
        "starts_at": NOW - timedelta(days=1),
        "ends_at": NOW + timedelta(days=1),
        "service_methods": "DELIVERY,CARRYOUT",
        "minimum_subtotal": 1000,
        "percent_off": 10,
        "amount_off": None,
        "combinable": False,
    }
    return Coupon(**{**fields, **changes})


def test_percentage_coupon_rounds_half_up_to_the_cent() -> None:
    assert (
        service.coupon_discount(coupon=coupon(), now=NOW, service_method="DELIVERY", subtotal=1995)
        == 200
    )
    assert (
        service.coupon_discount(coupon=coupon(), now=NOW, service_method="DELIVERY", subtotal=1994)
        == 199
    )


def test_fixed_coupon_never_exceeds_the_subtotal() -> None:
    fixed = coupon(percent_off=None, amount_off=2500, minimum_subtotal=0)
    assert (
        service.coupon_discount(coupon=fixed, now=NOW, service_method="CARRYOUT", subtotal=1800)
        == 1800
    )
    assert (
        service.coupon_discount(coupon=fixed, now=NOW, service_method="CARRYOUT", subtotal=4000)
        == 2500
    )


@pytest.mark.parametrize(
    ("changes", "kwargs", "code"),
    [
        ({"starts_at": NOW + timedelta(hours=1)}, {}, "COUPON_NOT_YET_VALID"),
        ({"ends_at": NOW}, {}, "COUPON_EXPIRED"),
        ({"service_methods": "CARRYOUT"}, {}, "COUPON_WRONG_SERVICE_METHOD"),
        ({}, {"subtotal": 999}, "COUPON_MINIMUM_NOT_MET"),
    ],
)
def test_coupon_conditions(changes, kwargs, code) -> None:
    args = {"now": NOW, "service_method": "DELIVERY", "subtotal": 2000, **kwargs}
    with pytest.raises(DomainError) as caught:
        service.coupon_discount(coupon=coupon(**changes), **args)
    assert (caught.value.code, caught.value.field) == (code, "couponCode")


def test_coupons_combine_only_when_all_are_combinable() -> None:
    service.check_combinable([coupon()])
    service.check_combinable([coupon(combinable=True), coupon(code="B", combinable=True)])
    with pytest.raises(DomainError) as caught:
        service.check_combinable([coupon(combinable=True), coupon(code="B")])
    assert (caught.value.code, caught.value.field) == ("COUPONS_NOT_COMBINABLE", "couponCodes[1]")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"code": "x"}, "INVALID_CODE", "code"),
        ({"code": "welcome10"}, "CODE_TAKEN", "code"),
        ({"amount_off": 500}, "INVALID_DISCOUNT", "percentOff"),
        ({"percent_off": None}, "INVALID_DISCOUNT", "percentOff"),
        ({"percent_off": 101}, "INVALID_DISCOUNT", "percentOff"),
        ({"percent_off": None, "amount_off": 0}, "INVALID_DISCOUNT", "amountOff"),
        ({"minimum_subtotal": -1}, "INVALID_PRICE", "minimumSubtotal"),
        ({"ends_at": NOW - timedelta(days=1)}, "INVALID_VALIDITY", "endsAt"),
        ({"starts_at": datetime(2026, 1, 1)}, "INVALID_VALIDITY", "startsAt"),
        ({"service_methods": []}, "INVALID_SERVICE_METHODS", "serviceMethods"),
    ],
)
async def test_create_coupon_validates_every_field(db, changes, code, field) -> None:
    spec = {"code": "SUMMER20", "starts_at": NOW, "percent_off": 20, **changes}
    async with db.session() as session:
        error = await broken(service.create_coupon(session=session, **spec))
    assert (error.code, error.field) == (code, field)
