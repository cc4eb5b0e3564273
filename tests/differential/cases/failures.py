"""Subgraph errors re-pathed to client paths, failing subgraphs and null propagation."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from tests.differential.harness import FAILED_FETCH_ERRORS, Case, Computed, Fail, Query, obj, sdl


def _shop() -> dict[str, list[dict[str, Any]]]:
    def discount(source: dict[str, Any], _: dict[str, Any]) -> int:
        if source["upc"] == "p2":
            raise_error("no discount for p2")
        return 5

    table = obj("Product", upc="p1", name="Table", stock=3, warehouse=obj("Warehouse", city="Oslo"))
    chair = obj(
        "Product", upc="p2", name="Chair", stock=Fail("stock service failed"), warehouse=None
    )
    lamp = obj(
        "Product", upc="p3", name="Lamp", stock=1, warehouse=obj("Warehouse", city=Fail("no city"))
    )
    products = [table, chair, lamp]
    for product in products:
        product["discount"] = Computed(discount)
        product["strictStock"] = product["stock"]
        product["label"] = Fail("label failed") if product["upc"] == "p3" else product["name"]
    return {
        "Product": products,
        "Query": [
            {
                "products": products,
                "product": table,
                "broken": Fail("root failed"),
                "brokenList": [table, None],
                "version": "1.0",
            }
        ],
    }


def raise_error(message: str) -> None:
    """Raise a GraphQL error from a computed field."""
    raise GraphQLError(message)


FAILURES = Case(
    name="failures",
    subgraphs={
        "products": sdl(
            """
            type Query {
              products: [Product!]!
              product: Product
              broken: String
              brokenList: [Product]!
              version: String!
            }
            type Product @key(fields: "upc") {
              upc: ID!
              name: String!
              label: String
            }
            """
        ),
        "inventory": sdl(
            """
            type Product @key(fields: "upc") {
              upc: ID!
              stock: Int
              strictStock: Int!
              discount: Int
              warehouse: Warehouse
            }
            type Warehouse { city: String! }
            """
        ),
    },
    data=_shop,
    queries={
        "nullable_entity_field_error": "{ products { name stock } }",
        "non_null_entity_field_error": "{ products { name strictStock } }",
        "non_null_in_nullable_parent": "{ product { name strictStock } version }",
        "computed_error": "{ products { upc discount } }",
        "nested_error": "{ products { warehouse { city } } }",
        "root_error": "{ broken version }",
        "local_error": "{ products { upc label } }",
        "null_list_item": "{ brokenList { name stock } }",
        "aliased_error_path": "{ items: products { n: name s: stock } }",
        "entity_subgraph_down": Query(
            "{ products { name stock } }",
            down=frozenset({"inventory"}),
            known_difference=FAILED_FETCH_ERRORS,
            expected={"error_paths": [["products", "@"]]},
        ),
        "entity_subgraph_down_non_null": Query(
            "{ product { name strictStock } version }",
            down=frozenset({"inventory"}),
            known_difference=FAILED_FETCH_ERRORS,
            expected={"error_paths": [["product"]]},
        ),
        "root_subgraph_down": Query(
            "{ products { name } }",
            down=frozenset({"products"}),
            known_difference=FAILED_FETCH_ERRORS,
            expected={"error_paths": [None, ["products"]]},
        ),
    },
)


def _two_roots() -> dict[str, list[dict[str, Any]]]:
    ada = obj("User", id="u1", name="Ada", score=Fail("score failed"))
    return {
        "User": [ada],
        "Query": [{"me": ada, "weather": "sunny", "strictWeather": "rainy"}],
    }


FAILING_ROOT_SUBGRAPH = Case(
    name="failing_root_subgraph",
    subgraphs={
        "accounts": sdl(
            """
            type Query { me: User! }
            type User @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "weather": sdl(
            """
            type Query { weather: String strictWeather: String! }
            """
        ),
        "scores": sdl(
            """
            type User @key(fields: "id") { id: ID! score: Int }
            """
        ),
    },
    data=_two_roots,
    queries={
        "one_root_down": Query("{ me { name } weather }", down=frozenset({"weather"})),
        "non_null_root_down": Query(
            "{ me { name } strictWeather }",
            down=frozenset({"weather"}),
            known_difference=FAILED_FETCH_ERRORS,
            expected={"error_paths": [None, ["strictWeather"]]},
        ),
        "non_null_root_object_down": Query(
            "{ me { name } weather }",
            down=frozenset({"accounts"}),
            known_difference=FAILED_FETCH_ERRORS,
            expected={"error_paths": [None, ["me"]]},
        ),
        "error_in_nested_entity": "{ me { name score } weather }",
        "scores_down": Query(
            "{ me { name score } }",
            down=frozenset({"scores"}),
            known_difference=FAILED_FETCH_ERRORS,
            expected={"error_paths": [["me"]]},
        ),
    },
)

CASES = [FAILURES, FAILING_ROOT_SUBGRAPH]
