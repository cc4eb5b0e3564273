"""users: registration, sign-in, refresh rotation and addresses, through the subgraph's GraphQL."""

from __future__ import annotations

from shared import demo_ids
from tests.conftest import as_router, bearer, gql

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken user { id name email roles } }
}"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken refreshToken user { id } }
}"""
REFRESH = (
    "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken refreshToken } }"
)
ME = "{ me { id name email addresses { label isDefault location { lat lng } } defaultAddress { label } } }"
ADD_ADDRESS = """
mutation($input: AddAddressInput!) {
  addAddress(input: $input) { address { id label isDefault } user { addresses { label isDefault } } }
}"""
ENTITIES = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name email } } }
"""


async def test_register_then_login_returns_working_tokens(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    body = await gql(
        users,
        REGISTER,
        {"input": {"email": " Pat@Example.com", "password": "correct horse", "name": "Pat Doe"}},
    )
    assert body["data"]["register"]["user"]["email"] == "pat@example.com"
    assert body["data"]["register"]["user"]["roles"] == ["CUSTOMER"]
    login = await gql(users, LOGIN, {"email": "pat@example.com", "password": "correct horse"})
    token = login["data"]["login"]["accessToken"]
    me = await gql(users, ME, headers=as_router(settings, token))
    assert me["data"]["me"]["name"] == "Pat Doe"


async def test_duplicate_email_is_refused_with_code(start_subgraph) -> None:
    users = await start_subgraph("users")
    variables = {"input": {"email": "a@b.co", "password": "long enough", "name": "A"}}
    await gql(users, REGISTER, variables)
    body = await gql(users, REGISTER, variables)
    assert body["errors"][0]["extensions"] == {"code": "EMAIL_TAKEN", "field": "email"}


async def test_weak_password_is_refused(start_subgraph) -> None:
    users = await start_subgraph("users")
    body = await gql(
        users, REGISTER, {"input": {"email": "a@b.co", "password": "short", "name": "A"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "WEAK_PASSWORD"


async def test_wrong_password_is_unauthenticated(start_subgraph) -> None:
    users = await start_subgraph("users")
    body = await gql(users, LOGIN, {"email": "customer@pizza.example", "password": "nope-nope"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_refresh_token_rotates_and_old_one_is_spent(start_subgraph) -> None:
    users = await start_subgraph("users")
    login = await gql(
        users, LOGIN, {"email": "customer@pizza.example", "password": demo_ids.DEMO_PASSWORD}
    )
    old = login["data"]["login"]["refreshToken"]
    fresh = await gql(users, REFRESH, {"t": old})
    assert fresh["data"]["refreshToken"]["refreshToken"] != old
    again = await gql(users, REFRESH, {"t": old})
    assert again["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_first_address_becomes_default(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    reg = await gql(
        users, REGISTER, {"input": {"email": "n@b.co", "password": "long enough", "name": "N"}}
    )
    headers = as_router(settings, reg["data"]["register"]["accessToken"])
    body = await gql(
        users,
        ADD_ADDRESS,
        {
            "input": {
                "label": "Home",
                "line1": "500 E 5th St",
                "city": "Austin",
                "postcode": "78701",
                "location": {"lat": 30.266, "lng": -97.738},
            }
        },
        headers=headers,
    )
    assert body["data"]["addAddress"]["address"]["isDefault"] is True


async def test_adding_an_address_needs_a_token(start_subgraph) -> None:
    users = await start_subgraph("users")
    body = await gql(
        users, ADD_ADDRESS, {"input": {"label": "H", "line1": "x", "city": "y", "postcode": "1"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_private_fields_hidden_from_other_customers(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    stranger = bearer(settings, "usr_stranger", "CUSTOMER")
    body = await gql(
        users,
        ENTITIES,
        {"r": [{"__typename": "User", "id": demo_ids.CUSTOMER_USER}]},
        headers=stranger,
    )
    assert body["data"]["_entities"][0] == {
        "id": demo_ids.CUSTOMER_USER,
        "name": "Casey Customer",
        "email": None,
    }
    staff = bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF")
    body = await gql(
        users,
        ENTITIES,
        {"r": [{"__typename": "User", "id": demo_ids.CUSTOMER_USER}]},
        headers=staff,
    )
    assert body["data"]["_entities"][0]["email"] == "customer@pizza.example"


async def test_users_list_is_admin_only(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    query = "{ users(first: 3) { totalCount edges { node { id } } pageInfo { hasNextPage } } }"
    denied = await gql(users, query, headers=bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER"))
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    allowed = await gql(users, query, headers=bearer(settings, demo_ids.ADMIN_USER, "ADMIN"))
    page = allowed["data"]["users"]
    assert page["totalCount"] == 3 + len(demo_ids.DRIVERS)
    assert len(page["edges"]) == 3 and page["pageInfo"]["hasNextPage"] is True
