"""Features combined: requires on lists, provides on abstract types, errors after two jumps,
mutations returning abstract types, entities reached through value types and interface objects
with several keys."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import Case, Computed, Fail, Query, obj, sdl


def _orders() -> dict[str, list[dict[str, Any]]]:
    def total(source: dict[str, Any], args: dict[str, Any]) -> int:
        amount = sum(line["price"] * line["quantity"] for line in source["lines"])
        return amount + (args.get("tip") or 0)

    o1 = obj(
        "Order",
        id="o1",
        lines=[obj("Line", price=3, quantity=2), obj("Line", price=10, quantity=1)],
        customer="Ada",
    )
    o2 = obj("Order", id="o2", lines=[], customer="Bob")
    for order in (o1, o2):
        order["total"] = Computed(total)
    return {"Order": [o1, o2], "Query": [{"orders": [o1, o2]}]}


REQUIRES_LIST_FIELD = Case(
    name="requires_list_field",
    subgraphs={
        "orders": sdl(
            """
            type Query { orders: [Order!]! }
            type Order @key(fields: "id") { id: ID! customer: String! lines: [Line!]! }
            type Line @shareable { price: Int! quantity: Int! }
            """
        ),
        "billing": sdl(
            """
            type Order @key(fields: "id") {
              id: ID!
              lines: [Line!]! @external
              total(tip: Int): Int! @requires(fields: "lines { price quantity }")
            }
            type Line @shareable { price: Int! quantity: Int! }
            """
        ),
    },
    data=_orders,
    queries={
        "total": "{ orders { customer total } }",
        "total_with_tip": Query(
            "query T($tip: Int) { orders { total(tip: $tip) lines { quantity } } }",
            variables={"tip": 4},
        ),
    },
)


def _shelf() -> dict[str, list[dict[str, Any]]]:
    dune = obj("Book", id="b1", title="Dune", isbn="111")
    alien = obj("Movie", id="m1", title="Alien", studio="Fox")
    shelf = obj("Shelf", id="s1", items=[dune, alien])
    return {"Book": [dune], "Movie": [alien], "Shelf": [shelf], "Query": [{"shelves": [shelf]}]}


PROVIDES_ON_ABSTRACT = Case(
    name="provides_on_abstract",
    subgraphs={
        "catalog": sdl(
            """
            type Book @key(fields: "id") { id: ID! title: String! @shareable isbn: String! }
            type Movie @key(fields: "id") { id: ID! title: String! @shareable studio: String! }
            """
        ),
        "shelves": sdl(
            """
            type Query { shelves: [Shelf!]! }
            type Shelf @key(fields: "id") {
              id: ID!
              items: [Item!]! @provides(fields: "... on Book { title } ... on Movie { title }")
            }
            union Item = Book | Movie
            type Book @key(fields: "id") { id: ID! title: String! @external }
            type Movie @key(fields: "id") { id: ID! title: String! @external }
            """
        ),
    },
    data=_shelf,
    queries={
        "provided_titles": "{ shelves { items { ... on Book { title } ... on Movie { title } } } }",
        "provided_and_remote": "{ shelves { items { __typename ... on Book { title isbn } ... on Movie { studio } } } }",
    },
)


def _deep_errors() -> dict[str, list[dict[str, Any]]]:
    a1 = obj("Author", id="a1", name="Ann", agent=Fail("agent lookup failed"))
    a2 = obj("Author", id="a2", name="Ben", agent="Acme")
    b1 = obj("Book", id="b1", authors=[a1, a2])
    b2 = obj("Book", id="b2", authors=[a2])
    return {
        "Author": [a1, a2],
        "Book": [b1, b2],
        "Query": [{"books": [b1, b2]}],
    }


ERRORS_AFTER_TWO_JUMPS = Case(
    name="errors_after_two_jumps",
    subgraphs={
        "books": sdl(
            """
            type Query { books: [Book!]! }
            type Book @key(fields: "id") { id: ID! }
            """
        ),
        "credits": sdl(
            """
            type Book @key(fields: "id") { id: ID! authors: [Author!]! }
            type Author @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "agents": sdl(
            """
            type Author @key(fields: "id") { id: ID! agent: String strictAgent: String! }
            """
        ),
    },
    data=lambda: _with_strict_agent(_deep_errors()),
    queries={
        "nullable_error_deep": "{ books { id authors { name agent } } }",
        "non_null_error_deep": "{ books { id authors { name strictAgent } } }",
        "aliased_deep": "{ bs: books { as: authors { a: agent } } }",
    },
)


def _with_strict_agent(data: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    for author in data["Author"]:
        author["strictAgent"] = author["agent"]
    return data


def _pets() -> dict[str, list[dict[str, Any]]]:
    state = {"count": 0}

    def adopt(_: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        state["count"] += 1
        kind = "Dog" if args["kind"] == "dog" else "Cat"
        return {"Dog": rex, "Cat": tom}[kind]

    rex = obj("Dog", id="d1", name="Rex", barks=True, vetVisits=2)
    tom = obj("Cat", id="c1", name="Tom", lives=9, vetVisits=0)
    return {
        "Dog": [rex],
        "Cat": [tom],
        "Query": [{"pets": [rex, tom]}],
        "Mutation": [{"adopt": Computed(adopt)}],
    }


MUTATION_RETURNING_INTERFACE = Case(
    name="mutation_returning_interface",
    subgraphs={
        "shelter": sdl(
            """
            type Query { pets: [Pet!]! }
            type Mutation { adopt(kind: String!): Pet! }
            interface Pet { id: ID! name: String! }
            type Dog implements Pet @key(fields: "id") { id: ID! name: String! barks: Boolean! }
            type Cat implements Pet @key(fields: "id") { id: ID! name: String! lives: Int! }
            """
        ),
        "vet": sdl(
            """
            type Dog @key(fields: "id") { id: ID! vetVisits: Int! }
            type Cat @key(fields: "id") { id: ID! vetVisits: Int! }
            """
        ),
    },
    data=_pets,
    queries={
        "adopt_two": """
            mutation { first: adopt(kind: "dog") { name ... on Dog { barks vetVisits } }
                       second: adopt(kind: "cat") { __typename ... on Cat { lives vetVisits } } }
        """,
        "query_pets": "{ pets { name ... on Dog { vetVisits } ... on Cat { vetVisits lives } } }",
    },
)


def _addresses() -> dict[str, list[dict[str, Any]]]:
    oslo = obj("City", code="OSL", name="Oslo", population=700000)
    rome = obj("City", code="ROM", name="Rome", population=2800000)
    ada = obj(
        "Person",
        id="p1",
        addresses=[
            obj("Address", street="Main 1", city=oslo),
            obj("Address", street="Via 2", city=rome),
        ],
    )
    return {"City": [oslo, rome], "Person": [ada], "Query": [{"people": [ada]}]}


ENTITIES_INSIDE_VALUE_TYPES = Case(
    name="entities_inside_value_types",
    subgraphs={
        "people": sdl(
            """
            type Query { people: [Person!]! }
            type Person @key(fields: "id") { id: ID! addresses: [Address!]! }
            type Address { street: String! city: City! }
            type City @key(fields: "code") { code: ID! }
            """
        ),
        "geo": sdl(
            """
            type City @key(fields: "code") { code: ID! name: String! population: Int! }
            """
        ),
    },
    data=_addresses,
    queries={
        "city_names": "{ people { addresses { street city { name } } } }",
        "population_only": "{ people { addresses { city { population code } } } }",
    },
)


def _devices() -> dict[str, list[dict[str, Any]]]:
    phone = obj("Phone", id="d1", serial="S1", model="X", battery=80, owner="Ada")
    laptop = obj("Laptop", id="d2", serial="S2", model="Y", ram=16, battery=55, owner="Bob")
    return {
        "Phone": [phone],
        "Laptop": [laptop],
        "Query": [{"devices": [phone, laptop], "bySerial": [laptop, phone]}],
    }


INTERFACE_OBJECT_TWO_KEYS = Case(
    name="interface_object_two_keys",
    subgraphs={
        "devices": sdl(
            """
            type Query { devices: [Device!]! }
            interface Device @key(fields: "id") @key(fields: "serial") { id: ID! serial: String! model: String! }
            type Phone implements Device @key(fields: "id") @key(fields: "serial") {
              id: ID! serial: String! model: String!
            }
            type Laptop implements Device @key(fields: "id") @key(fields: "serial") {
              id: ID! serial: String! model: String! ram: Int!
            }
            """
        ),
        "telemetry": sdl(
            """
            type Query { bySerial: [Device!]! }
            type Device @key(fields: "serial") @interfaceObject { serial: String! battery: Int! }
            """
        ),
        "assets": sdl(
            """
            type Device @key(fields: "id") @interfaceObject { id: ID! owner: String! }
            """
        ),
    },
    data=_devices,
    queries={
        "battery_and_owner": "{ devices { model battery owner } }",
        "from_serial_to_id": "{ bySerial { battery owner } }",
        "from_serial_with_types": "{ bySerial { __typename ... on Laptop { ram owner } } }",
    },
)


def _two_parents() -> dict[str, list[dict[str, Any]]]:
    ada = obj("User", id="u1", name="Ada", karma=10)
    bob = obj("User", id="u2", name="Bob", karma=3)
    question = obj("Question", id="q1", title="Why?", by=ada)
    answer = obj("Answer", id="a1", text="Because", by=bob)
    return {
        "User": [ada, bob],
        "Question": [question],
        "Answer": [answer],
        "Query": [{"posts": [question, answer]}],
    }


SAME_KEY_UNDER_TWO_PARENT_TYPES = Case(
    name="same_key_under_two_parent_types",
    subgraphs={
        "forum": sdl(
            """
            type Query { posts: [Post!]! }
            union Post = Question | Answer
            type Question { id: ID! title: String! by: User! }
            type Answer { id: ID! text: String! by: User! }
            type User @key(fields: "id") { id: ID! name: String! }
            """
        ),
        "karma": sdl(
            """
            type User @key(fields: "id") { id: ID! karma: Int! }
            """
        ),
    },
    data=_two_parents,
    queries={
        "different_selections": (
            "{ posts { ... on Question { by { name } } ... on Answer { by { karma } } } }"
        ),
        "same_selection": "{ posts { ... on Question { title by { karma } } ... on Answer { by { karma name } } } }",
    },
)

CASES = [
    REQUIRES_LIST_FIELD,
    PROVIDES_ON_ABSTRACT,
    ERRORS_AFTER_TWO_JUMPS,
    MUTATION_RETURNING_INTERFACE,
    ENTITIES_INSIDE_VALUE_TYPES,
    INTERFACE_OBJECT_TWO_KEYS,
    SAME_KEY_UNDER_TWO_PARENT_TYPES,
]
