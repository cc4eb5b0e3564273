"""The demo chain's menu, sold at every demo store (loaded once, when the database is empty).

Ids are stable (:func:`shared.ids.demo_id`) so tests and the golden path can
name things: ``variant_id("PEPPERONI-14-HT")`` is the 14" hand-tossed Pepperoni.
Variant codes read ``<PRODUCT>-<size>-<crust>`` with crusts HT (hand tossed),
THIN, PAN and GF (gluten free); sides and drinks use their pack size.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from shared import demo_ids
from shared.db import utcnow
from shared.ids import demo_id
from shared.subgraph import SubgraphRuntime
from subgraphs.menu.models import (
    Category,
    Coupon,
    DefaultTopping,
    Product,
    Topping,
    ToppingAvailability,
    ToppingPrice,
    Variant,
    VariantAvailability,
)
from subgraphs.menu.service import CRUSTS


def category_id(code: str) -> str:
    """Id of the demo category ``code`` (PIZZA, SPECIALTY, BUILD_YOUR_OWN, SIDES...)."""
    return demo_id("cat", code)


def product_id(code: str) -> str:
    """Id of the demo product ``code``, e.g. PEPPERONI."""
    return demo_id("prd", code)


def variant_id(code: str) -> str:
    """Id of the demo variant ``code``, e.g. PEPPERONI-14-HT."""
    return demo_id("var", code)


def topping_id(code: str) -> str:
    """Id of the demo topping ``code``, e.g. MUSHROOMS."""
    return demo_id("top", code)


CATEGORIES = [
    # code, name, description, parent code
    ("PIZZA", "Pizza", "Hand-made pizzas, baked to order.", None),
    ("SPECIALTY", "Specialty Pizzas", "Our recipes, ready to order or tweak.", "PIZZA"),
    ("BUILD_YOUR_OWN", "Build Your Own", "Start from cheese and add what you like.", "PIZZA"),
    ("SIDES", "Sides", "Something to share.", None),
    ("DRINKS", "Drinks", "Cold drinks.", None),
    ("DESSERTS", "Desserts", "Something sweet.", None),
]

_SAUCE = (0, 0, 0, 0)  # swapping or adding sauce is free
_CHEESE = (125, 150, 175, 200)
_MEAT = (150, 175, 200, 225)
_VEGGIE = (100, 125, 150, 175)
TOPPINGS = [
    # code, name, group, whole only, exclusive, prices for 10/12/14/16 inches
    ("ROBUST_TOMATO", "Robust Tomato Sauce", "SAUCE", True, True, _SAUCE),
    ("GARLIC_PARMESAN", "Garlic Parmesan Sauce", "SAUCE", True, True, _SAUCE),
    ("BBQ", "BBQ Sauce", "SAUCE", True, True, _SAUCE),
    ("MOZZARELLA", "Mozzarella", "CHEESE", True, False, _CHEESE),
    ("PROVOLONE", "Provolone", "CHEESE", True, False, _CHEESE),
    ("FETA", "Feta", "CHEESE", False, False, _CHEESE),
    ("PEPPERONI", "Pepperoni", "MEAT", False, False, _MEAT),
    ("ITALIAN_SAUSAGE", "Italian Sausage", "MEAT", False, False, _MEAT),
    ("BEEF", "Beef", "MEAT", False, False, _MEAT),
    ("HAM", "Ham", "MEAT", False, False, _MEAT),
    ("BACON", "Bacon", "MEAT", False, False, _MEAT),
    ("GRILLED_CHICKEN", "Grilled Chicken", "MEAT", False, False, _MEAT),
    ("MUSHROOMS", "Mushrooms", "VEGGIE", False, False, _VEGGIE),
    ("ONIONS", "Onions", "VEGGIE", False, False, _VEGGIE),
    ("GREEN_PEPPERS", "Green Peppers", "VEGGIE", False, False, _VEGGIE),
    ("BLACK_OLIVES", "Black Olives", "VEGGIE", False, False, _VEGGIE),
    ("JALAPENOS", "Jalapeños", "VEGGIE", False, False, _VEGGIE),
    ("PINEAPPLE", "Pineapple", "VEGGIE", False, False, _VEGGIE),
    ("SPINACH", "Spinach", "VEGGIE", False, False, _VEGGIE),
    ("TOMATOES", "Diced Tomatoes", "VEGGIE", False, False, _VEGGIE),
    ("BASIL", "Fresh Basil", "VEGGIE", False, False, _VEGGIE),
]
SIZES = (10, 12, 14, 16)

CLASSIC = {10: 1099, 12: 1299, 14: 1499, 16: 1699}
SPECIALTY = {10: 1299, 12: 1599, 14: 1799, 16: 1999}
CHEESE_PIZZA = {10: 899, 12: 1099, 14: 1299, 16: 1499}
CRUST_SIZES = {"HT": (10, 12, 14, 16), "THIN": (12, 14, 16), "PAN": (12, 14), "GF": (10,)}
CRUST_SURCHARGE = {"HT": 0, "THIN": 0, "PAN": 100, "GF": 300}
CRUST_ENUM = {"HT": "HAND_TOSSED", "THIN": "THIN", "PAN": "PAN", "GF": "GLUTEN_FREE"}

PIZZAS = [
    # code, name, category, description, price table, default toppings (code, amount)
    (
        "PEPPERONI",
        "Pepperoni Pizza",
        "SPECIALTY",
        "Classic pepperoni on robust tomato sauce and mozzarella.",
        CLASSIC,
        [("ROBUST_TOMATO", "NORMAL"), ("MOZZARELLA", "NORMAL"), ("PEPPERONI", "NORMAL")],
    ),
    (
        "MARGHERITA",
        "Margherita Pizza",
        "SPECIALTY",
        "Extra mozzarella, diced tomatoes and fresh basil.",
        CLASSIC,
        [
            ("ROBUST_TOMATO", "NORMAL"),
            ("MOZZARELLA", "EXTRA"),
            ("TOMATOES", "NORMAL"),
            ("BASIL", "NORMAL"),
        ],
    ),
    (
        "MEAT_LOVERS",
        "Meat Lovers Pizza",
        "SPECIALTY",
        "Pepperoni, Italian sausage, ham, bacon and beef.",
        SPECIALTY,
        [
            ("ROBUST_TOMATO", "NORMAL"),
            ("MOZZARELLA", "NORMAL"),
            ("PEPPERONI", "NORMAL"),
            ("ITALIAN_SAUSAGE", "NORMAL"),
            ("HAM", "NORMAL"),
            ("BACON", "NORMAL"),
            ("BEEF", "NORMAL"),
        ],
    ),
    (
        "VEGGIE_SUPREME",
        "Veggie Supreme Pizza",
        "SPECIALTY",
        "Mushrooms, onions, green peppers, black olives and diced tomatoes.",
        SPECIALTY,
        [
            ("ROBUST_TOMATO", "NORMAL"),
            ("MOZZARELLA", "NORMAL"),
            ("MUSHROOMS", "NORMAL"),
            ("ONIONS", "NORMAL"),
            ("GREEN_PEPPERS", "NORMAL"),
            ("BLACK_OLIVES", "NORMAL"),
            ("TOMATOES", "NORMAL"),
        ],
    ),
    (
        "BBQ_CHICKEN",
        "BBQ Chicken Pizza",
        "SPECIALTY",
        "Grilled chicken and onions on BBQ sauce with mozzarella and provolone.",
        SPECIALTY,
        [
            ("BBQ", "NORMAL"),
            ("MOZZARELLA", "NORMAL"),
            ("PROVOLONE", "NORMAL"),
            ("GRILLED_CHICKEN", "NORMAL"),
            ("ONIONS", "NORMAL"),
        ],
    ),
    (
        "HAWAIIAN",
        "Hawaiian Pizza",
        "SPECIALTY",
        "Ham and pineapple on robust tomato sauce and mozzarella.",
        SPECIALTY,
        [
            ("ROBUST_TOMATO", "NORMAL"),
            ("MOZZARELLA", "NORMAL"),
            ("HAM", "NORMAL"),
            ("PINEAPPLE", "NORMAL"),
        ],
    ),
    (
        "BUILD_YOUR_OWN",
        "Build Your Own Pizza",
        "BUILD_YOUR_OWN",
        "Robust tomato sauce and mozzarella; add up to ten portions of toppings.",
        CHEESE_PIZZA,
        [("ROBUST_TOMATO", "NORMAL"), ("MOZZARELLA", "NORMAL")],
    ),
]

OTHER_PRODUCTS = [
    # code, name, category, description, variants (code suffix, name, price)
    (
        "GARLIC_KNOTS",
        "Garlic Knots",
        "SIDES",
        "Oven-baked knots brushed with garlic butter, with marinara.",
        [("8", "8 pieces", 599), ("16", "16 pieces", 999)],
    ),
    (
        "WINGS",
        "Buffalo Wings",
        "SIDES",
        "Bone-in wings tossed in buffalo sauce, with ranch.",
        [("8", "8 pieces", 899), ("16", "16 pieces", 1599)],
    ),
    (
        "CAESAR_SALAD",
        "Caesar Salad",
        "SIDES",
        "Romaine, parmesan, croutons and Caesar dressing.",
        [("REG", "Regular", 699)],
    ),
    (
        "COKE",
        "Coca-Cola",
        "DRINKS",
        "Ice-cold Coca-Cola.",
        [("20OZ", "20 oz bottle", 249), ("2L", "2 liter bottle", 349)],
    ),
    (
        "SPRITE",
        "Sprite",
        "DRINKS",
        "Lemon-lime soda.",
        [("20OZ", "20 oz bottle", 249), ("2L", "2 liter bottle", 349)],
    ),
    ("WATER", "Bottled Water", "DRINKS", "Still spring water.", [("500ML", "500 ml", 199)]),
    (
        "BROWNIE",
        "Chocolate Fudge Brownie",
        "DESSERTS",
        "Warm fudge brownie, cut in nine squares.",
        [("9", "9 pieces", 699)],
    ),
    (
        "CINNAMON_TWISTS",
        "Cinnamon Twists",
        "DESSERTS",
        "Twists of dough with cinnamon sugar and icing.",
        [("8", "8 pieces", 599)],
    ),
]

UNAVAILABLE_VARIANTS = {
    demo_ids.STORE_EAST: [f"{code}-10-GF" for code, *_ in PIZZAS],
}
"""East Austin has no gluten-free kitchen: its menu shows those variants unavailable."""
UNAVAILABLE_TOPPINGS = {demo_ids.STORE_SOUTH_LAMAR: ["JALAPENOS"]}
"""South Lamar has run out of jalapeños."""


async def seed(runtime: SubgraphRuntime) -> None:
    """Create the categories, toppings, products, availability overrides and coupons."""
    async with runtime.db.session() as session:
        if await session.scalar(select(Category.id).limit(1)):
            return
        # Parents before children: each batch is flushed before the next refers to it.
        for batch in _rows(utcnow()):
            session.add_all(batch)
            await session.flush()
        await session.commit()


def _rows(now: datetime) -> list[list[Any]]:
    categories = [
        Category(
            id=category_id(code),
            code=code,
            name=name,
            description=description,
            parent_id=category_id(parent) if parent else None,
            position=position,
        )
        for position, (code, name, description, parent) in enumerate(CATEGORIES)
    ]
    toppings = [
        Topping(
            id=topping_id(code),
            code=code,
            name=name,
            group=group,
            whole_only=whole_only,
            exclusive=exclusive,
            position=position,
        )
        for position, (code, name, group, whole_only, exclusive, _) in enumerate(TOPPINGS)
    ]
    prices = [
        ToppingPrice(topping_id=topping_id(code), size_inches=size, price=price)
        for code, *_, table in TOPPINGS
        for size, price in zip(SIZES, table, strict=True)
    ]
    products: list[Product] = []
    variants: list[Variant] = []
    defaults: list[DefaultTopping] = []
    for code, name, category, description, table, toppings_of in PIZZAS:
        products.append(_product(code, name, category, description, True, len(products), now))
        pizza_variants = [
            (f"{code}-{size}-{crust}", size, crust)
            for crust, sizes in CRUST_SIZES.items()
            for size in sizes
        ]
        variants += [
            Variant(
                id=variant_id(variant_code),
                product_id=product_id(code),
                code=variant_code,
                name=f'{size}" {CRUSTS[CRUST_ENUM[crust]]}',
                size_inches=size,
                crust=CRUST_ENUM[crust],
                price=table[size] + CRUST_SURCHARGE[crust],
                position=i,
            )
            for i, (variant_code, size, crust) in enumerate(pizza_variants)
        ]
        defaults += [
            DefaultTopping(
                product_id=product_id(code), topping_id=topping_id(t), amount=amount, position=j
            )
            for j, (t, amount) in enumerate(toppings_of)
        ]
    for code, name, category, description, packs in OTHER_PRODUCTS:
        products.append(_product(code, name, category, description, False, len(products), now))
        variants += [
            Variant(
                id=variant_id(f"{code}-{suffix}"),
                product_id=product_id(code),
                code=f"{code}-{suffix}",
                name=variant_name,
                size_inches=None,
                crust=None,
                price=price,
                position=i,
            )
            for i, (suffix, variant_name, price) in enumerate(packs)
        ]
    availability: list[Any] = [
        VariantAvailability(
            store_id=store, variant_id=variant_id(c), available=False, updated_at=now
        )
        for store, codes in UNAVAILABLE_VARIANTS.items()
        for c in codes
    ]
    availability += [
        ToppingAvailability(
            store_id=store, topping_id=topping_id(c), available=False, updated_at=now
        )
        for store, codes in UNAVAILABLE_TOPPINGS.items()
        for c in codes
    ]
    return [
        categories,
        toppings,
        prices,
        products,
        variants,
        defaults,
        availability,
        _coupons(now),
    ]


def _product(
    code: str,
    name: str,
    category: str,
    description: str,
    is_pizza: bool,
    position: int,
    now: datetime,
) -> Product:
    return Product(
        id=product_id(code),
        code=code,
        name=name,
        description=description,
        category_id=category_id(category),
        is_pizza=is_pizza,
        image_url=f"https://images.pizza.example/menu/{code.lower().replace('_', '-')}.jpg",
        active=True,
        position=position,
        created_at=now,
    )


def _coupons(now: datetime) -> list[Coupon]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        Coupon(
            id=demo_id("cpn", "WELCOME10"),
            code="WELCOME10",
            description="10% off any order of $15 or more.",
            starts_at=start,
            ends_at=None,
            service_methods="DELIVERY,CARRYOUT",
            minimum_subtotal=1500,
            percent_off=10,
            amount_off=None,
            combinable=False,
            created_at=now,
        ),
        Coupon(
            id=demo_id("cpn", "CARRYOUT5"),
            code="CARRYOUT5",
            description="$5 off carryout orders of $20 or more.",
            starts_at=start,
            ends_at=datetime(2030, 1, 1, tzinfo=UTC),
            service_methods="CARRYOUT",
            minimum_subtotal=2000,
            percent_off=None,
            amount_off=500,
            combinable=True,
            created_at=now,
        ),
        Coupon(
            id=demo_id("cpn", "MEDIUM2"),
            code="MEDIUM2",
            description="2 medium 2-topping pizzas for $15.98.",
            starts_at=start,
            ends_at=None,
            service_methods="DELIVERY,CARRYOUT",
            minimum_subtotal=0,
            bundle_price=1598,
            bundle_items=[{"categoryCode": "PIZZA", "quantity": 2, "size": 12, "maxToppings": 2}],
            combinable=True,
            created_at=now,
        ),
        Coupon(
            id=demo_id("cpn", "PARTY"),
            code="PARTY",
            description="4 or more pizzas 10% off, 7 or more 15% off.",
            starts_at=start,
            ends_at=None,
            service_methods="DELIVERY,CARRYOUT",
            minimum_subtotal=0,
            tiers=[{"minQuantity": 4, "percentOff": 10}, {"minQuantity": 7, "percentOff": 15}],
            tier_category="PIZZA",
            combinable=False,
            created_at=now,
        ),
    ]
