"""Operation features: fragments, variables, ``@skip``/``@include``, mutations in order,
introspection, ``@inaccessible`` and enums whose values differ between subgraphs."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import Case, Computed, Query, obj, sdl


def _blog() -> dict[str, list[dict[str, Any]]]:
    ann = obj("Author", id="a1", name="Ann", bio="Writes")
    p1 = obj("Post", id="p1", title="Hello", author=ann, likes=3, tags=["intro"])
    p2 = obj("Post", id="p2", title="Again", author=ann, likes=0, tags=[])
    return {
        "Author": [ann],
        "Post": [p1, p2],
        "Query": [
            {
                "posts": Computed(lambda _, args: [p1, p2][: args.get("limit") or 2]),
                "post": Computed(lambda _, args: {"p1": p1, "p2": p2}.get(args["id"])),
            }
        ],
    }


_BLOG_SUBGRAPHS = {
    "content": sdl(
        """
        type Query { posts(limit: Int): [Post!]! post(id: ID!): Post }
        type Post @key(fields: "id") { id: ID! title: String! author: Author! }
        type Author @key(fields: "id") { id: ID! name: String! }
        """
    ),
    "social": sdl(
        """
        type Post @key(fields: "id") { id: ID! likes: Int! tags: [String!]! }
        type Author @key(fields: "id") { id: ID! bio: String! }
        """
    ),
}

FRAGMENTS_AND_VARIABLES = Case(
    name="fragments_and_variables",
    subgraphs=_BLOG_SUBGRAPHS,
    data=_blog,
    queries={
        "named_fragments": """
            query { posts { ...PostFields author { ...AuthorFields } } }
            fragment PostFields on Post { id title likes }
            fragment AuthorFields on Author { name bio }
        """,
        "nested_fragments": """
            query { post(id: "p1") { ...Outer } }
            fragment Outer on Post { title ...Inner }
            fragment Inner on Post { likes author { __typename bio } }
        """,
        "inline_without_type": "{ posts { ... { title } ... on Post { tags } } }",
        "same_field_twice": "{ posts { title likes author { name } author { bio } } }",
        "variables_in_arguments": Query(
            "query P($id: ID!, $limit: Int) { post(id: $id) { title likes } posts(limit: $limit) { id } }",
            variables={"id": "p2", "limit": 1},
        ),
        "aliases_everywhere": """
            { first: post(id: "p1") { t: title l: likes a: author { n: name b: bio } }
              second: post(id: "p2") { t: likes } }
        """,
        "typename_everywhere": """
            { __typename posts { __typename author { __typename } } alias: post(id: "p1") { kind: __typename } }
        """,
    },
)

SKIP_INCLUDE = Case(
    name="skip_include",
    subgraphs=_BLOG_SUBGRAPHS,
    data=_blog,
    queries={
        "include_remote_false": Query(
            "query Q($with: Boolean!) { posts { title likes @include(if: $with) } }",
            variables={"with": False},
        ),
        "include_remote_true": Query(
            "query Q($with: Boolean!) { posts { title likes @include(if: $with) } }",
            variables={"with": True},
        ),
        "skip_fragment": Query(
            "query Q($skip: Boolean!) { posts { title ... on Post @skip(if: $skip) { tags author { bio } } } }",
            variables={"skip": True},
        ),
        "skip_named_fragment_false": Query(
            "query Q($skip: Boolean!) { posts { title ...S @skip(if: $skip) } } fragment S on Post { tags }",
            variables={"skip": False},
        ),
        "literal_conditions": "{ posts { title @skip(if: true) likes @include(if: true) id @include(if: false) } }",
        "both_on_one_field": Query(
            "query Q($a: Boolean!, $b: Boolean!) { posts { likes @include(if: $a) @skip(if: $b) title } }",
            variables={"a": True, "b": False},
        ),
        "default_condition": Query(
            "query Q($a: Boolean = false) { posts { likes @include(if: $a) title } }"
        ),
    },
)


def _bank() -> dict[str, list[dict[str, Any]]]:
    state: dict[str, Any] = {"balance": 10, "log": []}
    account = obj(
        "Account",
        id="acc",
        owner="Ada",
        balance=Computed(lambda *_: state["balance"]),
        history=Computed(lambda *_: list(state["log"])),
    )

    def deposit(_: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        state["balance"] += args["amount"]
        state["log"].append(f"deposit {args['amount']}")
        return account

    def double(_: dict[str, Any], __: dict[str, Any]) -> dict[str, Any]:
        state["balance"] *= 2
        state["log"].append("double")
        return account

    return {
        "Account": [account],
        "Query": [{"account": account}],
        "Mutation": [{"deposit": Computed(deposit), "double": Computed(double)}],
    }


MUTATIONS_IN_ORDER = Case(
    name="mutations_in_order",
    subgraphs={
        "ledger": sdl(
            """
            type Query { account: Account }
            type Mutation { deposit(amount: Int!): Account! }
            type Account @key(fields: "id") { id: ID! balance: Int! @shareable owner: String! }
            """
        ),
        "interest": sdl(
            """
            type Mutation { double: Account! }
            type Account @key(fields: "id") { id: ID! balance: Int! @shareable history: [String!]! }
            """
        ),
    },
    data=_bank,
    queries={
        "interleaved": """
            mutation { a: deposit(amount: 5) { balance } b: double { balance }
                       c: deposit(amount: 1) { balance history } }
        """,
        "with_entity_jump": "mutation { double { owner history } }",
        "with_variables": Query(
            "mutation M($n: Int!) { deposit(amount: $n) { balance } double { balance owner } }",
            variables={"n": 7},
        ),
        "query_after": "{ account { balance history owner } }",
    },
)


def _catalog() -> dict[str, list[dict[str, Any]]]:
    table = obj("Product", id="p1", name="Table", secret="s1", cost=10, color="RED")
    return {"Product": [table], "Query": [{"product": table, "hidden": "x"}]}


INTROSPECTION_AND_INACCESSIBLE = Case(
    name="introspection_and_inaccessible",
    subgraphs={
        "catalog": sdl(
            """
            type Query { product: Product hidden: String @inaccessible }
            type Product @key(fields: "id") {
              id: ID!
              name: String!
              secret: String! @inaccessible
              color: Color!
            }
            enum Color { RED GREEN BLUE @inaccessible }
            """
        ),
        "pricing": sdl(
            """
            type Product @key(fields: "id") { id: ID! cost: Int! }
            """
        ),
    },
    data=_catalog,
    queries={
        "schema_roots": "{ __schema { queryType { name } mutationType { name } } }",
        "type_fields": '{ __type(name: "Product") { name kind fields { name type { name kind ofType { name } } } } }',
        "enum_values": '{ __type(name: "Color") { enumValues { name } } }',
        "inaccessible_type_names": "{ __schema { types { name } } }",
        "mixed_with_data": '{ product { name cost color } __type(name: "Query") { fields { name } } }',
        "inaccessible_field_rejected": "{ product { secret } }",
        "inaccessible_root_rejected": "{ hidden }",
        "typename_on_introspection": '{ __type(name: "Product") { __typename name } }',
    },
)


def _statuses() -> dict[str, list[dict[str, Any]]]:
    t1 = obj("Ticket", id="t1", status="OPEN", level="HIGH", archived="ARCHIVED")
    t2 = obj("Ticket", id="t2", status="CLOSED", level="LOW", archived="OPEN")
    tickets = [t1, t2]
    return {
        "Ticket": tickets,
        "Query": [
            {
                "tickets": Computed(
                    lambda _, args: [t for t in tickets if args.get("level") in (None, t["level"])]
                ),
                "byLevel": Computed(
                    lambda _, args: [t for t in tickets if t["level"] == args["level"]]
                ),
            }
        ],
    }


ENUM_VALUES_ACROSS_SUBGRAPHS = Case(
    name="enum_values_across_subgraphs",
    subgraphs={
        "support": sdl(
            """
            type Query { tickets(level: Level): [Ticket!]! }
            type Ticket @key(fields: "id") { id: ID! status: Status! }
            enum Status { OPEN CLOSED }
            enum Level { LOW HIGH }
            """
        ),
        "archive": sdl(
            """
            type Query { byLevel(level: Level!): [Ticket!]! }
            type Ticket @key(fields: "id") { id: ID! archived: Status! }
            enum Status { OPEN CLOSED ARCHIVED }
            enum Level { LOW HIGH URGENT }
            """
        ),
    },
    data=_statuses,
    queries={
        "output_enum_union": "{ tickets { status archived } }",
        "input_enum_literal": "{ tickets(level: LOW) { id status } }",
        "input_enum_variable": Query(
            "query T($l: Level!) { byLevel(level: $l) { id archived } }", variables={"l": "HIGH"}
        ),
        "output_enum_introspection": '{ __type(name: "Status") { enumValues { name } } }',
        "input_enum_introspection": '{ __type(name: "Level") { enumValues { name } } }',
        "value_missing_in_one_subgraph": Query(
            "query T($l: Level!) { byLevel(level: $l) { id } }", variables={"l": "URGENT"}
        ),
    },
)

CASES = [
    FRAGMENTS_AND_VARIABLES,
    SKIP_INCLUDE,
    MUTATIONS_IN_ORDER,
    INTROSPECTION_AND_INACCESSIBLE,
    ENUM_VALUES_ACROSS_SUBGRAPHS,
]
