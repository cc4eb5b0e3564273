"""Who resolves a field: ``@provides``, ``@shareable`` (fewest fetches) and ``@override``."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import Case, Query, obj, sdl


def _reviews() -> dict[str, list[dict[str, Any]]]:
    ada = obj("User", id="u1", name="Ada", email="ada@example.com")
    bob = obj("User", id="u2", name="Bob", email="bob@example.com")
    r1 = obj("Review", id="r1", body="Great", author=ada)
    r2 = obj("Review", id="r2", body="Meh", author=bob)
    return {
        "User": [ada, bob],
        "Review": [r1, r2],
        "Query": [{"reviews": [r1, r2], "latest": r2}],
    }


PROVIDES = Case(
    name="provides",
    subgraphs={
        "accounts": sdl(
            """
            type User @key(fields: "id") { id: ID! name: String! @shareable email: String! }
            """
        ),
        "reviews": sdl(
            """
            type Query { reviews: [Review!]! latest: Review }
            type Review { id: ID! body: String! author: User! @provides(fields: "name") }
            type User @key(fields: "id") { id: ID! name: String! @external }
            """
        ),
    },
    data=_reviews,
    queries={
        "provided_only": "{ reviews { body author { name } } }",
        "provided_and_not": "{ reviews { author { name email } } }",
        "not_provided": "{ latest { author { email } } }",
        "typename_and_id": "{ latest { author { __typename id name } } }",
    },
)


def _nested_provides() -> dict[str, list[dict[str, Any]]]:
    acme = obj("Company", id="c1", name="Acme", country="NZ")
    ada = obj("Employee", id="e1", name="Ada", company=acme)
    return {
        "Company": [acme],
        "Employee": [ada],
        "Query": [{"staff": [ada]}],
    }


PROVIDES_NESTED = Case(
    name="provides_nested",
    subgraphs={
        "hr": sdl(
            """
            type Employee @key(fields: "id") { id: ID! name: String! @shareable company: Company! @shareable }
            type Company @key(fields: "id") { id: ID! name: String! @shareable country: String! }
            """
        ),
        "payroll": sdl(
            """
            type Query { staff: [Employee!]! @provides(fields: "name company { name }") }
            type Employee @key(fields: "id") { id: ID! name: String! @external company: Company! @external }
            type Company @key(fields: "id") { id: ID! name: String! @external }
            """
        ),
    },
    data=_nested_provides,
    queries={
        "fully_provided": "{ staff { name company { name } } }",
        "needs_country": "{ staff { company { name country } } }",
    },
)


def _shareable() -> dict[str, list[dict[str, Any]]]:
    table = obj("Product", id="p1", name="Table", price=100, stock=3, rating=4)
    chair = obj("Product", id="p2", name="Chair", price=40, stock=0, rating=5)
    return {
        "Product": [table, chair],
        "Query": [{"catalog": [table, chair], "deals": [chair], "bestRated": table}],
    }


SHAREABLE_CHOICE = Case(
    name="shareable_choice",
    subgraphs={
        "catalog": sdl(
            """
            type Query { catalog: [Product!]! @shareable }
            type Product @key(fields: "id") { id: ID! name: String! @shareable price: Int! @shareable }
            """
        ),
        "pricing": sdl(
            """
            type Query { deals: [Product!]! catalog: [Product!]! @shareable }
            type Product @key(fields: "id") { id: ID! price: Int! @shareable stock: Int! }
            """
        ),
        "ratings": sdl(
            """
            type Query { bestRated: Product }
            type Product @key(fields: "id") { id: ID! name: String! @shareable rating: Int! }
            """
        ),
    },
    data=_shareable,
    queries={
        "stay_in_pricing": "{ deals { price stock } }",
        "stay_in_ratings": "{ bestRated { name rating } }",
        "catalog_with_stock": "{ catalog { price stock } }",
        "catalog_with_name": "{ catalog { name price } }",
        "catalog_all": "{ catalog { name price stock rating } }",
        "deals_name": "{ deals { name } }",
    },
)


def _value_types() -> dict[str, list[dict[str, Any]]]:
    money = obj("Money", amount=12, currency="EUR")
    item = obj("Item", id="i1", cost=money, tax=obj("Money", amount=2, currency="EUR"))
    return {"Item": [item], "Query": [{"items": [item], "cheapest": item}]}


SHAREABLE_VALUE_TYPE = Case(
    name="shareable_value_type",
    subgraphs={
        "items": sdl(
            """
            type Query { items: [Item!]! }
            type Item @key(fields: "id") { id: ID! cost: Money! }
            type Money @shareable { amount: Int! currency: String! }
            """
        ),
        "tax": sdl(
            """
            type Query { cheapest: Item }
            type Item @key(fields: "id") { id: ID! tax: Money! }
            type Money @shareable { amount: Int! currency: String! }
            """
        ),
    },
    data=_value_types,
    queries={
        "both": "{ items { cost { amount currency } tax { amount } } }",
        "from_tax": "{ cheapest { cost { amount } tax { currency } } }",
        "typename": "{ items { cost { __typename } tax { __typename amount } } }",
    },
)


def _override() -> dict[str, list[dict[str, Any]]]:
    order = obj("Order", id="o1", total=42, status="SHIPPED", notes="fragile")
    return {"Order": [order], "Query": [{"order": order, "orders": [order]}]}


OVERRIDE = Case(
    name="override",
    subgraphs={
        "legacy": sdl(
            """
            type Query { orders: [Order!]! }
            type Order @key(fields: "id") { id: ID! total: Int! status: String! }
            """
        ),
        "modern": sdl(
            """
            type Query { order: Order }
            type Order @key(fields: "id") {
              id: ID!
              status: String! @override(from: "legacy")
              notes: String!
            }
            """
        ),
    },
    data=_override,
    queries={
        "overridden_from_legacy": "{ orders { total status } }",
        "overridden_local": "{ order { status notes } }",
        "kept_in_legacy": "{ order { total } }",
    },
)


def _override_shareable() -> dict[str, list[dict[str, Any]]]:
    card = obj("Card", id="k1", holder="Ada", limit=1000, balance=250)
    return {"Card": [card], "Query": [{"cards": [card], "card": card}]}


OVERRIDE_ROOT_AND_SHAREABLE = Case(
    name="override_root_and_shareable",
    subgraphs={
        "old": sdl(
            """
            type Query { cards: [Card!]! card: Card }
            type Card @key(fields: "id") { id: ID! holder: String! @shareable limit: Int! }
            """
        ),
        "new": sdl(
            """
            type Query { card: Card @override(from: "old") }
            type Card @key(fields: "id") {
              id: ID!
              holder: String! @shareable
              limit: Int! @override(from: "old")
              balance: Int!
            }
            """
        ),
    },
    data=_override_shareable,
    queries={
        "root_moved": "{ card { holder limit balance } }",
        "from_old_root": "{ cards { holder limit } }",
        "from_old_root_balance": Query("{ cards { id balance } }"),
    },
)


def _override_labels() -> dict[str, list[dict[str, Any]]]:
    order = obj("Order", id="o1", total=42, status="SHIPPED", notes="fragile", eta=3)
    return {"Order": [order], "Query": [{"order": order, "orders": [order]}]}


# Progressive @override (Federation 2.7 labels). @apollo/gateway 2.14 never passes
# override conditions to its planner: every label is disabled, the original subgraph serves.
# Our router agrees for labels it never enables without a hook: percent(0) and custom labels.
OVERRIDE_LABELS = Case(
    name="override_labels",
    subgraphs={
        "legacy": sdl(
            """
            type Query { orders: [Order!]! }
            type Order @key(fields: "id") { id: ID! total: Int! status: String! notes: String! }
            """
        ),
        "modern": sdl(
            """
            type Query { order: Order }
            type Order @key(fields: "id") {
              id: ID!
              status: String! @override(from: "legacy", label: "percent(0)")
              notes: String! @override(from: "legacy", label: "beta")
              eta: Int!
            }
            """
        ),
    },
    data=_override_labels,
    queries={
        "labelled_from_legacy": "{ orders { total status notes } }",
        "labelled_from_modern_root": "{ order { eta status notes } }",
        "labelled_and_new": "{ orders { status eta } }",
    },
)

CASES = [
    PROVIDES,
    PROVIDES_NESTED,
    SHAREABLE_CHOICE,
    SHAREABLE_VALUE_TYPE,
    OVERRIDE,
    OVERRIDE_ROOT_AND_SHAREABLE,
    OVERRIDE_LABELS,
]
