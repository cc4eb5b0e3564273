"""Edge cases: inaccessible keys, unresolvable references, round trips, deduplication, nesting."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import Case, Computed, Query, obj, sdl


def _internal_ids() -> dict[str, list[dict[str, Any]]]:
    def score(source: dict[str, Any], _: dict[str, Any]) -> int:
        return len(source["internalCode"])

    ada = obj("Customer", email="ada@x.io", internalId="c-001", name="Ada", internalCode="abc")
    bob = obj("Customer", email="bob@x.io", internalId="c-002", name="Bob", internalCode="abcdef")
    for customer in (ada, bob):
        customer["tier"] = "gold" if customer is ada else "basic"
        customer["score"] = Computed(score)
    return {"Customer": [ada, bob], "Query": [{"customers": [ada, bob]}]}


INACCESSIBLE_KEYS_AND_REQUIRES = Case(
    name="inaccessible_keys_and_requires",
    subgraphs={
        "crm": sdl(
            """
            type Query { customers: [Customer!]! }
            type Customer @key(fields: "internalId") {
              internalId: ID! @inaccessible
              email: String!
              name: String!
              internalCode: String! @inaccessible
            }
            """
        ),
        "loyalty": sdl(
            """
            type Customer @key(fields: "internalId") {
              internalId: ID! @inaccessible
              tier: String!
              internalCode: String! @external
              score: Int! @requires(fields: "internalCode")
            }
            """
        ),
    },
    data=_internal_ids,
    queries={
        "through_inaccessible_key": "{ customers { name tier } }",
        "requires_inaccessible_field": "{ customers { email score } }",
    },
)


def _references() -> dict[str, list[dict[str, Any]]]:
    ada = obj("User", id="u1", name="Ada")
    bob = obj("User", id="u2", name="Bob")
    ghost = obj("User", id="u404")
    c1 = obj("Comment", id="c1", text="hi", author=ada)
    c2 = obj("Comment", id="c2", text="yo", author=bob)
    c3 = obj("Comment", id="c3", text="again", author=ada)
    c4 = obj("Comment", id="c4", text="who?", author=ghost)
    return {
        "User": [ada, bob],
        "Comment": [c1, c2, c3, c4],
        "Query": [{"comments": [c1, c2, c3], "withGhost": [c1, c4]}],
    }


REFERENCES_AND_DEDUPLICATION = Case(
    name="references_and_deduplication",
    subgraphs={
        "users": sdl(
            """
            type User @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "comments": sdl(
            """
            type Query { comments: [Comment!]! withGhost: [Comment!]! }
            type Comment { id: ID! text: String! author: User! }
            type User @key(fields: "id", resolvable: false) { id: ID! }
            """
        ),
    },
    data=_references,
    queries={
        "repeated_authors": "{ comments { text author { name } } }",
        "key_only": "{ comments { author { id __typename } } }",
        "unknown_entity_nullable_parent": "{ withGhost { text author { id name } } }",
        "twice_same_entity": "{ a: comments { author { name } } b: comments { author { n: name } } }",
    },
)


def _round_trip() -> dict[str, list[dict[str, Any]]]:
    def summary(source: dict[str, Any], _: dict[str, Any]) -> str:
        return f"{source['title']} ({source['rating']}/5)"

    b1 = obj("Book", isbn="1", title="Dune", rating=5)
    b2 = obj("Book", isbn="2", title="Emma", rating=3)
    for book in (b1, b2):
        book["summary"] = Computed(summary)
        book["related"] = [b2] if book is b1 else [b1]
    return {"Book": [b1, b2], "Query": [{"books": [b1, b2]}]}


ROUND_TRIP_REQUIRES = Case(
    name="round_trip_requires",
    subgraphs={
        "books": sdl(
            """
            type Query { books: [Book!]! }
            type Book @key(fields: "isbn") {
              isbn: ID!
              title: String!
              rating: Int! @external
              summary: String! @requires(fields: "rating")
            }
            """
        ),
        "reviews": sdl(
            """
            type Book @key(fields: "isbn") { isbn: ID! rating: Int! related: [Book!]! }
            """
        ),
    },
    data=_round_trip,
    queries={
        "back_to_the_root_subgraph": "{ books { title summary } }",
        "nested_round_trip": "{ books { related { title summary rating } } }",
    },
)


def _matrix() -> dict[str, list[dict[str, Any]]]:
    cells = [[obj("Cell", id=f"{r}{c}") for c in range(2)] for r in range(2)]
    records = []
    for row in cells:
        for cell in row:
            cell["value"] = int(cell["id"]) + 1
            records.append(cell)
    return {
        "Cell": records,
        "Query": [{"grid": cells, "sparse": [[cells[0][0], None], None, [cells[1][1]]]}],
    }


NESTED_LISTS = Case(
    name="nested_lists",
    subgraphs={
        "layout": sdl(
            """
            type Query { grid: [[Cell!]!]! sparse: [[Cell]] }
            type Cell @key(fields: "id") { id: ID! }
            """
        ),
        "values": sdl(
            """
            type Cell @key(fields: "id") { id: ID! value: Int! }
            """
        ),
    },
    data=_matrix,
    queries={
        "grid": "{ grid { id value } }",
        "sparse": "{ sparse { value } }",
    },
)


def _levels() -> dict[str, list[dict[str, Any]]]:
    def total(source: dict[str, Any], _: dict[str, Any]) -> int:
        return source["subtotal"] + 1

    def subtotal(source: dict[str, Any], _: dict[str, Any]) -> int:
        return source["base"] * 10

    cart = obj("Cart", id="k1", base=3)
    cart["subtotal"] = Computed(subtotal)
    cart["total"] = Computed(total)
    return {"Cart": [cart], "Query": [{"cart": cart}]}


REQUIRES_OF_REQUIRES = Case(
    name="requires_of_requires",
    subgraphs={
        "carts": sdl(
            """
            type Query { cart: Cart }
            type Cart @key(fields: "id") { id: ID! base: Int! }
            """
        ),
        "pricing": sdl(
            """
            type Cart @key(fields: "id") {
              id: ID!
              base: Int! @external
              subtotal: Int! @requires(fields: "base")
            }
            """
        ),
        "checkout": sdl(
            """
            type Cart @key(fields: "id") {
              id: ID!
              subtotal: Int! @external
              total: Int! @requires(fields: "subtotal")
            }
            """
        ),
    },
    data=_levels,
    queries={
        "total": "{ cart { total } }",
        "all": "{ cart { base subtotal total } }",
    },
)


def _feed() -> dict[str, list[dict[str, Any]]]:
    dune = obj("Book", id="b1", title="Dune", pages=412)
    alien = obj("Movie", id="m1", title="Alien", minutes=117)
    post = obj("Post", id="p1", attachments=[dune, alien], pinned=alien)
    return {
        "Book": [dune],
        "Movie": [alien],
        "Post": [post],
        "Query": [{"feed": [post]}],
    }


UNION_FROM_ENTITY_FIELD = Case(
    name="union_from_entity_field",
    subgraphs={
        "posts": sdl(
            """
            type Query { feed: [Post!]! }
            type Post @key(fields: "id") { id: ID! }
            """
        ),
        "attachments": sdl(
            """
            type Post @key(fields: "id") { id: ID! attachments: [Attachment!]! pinned: Attachment }
            union Attachment = Book | Movie
            type Book @key(fields: "id") { id: ID! }
            type Movie @key(fields: "id") { id: ID! }
            """
        ),
        "media": sdl(
            """
            type Book @key(fields: "id") { id: ID! title: String! pages: Int! }
            type Movie @key(fields: "id") { id: ID! title: String! minutes: Int! }
            """
        ),
    },
    data=_feed,
    queries={
        "members_from_third_subgraph": (
            "{ feed { attachments { __typename ... on Book { title pages } ... on Movie { title } } } }"
        ),
        "pinned_and_list": "{ feed { pinned { ... on Movie { minutes } } attachments { ... on Book { id } } } }",
    },
)


def _progressive() -> dict[str, list[dict[str, Any]]]:
    item = obj("Item", id="i1", price=9, name="Pen")
    return {"Item": [item], "Query": [{"items": [item]}]}


PROGRESSIVE_OVERRIDE = Case(
    name="progressive_override",
    subgraphs={
        "old": sdl(
            """
            type Query { items: [Item!]! }
            type Item @key(fields: "id") { id: ID! name: String! price: Int! }
            """
        ),
        "new": sdl(
            """
            type Item @key(fields: "id") { id: ID! price: Int! @override(from: "old", label: "percent(0)") }
            """
        ),
    },
    data=_progressive,
    queries={"price": "{ items { name price } }"},
)


def _root_groups() -> dict[str, list[dict[str, Any]]]:
    shop = obj("Shop", id="s1", name="Main", open=True, rating=4)
    return {
        "Shop": [shop],
        "Query": [{"shop": shop, "shops": [shop], "status": "ok", "health": "green"}],
    }


SHAREABLE_ROOT_JOINS_OPEN_FETCH = Case(
    name="shareable_root_joins_open_fetch",
    subgraphs={
        "a": sdl(
            """
            type Query { shop: Shop @shareable status: String! }
            type Shop @key(fields: "id") { id: ID! name: String! @shareable }
            """
        ),
        "b": sdl(
            """
            type Query { shop: Shop @shareable health: String! }
            type Shop @key(fields: "id") { id: ID! name: String! @shareable open: Boolean! }
            """
        ),
        "c": sdl(
            """
            type Shop @key(fields: "id") { id: ID! rating: Int! }
            """
        ),
    },
    data=_root_groups,
    queries={
        "join_a": "{ status shop { name } }",
        "join_b": "{ health shop { name } }",
        "needs_b": "{ status shop { open } }",
        "both_roots": "{ status health shop { name open rating } }",
    },
)


def _batch() -> dict[str, list[dict[str, Any]]]:
    items = [obj("Sku", id=str(i), label=f"sku-{i}", stock=i % 4) for i in range(60)]
    return {"Sku": items, "Query": [{"skus": items + items[:10]}]}


LARGE_BATCH = Case(
    name="large_batch",
    subgraphs={
        "catalog": sdl(
            """
            type Query { skus: [Sku!]! }
            type Sku @key(fields: "id") { id: ID! label: String! }
            """
        ),
        "stock": sdl(
            """
            type Sku @key(fields: "id") { id: ID! stock: Int! }
            """
        ),
    },
    data=_batch,
    queries={
        "seventy_items_one_fetch": "{ skus { label stock } }",
        "conditional": Query(
            "query S($s: Boolean!) { skus { label stock @skip(if: $s) } }", variables={"s": True}
        ),
    },
)

CASES = [
    INACCESSIBLE_KEYS_AND_REQUIRES,
    REFERENCES_AND_DEDUPLICATION,
    ROUND_TRIP_REQUIRES,
    NESTED_LISTS,
    REQUIRES_OF_REQUIRES,
    UNION_FROM_ENTITY_FIELD,
    PROGRESSIVE_OVERRIDE,
    SHAREABLE_ROOT_JOINS_OPEN_FETCH,
    LARGE_BATCH,
]
