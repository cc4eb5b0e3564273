"""Root fields by owning subgraph and entity jumps through every kind of resolvable ``@key``."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import ALIASED_KEY_FIELDS, Case, Computed, Query, obj, sdl


def _root_data() -> dict[str, list[dict[str, Any]]]:
    ada = obj("User", id="u1", name="Ada")
    bob = obj("User", id="u2", name="Bob")
    table = obj("Product", upc="p1", name="Table", price=100)
    chair = obj("Product", upc="p2", name="Chair", price=40)
    return {
        "User": [ada, bob],
        "Product": [table, chair],
        "Query": [
            {
                "me": ada,
                "users": [ada, bob],
                "topProducts": Computed(lambda _, args: [table, chair][: args.get("first", 2)]),
                "product": Computed(
                    lambda _, args: next(
                        (p for p in (table, chair) if p["upc"] == args["upc"]), None
                    )
                ),
            }
        ],
    }


ROOT_FIELDS = Case(
    name="root_fields",
    subgraphs={
        "accounts": sdl(
            """
            type Query { me: User users: [User!]! }
            type User @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "products": sdl(
            """
            type Query { topProducts(first: Int = 2): [Product!]! product(upc: ID!): Product }
            type Product @key(fields: "upc") { upc: ID! name: String! price: Int! }
            """
        ),
    },
    data=_root_data,
    queries={
        "one_subgraph": "{ me { id name } }",
        "two_subgraphs": "{ me { name } topProducts { upc name } }",
        "typename_at_root": "{ __typename me { __typename id } }",
        "aliases": '{ a: product(upc: "p1") { n: name } b: product(upc: "p2") { n: name upc } me { who: name } }',
        "variables": Query(
            "query Top($n: Int, $upc: ID!) { topProducts(first: $n) { name } product(upc: $upc) { price } }",
            variables={"n": 1, "upc": "p2"},
        ),
        "default_argument": "{ topProducts { name } }",
        "missing_entity": '{ product(upc: "nope") { name } }',
        "named_operation": Query(
            "query A { me { id } } query B { users { name } }", operation_name="B"
        ),
    },
)


def _multiple_keys_data() -> dict[str, list[dict[str, Any]]]:
    table = obj("Product", id="p1", sku="SKU-1", name="Table")
    chair = obj("Product", id="p2", sku="SKU-2", name="Chair")
    review = obj("Review", id="r1", body="Sturdy", product=table)
    review2 = obj("Review", id="r2", body="Wobbly", product=chair)
    return {
        "Product": [
            {**table, "stock": 3, "reviews": [review]},
            {**chair, "stock": 0, "reviews": [review2]},
        ],
        "Review": [review, review2],
        "Query": [{"products": [table, chair], "reviews": [review, review2]}],
    }


MULTIPLE_KEYS = Case(
    name="multiple_keys",
    subgraphs={
        "products": sdl(
            """
            type Query { products: [Product!]! }
            type Product @key(fields: "id") @key(fields: "sku") { id: ID! sku: String! name: String! }
            """
        ),
        "inventory": sdl(
            """
            type Product @key(fields: "sku") { sku: String! stock: Int! }
            """
        ),
        "reviews": sdl(
            """
            type Query { reviews: [Review!]! }
            type Review { id: ID! body: String! product: Product! }
            type Product @key(fields: "id") { id: ID! reviews: [Review!]! }
            """
        ),
    },
    data=_multiple_keys_data,
    queries={
        "id_to_sku": "{ reviews { body product { name stock } } }",
        "products_everything": "{ products { id sku name stock reviews { body } } }",
        "stock_only": "{ reviews { product { stock } } }",
        "round_trip": "{ products { reviews { product { sku stock } } } }",
    },
)


def _compound_data() -> dict[str, list[dict[str, Any]]]:
    alice = obj("Member", org="acme", number=1, name="Alice")
    carl = obj("Member", org="acme", number=2, name="Carl")
    dora = obj("Member", org="beta", number=1, name="Dora")
    return {
        "Member": [
            {**alice, "badges": ["gold"]},
            {**carl, "badges": []},
            {**dora, "badges": ["silver", "bronze"]},
        ],
        "Query": [{"members": [alice, carl, dora]}],
    }


COMPOUND_KEY = Case(
    name="compound_key",
    subgraphs={
        "directory": sdl(
            """
            type Query { members: [Member!]! }
            type Member @key(fields: "org number") { org: String! number: Int! name: String! }
            """
        ),
        "badges": sdl(
            """
            type Member @key(fields: "org number") { org: String! number: Int! badges: [String!]! }
            """
        ),
    },
    data=_compound_data,
    queries={
        "badges": "{ members { name badges } }",
        "badges_only": "{ members { badges } }",
        "key_aliased": Query(
            "{ members { number: name org: badges } }",
            known_difference=ALIASED_KEY_FIELDS,
            expected={
                "data": {
                    "members": [
                        {"number": "Alice", "org": ["gold"]},
                        {"number": "Carl", "org": []},
                        {"number": "Dora", "org": ["silver", "bronze"]},
                    ]
                },
                "error_paths": [],
            },
        ),
        "typename": "{ members { __typename badges } }",
    },
)


def _nested_key_data() -> dict[str, list[dict[str, Any]]]:
    acme = obj("Org", id="o1", name="Acme")
    beta = obj("Org", id="o2", name="Beta")
    repo1 = obj("Repo", id="r1", owner=acme, title="router")
    repo2 = obj("Repo", id="r1", owner=beta, title="fork")
    return {
        "Org": [acme, beta],
        "Repo": [{**repo1, "stars": 10}, {**repo2, "stars": 2}],
        "Query": [{"repos": [repo1, repo2]}],
    }


NESTED_KEY = Case(
    name="nested_key",
    subgraphs={
        "code": sdl(
            """
            type Query { repos: [Repo!]! }
            type Repo @key(fields: "id owner { id }") { id: ID! owner: Org! title: String! }
            type Org @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "stars": sdl(
            """
            type Repo @key(fields: "id owner { id }") { id: ID! owner: Org! stars: Int! }
            type Org @key(fields: "id", resolvable: false) { id: ID! }
            """
        ),
    },
    data=_nested_key_data,
    queries={
        "stars": "{ repos { title stars } }",
        "stars_and_owner": "{ repos { stars owner { name } } }",
        "owner_aliased": Query(
            "{ repos { owner: title stars } }",
            known_difference=ALIASED_KEY_FIELDS,
            expected={
                "data": {
                    "repos": [{"owner": "router", "stars": 10}, {"owner": "fork", "stars": 2}]
                },
                "error_paths": [],
            },
        ),
    },
)


def _chain_data() -> dict[str, list[dict[str, Any]]]:
    a = obj("Shipment", id="s1", code="SH1")
    b = obj("Shipment", id="s2", code="SH2")
    return {
        "Shipment": [
            {**a, "carrierId": "c1", "carrier": obj("Carrier", id="c1"), "eta": "today"},
            {**b, "carrierId": "c2", "carrier": obj("Carrier", id="c2"), "eta": "tomorrow"},
        ],
        "Carrier": [
            obj("Carrier", id="c1", name="Fast", phone="111"),
            obj("Carrier", id="c2", name="Slow", phone="222"),
        ],
        "Query": [{"shipments": [a, b]}],
    }


KEY_CHAIN = Case(
    name="key_chain",
    subgraphs={
        "orders": sdl(
            """
            type Query { shipments: [Shipment!]! }
            type Shipment @key(fields: "id") { id: ID! code: String! }
            """
        ),
        "logistics": sdl(
            """
            type Shipment @key(fields: "id") { id: ID! carrier: Carrier! eta: String! }
            type Carrier @key(fields: "id") { id: ID! }
            """
        ),
        "carriers": sdl(
            """
            type Carrier @key(fields: "id") { id: ID! name: String! phone: String! }
            """
        ),
    },
    data=_chain_data,
    queries={
        "two_jumps": "{ shipments { code carrier { name } } }",
        "all": "{ shipments { id code eta carrier { id name phone } } }",
        "deep_only": "{ shipments { carrier { phone } } }",
    },
)

CASES = [ROOT_FIELDS, MULTIPLE_KEYS, COMPOUND_KEY, NESTED_KEY, KEY_CHAIN]
