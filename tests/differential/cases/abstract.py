"""Interfaces and unions spread over subgraphs, entity interfaces and ``@interfaceObject``."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import Case, Query, obj, sdl


def _library() -> dict[str, list[dict[str, Any]]]:
    dune = obj("Book", id="b1", title="Dune", pages=412, stock=3)
    emma = obj("Book", id="b2", title="Emma", pages=320, stock=0)
    alien = obj("Movie", id="m1", title="Alien", minutes=117, stock=1)
    return {
        "Book": [dune, emma],
        "Movie": [alien],
        "Query": [{"items": [dune, alien, emma], "featured": alien}],
    }


INTERFACE_ACROSS_SUBGRAPHS = Case(
    name="interface_across_subgraphs",
    subgraphs={
        "catalog": sdl(
            """
            type Query { items: [Item!]! featured: Item }
            interface Item { id: ID! title: String! }
            type Book implements Item @key(fields: "id") { id: ID! title: String! pages: Int! }
            type Movie implements Item @key(fields: "id") { id: ID! title: String! minutes: Int! }
            """
        ),
        "inventory": sdl(
            """
            type Book @key(fields: "id") { id: ID! stock: Int! }
            type Movie @key(fields: "id") { id: ID! stock: Int! }
            """
        ),
    },
    data=_library,
    queries={
        "interface_fields": "{ items { id title } }",
        "typename": "{ items { __typename title } }",
        "inline_fragments": "{ items { title ... on Book { pages stock } ... on Movie { minutes } } }",
        "both_remote": "{ items { ... on Book { stock } ... on Movie { stock } } }",
        "named_fragments": """
            query { items { ...ItemParts } featured { ...ItemParts } }
            fragment ItemParts on Item { __typename title ...BookParts ... on Movie { stock } }
            fragment BookParts on Book { pages stock }
        """,
        "same_key_different_selections": "{ items { ... on Book { x: stock } ... on Movie { x: minutes } } }",
    },
)


def _search() -> dict[str, list[dict[str, Any]]]:
    dune = obj("Book", id="b1", title="Dune", author="Herbert")
    alien = obj("Movie", id="m1", title="Alien", director="Scott")
    song = obj("Song", id="s1", title="Hurt", artist="Cash")
    return {
        "Book": [dune],
        "Movie": [alien],
        "Song": [song],
        "Query": [{"search": [dune, alien], "listen": [song, dune]}],
    }


UNION_ACROSS_SUBGRAPHS = Case(
    name="union_across_subgraphs",
    subgraphs={
        "search": sdl(
            """
            type Query { search: [Result!]! }
            union Result = Book | Movie
            type Book @key(fields: "id") { id: ID! title: String! }
            type Movie @key(fields: "id") { id: ID! title: String! }
            """
        ),
        "music": sdl(
            """
            type Query { listen: [Result!]! }
            union Result = Song | Book
            type Song @key(fields: "id") { id: ID! title: String! artist: String! }
            type Book @key(fields: "id") { id: ID! author: String! }
            """
        ),
        "cinema": sdl(
            """
            type Movie @key(fields: "id") { id: ID! director: String! }
            """
        ),
    },
    data=_search,
    queries={
        "typename_only": "{ search { __typename } }",
        "members": "{ search { ... on Book { title author } ... on Movie { title director } } }",
        "other_root": "{ listen { __typename ... on Song { artist } ... on Book { title author } } }",
        "fragment_on_union": """
            { search { ...R } listen { ...R } }
            fragment R on Result { __typename ... on Book { id title } ... on Song { title } }
        """,
    },
)


def _media() -> dict[str, list[dict[str, Any]]]:
    dune = obj("Book", id="1", title="Dune", author="Herbert", rating=5, reviews=["epic"])
    alien = obj("Movie", id="2", title="Alien", director="Scott", rating=4, reviews=[])
    return {
        "Book": [dune],
        "Movie": [alien],
        "Query": [{"media": [dune, alien], "topRated": [alien, dune], "one": dune}],
    }


ENTITY_INTERFACE = Case(
    name="entity_interface",
    subgraphs={
        "media": sdl(
            """
            type Query { media: [Media!]! one: Media }
            interface Media @key(fields: "id") { id: ID! title: String! }
            type Book implements Media @key(fields: "id") { id: ID! title: String! author: String! }
            type Movie implements Media @key(fields: "id") { id: ID! title: String! director: String! }
            """
        ),
        "ratings": sdl(
            """
            type Query { topRated: [Media!]! }
            type Media @key(fields: "id") @interfaceObject { id: ID! rating: Int! reviews: [String!]! }
            """
        ),
    },
    data=_media,
    queries={
        "interface_object_field": "{ media { title rating } }",
        "from_interface_object_root": "{ topRated { id rating } }",
        "typename_from_interface_object": "{ topRated { __typename rating } }",
        "concrete_fields_from_interface_object": (
            "{ topRated { rating title ... on Book { author } ... on Movie { director } } }"
        ),
        "on_concrete_type": "{ media { ... on Book { rating reviews } ... on Movie { title } } }",
        "single": "{ one { __typename ... on Book { rating author } } }",
    },
)


def _accounts() -> dict[str, list[dict[str, Any]]]:
    admin = obj("Admin", id="a1", name="Root", level=9, lastLogin="monday", audits=3)
    guest = obj("Guest", id="g1", name="Visitor", expires="tomorrow", lastLogin="never", audits=0)
    return {
        "Admin": [admin],
        "Guest": [guest],
        "Query": [{"accounts": [admin, guest], "recent": [guest, admin]}],
    }


INTERFACE_OBJECT_TWO_SUBGRAPHS = Case(
    name="interface_object_two_subgraphs",
    subgraphs={
        "identity": sdl(
            """
            type Query { accounts: [Account!]! }
            interface Account @key(fields: "id") { id: ID! name: String! }
            type Admin implements Account @key(fields: "id") { id: ID! name: String! level: Int! }
            type Guest implements Account @key(fields: "id") { id: ID! name: String! expires: String! }
            """
        ),
        "activity": sdl(
            """
            type Query { recent: [Account!]! }
            type Account @key(fields: "id") @interfaceObject { id: ID! lastLogin: String! }
            """
        ),
        "audit": sdl(
            """
            type Account @key(fields: "id") @interfaceObject { id: ID! audits: Int! }
            """
        ),
    },
    data=_accounts,
    queries={
        "both_interface_objects": "{ accounts { name lastLogin audits } }",
        "from_activity": "{ recent { lastLogin audits } }",
        "from_activity_with_types": (
            "{ recent { __typename lastLogin ... on Admin { level } ... on Guest { expires audits } } }"
        ),
        "fragment_on_interface": Query(
            "query Q { recent { ...A } } fragment A on Account { id name audits }"
        ),
    },
)


def _nodes() -> dict[str, list[dict[str, Any]]]:
    user = obj("User", id="u1", name="Ada", avatar="ada.png")
    team = obj("Team", id="t1", name="Core", size=4)
    return {
        "User": [user],
        "Team": [team],
        "Query": [{"nodes": [user, team], "node": team}],
    }


INTERFACE_IMPLEMENTED_DIFFERENTLY = Case(
    name="interface_implemented_differently",
    subgraphs={
        "graph": sdl(
            """
            type Query { nodes: [Node!]! node: Node }
            interface Node { id: ID! }
            type User implements Node @key(fields: "id") { id: ID! name: String! @shareable }
            type Team implements Node @key(fields: "id") { id: ID! }
            """
        ),
        "details": sdl(
            """
            interface Named { name: String! }
            type User implements Named @key(fields: "id") { id: ID! name: String! @shareable avatar: String! }
            type Team implements Named @key(fields: "id") { id: ID! name: String! size: Int! }
            """
        ),
    },
    data=_nodes,
    queries={
        "named_through_other_subgraph": "{ nodes { id ... on Named { name } } }",
        "mixed": "{ nodes { __typename ... on User { name avatar } ... on Team { name size } } }",
        "single_node": "{ node { id ... on Team { size } ... on Named { __typename } } }",
    },
)

CASES = [
    INTERFACE_ACROSS_SUBGRAPHS,
    UNION_ACROSS_SUBGRAPHS,
    ENTITY_INTERFACE,
    INTERFACE_OBJECT_TWO_SUBGRAPHS,
    INTERFACE_IMPLEMENTED_DIFFERENTLY,
]
