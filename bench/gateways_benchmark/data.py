"""The benchmark subgraphs' data and resolvers, executable with graphql-core.

Same records and the same resolver behaviour as the benchmark's Rust subgraphs
(``federation/subgraphs/<name>/subgraph.rs``), including its quirks, so every gateway gets the
responses the published runs got:
- inventory resolves a ``Product`` entity from its own records only, where ``price`` and
  ``weight`` are unset, so ``shippingEstimate`` is always null (the ``@requires`` values sent in
  the representation are ignored, as the Rust resolver ignores them);
- reviews answers every ``User`` entity with ``username: "user"`` and the first two reviews,
  and ``Review.author`` with user 1 (``urigo``) and the first two reviews.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from graphql import GraphQLSchema, build_schema

from bench.gateways_benchmark import subgraph_sdl

USERS = [
    {"id": "1", "name": "Uri Goldshtein", "username": "urigo", "birthday": 1234567890},
    {"id": "2", "name": "Dotan Simha", "username": "dotansimha", "birthday": 1234567890},
    {"id": "3", "name": "Kamil Kisiela", "username": "kamilkisiela", "birthday": 1234567890},
    {"id": "4", "name": "Arda Tanrikulu", "username": "ardatan", "birthday": 1234567890},
    {"id": "5", "name": "Gil Gardosh", "username": "gilgardosh", "birthday": 1234567890},
    {"id": "6", "name": "Laurin Quast", "username": "laurin", "birthday": 1234567890},
]

PRODUCTS = [
    {"upc": "1", "name": "Table", "price": 899, "weight": 100},
    {"upc": "2", "name": "Couch", "price": 1299, "weight": 1000},
    {"upc": "3", "name": "Glass", "price": 15, "weight": 20},
    {"upc": "4", "name": "Chair", "price": 499, "weight": 100},
    {"upc": "5", "name": "TV", "price": 1299, "weight": 1000},
    {"upc": "6", "name": "Lamp", "price": 6999, "weight": 300},
    {"upc": "7", "name": "Grill", "price": 3999, "weight": 2000},
    {"upc": "8", "name": "Fridge", "price": 100000, "weight": 6000},
    {"upc": "9", "name": "Sofa", "price": 9999, "weight": 800},
]

IN_STOCK = {"1": True, "2": False, "3": False, "4": False, "5": True, "6": True, "7": True}
IN_STOCK |= {"8": False, "9": True}
INVENTORY = [
    {"upc": upc, "inStock": in_stock, "price": None, "weight": None}
    for upc, in_stock in IN_STOCK.items()
]

_LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco "
    "laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in "
    "voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat "
    "cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum."
)
_SED = (
    "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque "
    "laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi "
    "architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit "
    "aspernatur aut odit aut fugi"
)
_QUIA = (
    "sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro "
    "quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia "
    "non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem."
)
_MINIMA = (
    "Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, "
    "nisi ut aliquid ex ea commodi consequatur? Quis autem"
)
_VERO = (
    "At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium "
    "voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati "
    "cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est "
    "laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero "
    "tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime "
    "placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus "
    "autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et "
    "voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a "
    "sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis "
    "doloribus asperiores repellat."
)
_REVIEW_ROWS = [
    ("1", _LOREM, "1"),
    ("2", _SED, "1"),
    ("3", _QUIA, "1"),
    ("4", _MINIMA, "1"),
    ("5", _LOREM, "2"),
    ("6", _SED, "2"),
    ("7", _QUIA, "2"),
    ("8", _MINIMA, "2"),
    ("9", _MINIMA, "3"),
    ("10", _MINIMA, "4"),
    ("11", _VERO, "4"),
]
REVIEWS = [{"id": i, "body": body, "product": {"upc": upc}} for i, body, upc in _REVIEW_ROWS]

_FEDERATION_PRELUDE = """
scalar _Any
scalar link__Import
type _Service { sdl: String }
directive @key(fields: String!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @external on FIELD_DEFINITION | OBJECT
directive @shareable repeatable on FIELD_DEFINITION | OBJECT
directive @requires(fields: String!) on FIELD_DEFINITION
directive @provides(fields: String!) on FIELD_DEFINITION
directive @link(url: String, import: [link__Import]) repeatable on SCHEMA
"""


def _shipping_estimate(product: dict[str, Any], _info: Any) -> int | None:
    price, weight = product.get("price"), product.get("weight")
    if price is None:
        return None
    if price > 1000:
        return 0
    return None if weight is None else weight // 2


def _review_author(_review: dict[str, Any], _info: Any) -> dict[str, Any]:
    return {"id": "1", "username": "urigo", "reviews": REVIEWS[0:2]}


def _product_reviews(product: dict[str, Any], _info: Any) -> list[dict[str, Any]]:
    return [r for r in REVIEWS if r["product"]["upc"] == product["upc"]]


def _find(records: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    for record in records:
        if record[key] == value:
            return record
    raise ValueError(f"no record with {key} {value!r}")


# Entity resolvers per subgraph: __typename -> representation -> object.
_ENTITIES: dict[str, dict[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "accounts": {"User": lambda rep: _find(USERS, "id", rep["id"])},
    "products": {"Product": lambda rep: _find(PRODUCTS, "upc", rep["upc"])},
    "inventory": {"Product": lambda rep: _find(INVENTORY, "upc", rep["upc"])},
    "reviews": {
        "Review": lambda rep: _find(REVIEWS, "id", rep["id"]),
        "User": lambda rep: {"id": rep["id"], "username": "user", "reviews": REVIEWS[0:2]},
        "Product": lambda rep: {"upc": rep["upc"]},
    },
}

_ROOT_RESOLVERS: dict[str, dict[str, Callable[..., Any]]] = {
    "accounts": {
        "me": lambda _root, _info: USERS[0],
        "user": lambda _root, _info, id: next((u for u in USERS if u["id"] == id), None),
        "users": lambda _root, _info: USERS,
    },
    "products": {"topProducts": lambda _root, _info, first=5: PRODUCTS[:first]},
}


def build_subgraph_schema(name: str) -> GraphQLSchema:
    """The executable subgraph schema (with ``_entities`` and ``_service``)."""
    sdl = subgraph_sdl(name)
    body = re.sub(r"extend schema\s+(@link\([^)]*\)\s*)+", "", sdl)
    entity_types = sorted(_ENTITIES[name])
    query_fields = "_entities(representations: [_Any!]!): [_Entity]!\n  _service: _Service!"
    keyword = "extend type" if "type Query" in body else "type"
    schema = build_schema(
        f"{_FEDERATION_PRELUDE}\n{body}\nunion _Entity = {' | '.join(entity_types)}\n"
        f"{keyword} Query {{\n  {query_fields}\n}}\n"
    )
    query_type = schema.query_type
    assert query_type is not None
    for field_name, resolver in _ROOT_RESOLVERS.get(name, {}).items():
        query_type.fields[field_name].resolve = resolver
    resolvers = _ENTITIES[name]

    def entities(_root: Any, _info: Any, representations: list[dict[str, Any]]) -> list[Any]:
        return [
            {**resolvers[rep["__typename"]](rep), "__typename": rep["__typename"]}
            for rep in representations
        ]

    query_type.fields["_entities"].resolve = entities
    query_type.fields["_service"].resolve = lambda _root, _info: {"sdl": sdl}
    entity_union = schema.get_type("_Entity")
    entity_union.resolve_type = lambda obj, _info, _type: obj["__typename"]  # type: ignore[union-attr]
    if name == "inventory":
        schema.get_type("Product").fields["shippingEstimate"].resolve = _shipping_estimate  # type: ignore[union-attr]
    if name == "reviews":
        schema.get_type("Review").fields["author"].resolve = _review_author  # type: ignore[union-attr]
        schema.get_type("Product").fields["reviews"].resolve = _product_reviews  # type: ignore[union-attr]
    return schema
