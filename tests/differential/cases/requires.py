"""``@requires`` and ``@external``: required fields sent with representations, fields with arguments."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import ALIASED_KEY_FIELDS, Case, Computed, Query, obj, sdl

_RATES = {"EU": 2, "US": 3}


def _estimate(source: dict[str, Any], args: dict[str, Any]) -> int:
    base = source["weight"] * _RATES.get(args["zone"], 1)
    return base * 2 if args.get("express") else base


def _products() -> dict[str, list[dict[str, Any]]]:
    table = obj("Product", upc="p1", name="Table", weight=20, price=100)
    lamp = obj("Product", upc="p2", name="Lamp", weight=2, price=30)
    estimate = Computed(_estimate)
    return {
        "Product": [{**table, "estimate": estimate}, {**lamp, "estimate": estimate}],
        "Query": [{"products": [table, lamp], "product": table}],
    }


REQUIRES_WITH_ARGUMENTS = Case(
    name="requires_with_arguments",
    subgraphs={
        "products": sdl(
            """
            type Query { products: [Product!]! product: Product }
            type Product @key(fields: "upc") { upc: ID! name: String! weight: Int! price: Int! }
            """
        ),
        "shipping": sdl(
            """
            type Product @key(fields: "upc") {
              upc: ID!
              weight: Int! @external
              estimate(zone: String!, express: Boolean = false): Int! @requires(fields: "weight")
            }
            """
        ),
    },
    data=_products,
    queries={
        "literal_argument": '{ products { name estimate(zone: "EU") } }',
        "variable_argument": Query(
            "query E($zone: String!, $express: Boolean) { products { estimate(zone: $zone, express: $express) } }",
            variables={"zone": "US", "express": True},
        ),
        "two_aliases": '{ products { eu: estimate(zone: "EU") us: estimate(zone: "US", express: true) } }',
        "with_required_field": '{ product { weight estimate(zone: "EU") } }',
        "weight_aliased": Query(
            '{ product { weight: name estimate(zone: "US") } }',
            known_difference=ALIASED_KEY_FIELDS,
            expected={"data": {"product": {"weight": "Table", "estimate": 60}}, "error_paths": []},
        ),
        "default_variable": Query(
            'query E($zone: String! = "EU") { product { estimate(zone: $zone) } }'
        ),
    },
)


def _boxes() -> dict[str, list[dict[str, Any]]]:
    def volume(source: dict[str, Any], args: dict[str, Any]) -> int:
        size = source["size"]
        total = size["width"] * size["height"] * size["depth"]
        return total // args["unit"] if args.get("unit") else total

    small = obj("Box", id="b1", size=obj("Size", width=1, height=2, depth=3), label="small")
    large = obj("Box", id="b2", size=obj("Size", width=4, height=5, depth=6), label="large")
    return {
        "Box": [{**small, "volume": Computed(volume)}, {**large, "volume": Computed(volume)}],
        "Query": [{"boxes": [small, large]}],
    }


REQUIRES_NESTED = Case(
    name="requires_nested",
    subgraphs={
        "catalog": sdl(
            """
            type Query { boxes: [Box!]! }
            type Box @key(fields: "id") { id: ID! label: String! size: Size! }
            type Size @shareable { width: Int! height: Int! depth: Int! }
            """
        ),
        "warehouse": sdl(
            """
            type Box @key(fields: "id") {
              id: ID!
              size: Size! @external
              volume(unit: Int): Int! @requires(fields: "size { width height depth }")
            }
            type Size @shareable { width: Int! height: Int! depth: Int! }
            """
        ),
    },
    data=_boxes,
    queries={
        "volume": "{ boxes { label volume } }",
        "volume_with_unit": Query(
            "query V($u: Int) { boxes { volume(unit: $u) } }", variables={"u": 2}
        ),
        "partial_size_selected": "{ boxes { size { width } volume } }",
    },
)


def _chain() -> dict[str, list[dict[str, Any]]]:
    def greeting(source: dict[str, Any], _: dict[str, Any]) -> str:
        return f"Hello {source['nickname']} from {source['city']}"

    ada = obj("Person", id="1", name="Ada", nickname="ada99", city="London")
    bob = obj("Person", id="2", name="Bob", nickname="bobby", city="Paris")
    return {
        "Person": [
            {**ada, "greeting": Computed(greeting)},
            {**bob, "greeting": Computed(greeting)},
        ],
        "Query": [{"people": [ada, bob]}],
    }


REQUIRES_FROM_TWO_SUBGRAPHS = Case(
    name="requires_from_two_subgraphs",
    subgraphs={
        "people": sdl(
            """
            type Query { people: [Person!]! }
            type Person @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "profiles": sdl(
            """
            type Person @key(fields: "id") { id: ID! nickname: String! }
            """
        ),
        "addresses": sdl(
            """
            type Person @key(fields: "id") { id: ID! city: String! }
            """
        ),
        "greetings": sdl(
            """
            type Person @key(fields: "id") {
              id: ID!
              nickname: String! @external
              city: String! @external
              greeting: String! @requires(fields: "nickname city")
            }
            """
        ),
    },
    data=_chain,
    queries={
        "greeting": "{ people { name greeting } }",
        "greeting_and_inputs": "{ people { greeting nickname city } }",
        "greeting_only": "{ people { greeting } }",
    },
)


def _requires_entity() -> dict[str, list[dict[str, Any]]]:
    def label(source: dict[str, Any], _: dict[str, Any]) -> str:
        return f"{source['id']} by {source['author']['name']}"

    ann = obj("Author", id="a1", name="Ann")
    ben = obj("Author", id="a2", name="Ben")
    post1 = obj("Post", id="x1", author=ann)
    post2 = obj("Post", id="x2", author=ben)
    return {
        "Author": [ann, ben],
        "Post": [{**post1, "label": Computed(label)}, {**post2, "label": Computed(label)}],
        "Query": [{"posts": [post1, post2]}],
    }


REQUIRES_THROUGH_ENTITY = Case(
    name="requires_through_entity",
    subgraphs={
        "posts": sdl(
            """
            type Query { posts: [Post!]! }
            type Post @key(fields: "id") { id: ID! author: Author! }
            type Author @key(fields: "id") { id: ID! }
            """
        ),
        "authors": sdl(
            """
            type Author @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "labels": sdl(
            """
            type Post @key(fields: "id") {
              id: ID!
              author: Author! @external
              label: String! @requires(fields: "author { name }")
            }
            type Author @key(fields: "id") { id: ID! name: String! @external }
            """
        ),
    },
    data=_requires_entity,
    queries={
        "label": "{ posts { label } }",
        "label_and_author": "{ posts { id label author { id name } } }",
    },
)


def _priced() -> dict[str, list[dict[str, Any]]]:
    def price(source: dict[str, Any], args: dict[str, Any]) -> int:
        return source["base"] * (2 if args["currency"] == "USD" else 1)

    def label(source: dict[str, Any], _: dict[str, Any]) -> str:
        return f"{source['name']}: {source['price']} EUR"

    pen = obj("Item", id="i1", name="Pen", base=3)
    ink = obj("Item", id="i2", name="Ink", base=7)
    for item in (pen, ink):
        item["price"] = Computed(price)
        item["label"] = Computed(label)
    return {"Item": [pen, ink], "Query": [{"items": [pen, ink]}]}


REQUIRED_FIELD_WITH_ARGUMENTS = Case(
    name="required_field_with_arguments",
    subgraphs={
        "shop": sdl(
            """
            type Query { items: [Item!]! }
            type Item @key(fields: "id") { id: ID! name: String! @shareable price(currency: String!): Int! }
            """
        ),
        "labels": sdl(
            """
            type Item @key(fields: "id") {
              id: ID!
              name: String! @shareable
              price(currency: String!): Int! @external
              label: String! @requires(fields: "price(currency: \\"EUR\\")")
            }
            """
        ),
    },
    data=_priced,
    queries={
        "label": "{ items { label } }",
        "label_and_same_price": '{ items { price(currency: "EUR") label } }',
        "label_and_other_price": Query(
            '{ items { price(currency: "USD") label } }',
            known_difference=ALIASED_KEY_FIELDS,
            expected={
                "data": {
                    "items": [
                        {"price": 6, "label": "Pen: 3 EUR"},
                        {"price": 14, "label": "Ink: 7 EUR"},
                    ]
                }
            },
        ),
        "aliased_price": '{ items { p: price(currency: "EUR") label } }',
    },
)

CASES = [
    REQUIRES_WITH_ARGUMENTS,
    REQUIRED_FIELD_WITH_ARGUMENTS,
    REQUIRES_NESTED,
    REQUIRES_FROM_TWO_SUBGRAPHS,
    REQUIRES_THROUGH_ENTITY,
]
