"""menu's public reading API and federation, through the subgraph's GraphQL."""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from shared import demo_ids
from subgraphs.menu.demo import product_id, variant_id
from subgraphs.menu.schema import schema
from tests.conftest import gql

MENU = """
query($storeId: ID!) {
  menu(storeId: $storeId) {
    storeId
    categories {
      code
      subcategories { code parent { code } products { code variants { code available } } }
      products { code isPizza variants { code size crust price { amount currency } available } }
    }
    toppings { code group wholeOnly exclusive available prices { size price { amount } } }
  }
}"""
PRODUCT = """
query($id: ID!, $storeId: ID) {
  product(id: $id, storeId: $storeId) {
    code name isPizza category { code parent { code } }
    variants { id code name size crust price { amount } available product { code } }
    defaultToppings { amount topping { code wholeOnly } }
  }
}"""
ENTITIES = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Product { id code name variants { code available } }
    ... on Store { id menu { storeId toppings { code available } } }
  }
}"""
PRICE_LINES = """
query($storeId: ID!, $lines: [OrderLineInput!]!) {
  priceLines(storeId: $storeId, lines: $lines) {
    lines {
      index variantId productId productName variantName categoryCode size quantity
      unitPrice { amount currency } lineTotal { amount currency } description
    }
    subtotal { amount currency }
  }
}"""


def _variants(menu: dict, product_code: str) -> dict[str, bool]:
    for top in menu["categories"]:
        for sub in top["subcategories"]:
            for product in sub["products"]:
                if product["code"] == product_code:
                    return {v["code"]: v["available"] for v in product["variants"]}
    raise AssertionError(product_code)


async def test_menu_has_categories_with_subcategories(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    body = await gql(menu, MENU, {"storeId": demo_ids.STORE_DOWNTOWN})
    categories = body["data"]["menu"]["categories"]
    assert [c["code"] for c in categories] == ["PIZZA", "SIDES", "DRINKS", "DESSERTS"]
    pizza = categories[0]
    assert [s["code"] for s in pizza["subcategories"]] == ["SPECIALTY", "BUILD_YOUR_OWN"]
    assert pizza["subcategories"][0]["parent"] == {"code": "PIZZA"}
    specialty = {p["code"] for p in pizza["subcategories"][0]["products"]}
    assert specialty == {
        "PEPPERONI",
        "MARGHERITA",
        "MEAT_LOVERS",
        "VEGGIE_SUPREME",
        "BBQ_CHICKEN",
        "HAWAIIAN",
    }
    sides = {p["code"] for p in categories[1]["products"]}
    assert sides == {"GARLIC_KNOTS", "WINGS", "CAESAR_SALAD"}
    knots = categories[1]["products"][0]["variants"][0]
    assert (knots["size"], knots["crust"], knots["price"]["currency"]) == (None, None, "USD")


async def test_menu_availability_is_per_store(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    east = (await gql(menu, MENU, {"storeId": demo_ids.STORE_EAST}))["data"]["menu"]
    downtown = (await gql(menu, MENU, {"storeId": demo_ids.STORE_DOWNTOWN}))["data"]["menu"]
    assert east["storeId"] == demo_ids.STORE_EAST
    assert _variants(east, "PEPPERONI")["PEPPERONI-10-GF"] is False
    assert _variants(east, "PEPPERONI")["PEPPERONI-14-HT"] is True
    assert _variants(downtown, "PEPPERONI")["PEPPERONI-10-GF"] is True
    lamar = (await gql(menu, MENU, {"storeId": demo_ids.STORE_SOUTH_LAMAR}))["data"]["menu"]
    assert {t["code"]: t["available"] for t in lamar["toppings"]}["JALAPENOS"] is False
    assert all(t["available"] for t in downtown["toppings"])


async def test_toppings_have_groups_flags_and_per_size_prices(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    toppings = (await gql(menu, MENU, {"storeId": demo_ids.STORE_DOWNTOWN}))["data"]["menu"][
        "toppings"
    ]
    assert len(toppings) >= 15
    assert {t["group"] for t in toppings} == {"SAUCE", "CHEESE", "MEAT", "VEGGIE"}
    sauces = [t for t in toppings if t["group"] == "SAUCE"]
    assert len(sauces) == 3 and all(t["exclusive"] and t["wholeOnly"] for t in sauces)
    mushrooms = next(t for t in toppings if t["code"] == "MUSHROOMS")
    assert [(p["size"], p["price"]["amount"]) for p in mushrooms["prices"]] == [
        (10, 100),
        (12, 125),
        (14, 150),
        (16, 175),
    ]


async def test_product_by_id_with_store_availability(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    body = await gql(menu, PRODUCT, {"id": product_id("PEPPERONI"), "storeId": demo_ids.STORE_EAST})
    product = body["data"]["product"]
    assert product["category"] == {"code": "SPECIALTY", "parent": {"code": "PIZZA"}}
    variant = next(v for v in product["variants"] if v["code"] == "PEPPERONI-14-HT")
    assert variant["id"] == variant_id("PEPPERONI-14-HT")
    assert (variant["name"], variant["size"], variant["crust"], variant["price"]["amount"]) == (
        '14" Hand Tossed',
        14,
        "HAND_TOSSED",
        1499,
    )
    assert variant["product"] == {"code": "PEPPERONI"}
    assert (
        next(v for v in product["variants"] if v["code"] == "PEPPERONI-10-GF")["available"] is False
    )
    assert [(d["topping"]["code"], d["amount"]) for d in product["defaultToppings"]] == [
        ("ROBUST_TOMATO", "NORMAL"),
        ("MOZZARELLA", "NORMAL"),
        ("PEPPERONI", "NORMAL"),
    ]
    chain_wide = await gql(menu, PRODUCT, {"id": product_id("PEPPERONI")})
    assert all(v["available"] for v in chain_wide["data"]["product"]["variants"])


async def test_unknown_product_is_null(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    assert (await gql(menu, PRODUCT, {"id": "prd_nope"}))["data"]["product"] is None


async def test_entities_resolve_products_and_extend_stores_with_their_menu(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    body = await gql(
        menu,
        ENTITIES,
        {
            "r": [
                {"__typename": "Product", "id": product_id("HAWAIIAN")},
                {"__typename": "Store", "id": demo_ids.STORE_SOUTH_LAMAR},
                {"__typename": "Product", "id": "prd_nope"},
            ]
        },
    )
    hawaiian, store, missing = body["data"]["_entities"]
    assert (hawaiian["code"], hawaiian["name"]) == ("HAWAIIAN", "Hawaiian Pizza")
    assert store["menu"]["storeId"] == demo_ids.STORE_SOUTH_LAMAR
    assert {t["code"]: t["available"] for t in store["menu"]["toppings"]}["JALAPENOS"] is False
    assert missing is None


async def test_price_lines_prices_the_golden_path_cart(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    lines = [
        {
            "variantId": variant_id("PEPPERONI-14-HT"),
            "quantity": 2,
            "toppings": [
                {"toppingCode": "MUSHROOMS", "placement": "LEFT", "amount": "NORMAL"},
                {"toppingCode": "ONIONS", "placement": "RIGHT", "amount": "EXTRA"},
            ],
            "instructions": {"bake": "WELL_DONE"},
        },
        {"variantId": variant_id("GARLIC_KNOTS-8"), "quantity": 1},
    ]
    body = await gql(menu, PRICE_LINES, {"storeId": demo_ids.STORE_DOWNTOWN, "lines": lines})
    priced = body["data"]["priceLines"]
    pizza, knots = priced["lines"]
    assert pizza == {
        "index": 0,
        "variantId": variant_id("PEPPERONI-14-HT"),
        "productId": product_id("PEPPERONI"),
        "productName": "Pepperoni Pizza",
        "variantName": '14" Hand Tossed',
        "categoryCode": "PIZZA",
        "size": 14,
        "quantity": 2,
        "unitPrice": {"amount": 1724, "currency": "USD"},
        "lineTotal": {"amount": 3448, "currency": "USD"},
        "description": '14" Hand Tossed Pepperoni Pizza — left: mushrooms; right: extra onions; well done',
    }
    assert (knots["index"], knots["categoryCode"], knots["size"]) == (1, "SIDES", None)
    assert priced["subtotal"] == {"amount": 3448 + 599, "currency": "USD"}


async def test_price_lines_errors_name_the_line_and_field(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    lines = [
        {"variantId": variant_id("COKE-20OZ"), "quantity": 1},
        {
            "variantId": variant_id("MARGHERITA-12-THIN"),
            "quantity": 1,
            "toppings": [
                {"toppingCode": "BASIL", "placement": "WHOLE", "amount": "EXTRA"},
                {"toppingCode": "MOZZARELLA", "placement": "RIGHT", "amount": "DOUBLE"},
            ],
        },
    ]
    body = await gql(menu, PRICE_LINES, {"storeId": demo_ids.STORE_DOWNTOWN, "lines": lines})
    error = body["errors"][0]
    assert error["extensions"] == {"code": "WHOLE_ONLY_TOPPING", "field": "lines[1].toppings[1]"}
    assert error["message"].startswith("Line 2 (Margherita Pizza)")
    assert body["data"] is None


async def test_menu_needs_a_store(start_subgraph) -> None:
    menu = await start_subgraph("menu", load_demo_data=False)
    body = await gql(menu, '{ menu(storeId: " ") { storeId } }')
    assert body["errors"][0]["extensions"] == {"code": "INVALID_STORE", "field": "storeId"}


def test_every_public_type_field_argument_and_value_is_described() -> None:
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("_") or name.startswith("link__"):
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if field_name.startswith("_"):
                    continue
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, d in graphql_type.values.items() if not d.description]
    assert missing == []


async def test_sdl_declares_product_and_store_entities(start_subgraph) -> None:
    menu = await start_subgraph("menu", load_demo_data=False)
    sdl = (await gql(menu, "{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert 'type Product @key(fields: "id")' in sdl
    assert 'type Store @key(fields: "id")' in sdl
    assert "priceLines(" in sdl
