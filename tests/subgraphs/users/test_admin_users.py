"""Admins manage accounts: creating staff and drivers, roles, deactivation, search."""

from __future__ import annotations

import pytest

from shared import demo_ids
from shared.auth import Principal
from shared.errors import DomainError
from subgraphs.users import management, service
from tests.conftest import bearer, gql

ADMIN = Principal(user_id=demo_ids.ADMIN_USER, roles=frozenset({"ADMIN"}))
STAFF = Principal(
    user_id=demo_ids.STAFF_DOWNTOWN, roles=frozenset({"STAFF"}), store_id=demo_ids.STORE_DOWNTOWN
)
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { refreshToken user { id roles storeId } }
}"""
REFRESH = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { refreshToken } }"
CREATE = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id email roles storeId active } }
}"""
ROLES = """
mutation($input: UpdateUserRolesInput!) {
  updateUserRoles(input: $input) { user { id roles storeId } }
}"""
DEACTIVATE = "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id active } } }"
REACTIVATE = "mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { id active } } }"
USERS = """
query($search: String, $role: Role, $active: Boolean) {
  users(search: $search, role: $role, active: $active) { totalCount edges { node { email } } }
}"""
NEW_DRIVER = {
    "email": "dana.driver@pizza.example",
    "name": "Dana Driver",
    "password": "long enough",
    "roles": ["DRIVER"],
    "storeId": demo_ids.STORE_EAST,
}


@pytest.fixture
async def users(start_subgraph):
    return await start_subgraph("users")


def admin(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.ADMIN_USER, "ADMIN")


async def _login(users, email: str = "customer@pizza.example") -> dict:
    return await gql(users, LOGIN, {"email": email, "password": demo_ids.DEMO_PASSWORD})


# --- rules, without GraphQL -----------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "store", "code", "field"),
    [
        ([], None, "INVALID_ROLE", "roles"),
        (["WIZARD"], None, "INVALID_ROLE", "roles"),
        (["STAFF"], None, "STORE_REQUIRED", "storeId"),
        (["DRIVER"], "  ", "STORE_REQUIRED", "storeId"),
        (["PARTNER"], demo_ids.STORE_EAST, "STORE_NOT_ALLOWED", "storeId"),
    ],
)
def test_roles_and_store_go_together(roles, store, code, field) -> None:
    with pytest.raises(DomainError) as caught:
        management.check_roles(roles, store)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_roles_are_kept_once_each() -> None:
    assert management.check_roles(["STAFF", "DRIVER", "STAFF"], " st_1 ") == (
        ["STAFF", "DRIVER"],
        "st_1",
    )


async def test_only_admins_manage_users(users) -> None:
    async with users.runtime.db.session() as session:
        with pytest.raises(DomainError) as caught:
            await management.set_user_active(
                session=session, principal=STAFF, user_id=demo_ids.CUSTOMER_USER, active=False
            )
    assert caught.value.code == "FORBIDDEN"


async def test_admins_cannot_lock_themselves_out(users) -> None:
    async with users.runtime.db.session() as session:
        with pytest.raises(DomainError) as caught:
            await management.set_user_active(
                session=session, principal=ADMIN, user_id=ADMIN.user_id, active=False
            )
        assert caught.value.code == "CANNOT_DEACTIVATE_SELF"
        with pytest.raises(DomainError) as caught:
            await management.update_user_roles(
                session=session,
                principal=ADMIN,
                user_id=ADMIN.user_id,
                roles=["STAFF"],
                store_id="s",
            )
        assert caught.value.code == "CANNOT_DEMOTE_SELF"


async def test_search_matches_email_or_name_ignoring_case(users) -> None:
    async with users.runtime.db.session() as session:
        rows, total = await service.list_users(session=session, offset=0, limit=50, search="DRIVER")
        assert total == len(demo_ids.DRIVERS) and all("driver" in r.email for r in rows)
        rows, _ = await service.list_users(session=session, offset=0, limit=50, search="casey")
        assert [r.email for r in rows] == ["customer@pizza.example"]
        _, none = await service.list_users(session=session, offset=0, limit=50, search="%")
        assert none == 0  # wildcards are matched literally


# --- through GraphQL ------------------------------------------------------------------


async def test_admin_creates_a_driver_who_can_sign_in(users, settings) -> None:
    body = await gql(users, CREATE, {"input": NEW_DRIVER}, headers=admin(settings))
    user = body["data"]["createUser"]["user"]
    assert (user["roles"], user["storeId"], user["active"]) == (
        ["DRIVER"],
        demo_ids.STORE_EAST,
        True,
    )
    login = await gql(users, LOGIN, {"email": NEW_DRIVER["email"], "password": "long enough"})
    assert login["data"]["login"]["user"]["roles"] == ["DRIVER"]


async def test_create_user_reports_the_faulty_field(users, settings) -> None:
    staff = {**NEW_DRIVER, "roles": ["STAFF"], "storeId": None}
    body = await gql(users, CREATE, {"input": staff}, headers=admin(settings))
    assert body["errors"][0]["extensions"] == {"code": "STORE_REQUIRED", "field": "storeId"}
    taken = {**NEW_DRIVER, "email": "admin@pizza.example"}
    body = await gql(users, CREATE, {"input": taken}, headers=admin(settings))
    assert body["errors"][0]["extensions"] == {"code": "EMAIL_TAKEN", "field": "email"}


@pytest.mark.parametrize(
    ("mutation", "variables"),
    [
        (CREATE, {"input": NEW_DRIVER}),
        (ROLES, {"input": {"userId": demo_ids.CUSTOMER_USER, "roles": ["PARTNER"]}}),
        (DEACTIVATE, {"id": demo_ids.CUSTOMER_USER}),
        (REACTIVATE, {"id": demo_ids.CUSTOMER_USER}),
        (USERS, {"search": "a"}),
    ],
)
async def test_user_management_needs_an_admin(users, settings, mutation, variables) -> None:
    anonymous = await gql(users, mutation, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for role in ("CUSTOMER", "STAFF", "DRIVER"):
        headers = bearer(settings, "usr_someone", role, store_id=demo_ids.STORE_DOWNTOWN)
        denied = await gql(users, mutation, variables, headers=headers)
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert denied["data"] is None
    allowed = await gql(users, mutation, variables, headers=admin(settings))
    assert "errors" not in allowed, allowed


async def test_new_roles_arrive_with_the_next_token(users, settings) -> None:
    refresh = (await _login(users))["data"]["login"]["refreshToken"]
    variables = {
        "input": {
            "userId": demo_ids.CUSTOMER_USER,
            "roles": ["CUSTOMER", "STAFF"],
            "storeId": "st_x",
        }
    }
    body = await gql(users, ROLES, variables, headers=admin(settings))
    assert body["data"]["updateUserRoles"]["user"]["roles"] == ["CUSTOMER", "STAFF"]
    assert "errors" not in await gql(users, REFRESH, {"t": refresh})
    again = (await _login(users))["data"]["login"]["user"]
    assert (again["roles"], again["storeId"]) == (["CUSTOMER", "STAFF"], "st_x")


async def test_deactivated_user_cannot_sign_in_or_refresh(users, settings) -> None:
    refresh = (await _login(users))["data"]["login"]["refreshToken"]
    body = await gql(users, DEACTIVATE, {"id": demo_ids.CUSTOMER_USER}, headers=admin(settings))
    assert body["data"]["deactivateUser"]["user"]["active"] is False
    login = await _login(users)
    assert login["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "deactivated" in login["errors"][0]["message"]
    refused = await gql(users, REFRESH, {"t": refresh})
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    listed = await gql(users, USERS, {"active": False}, headers=admin(settings))
    assert listed["data"]["users"]["edges"] == [{"node": {"email": "customer@pizza.example"}}]
    await gql(users, REACTIVATE, {"id": demo_ids.CUSTOMER_USER}, headers=admin(settings))
    assert "errors" not in await _login(users)
    # The tokens revoked at deactivation stay revoked.
    assert (await gql(users, REFRESH, {"t": refresh}))["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )


async def test_users_search_by_text_and_role(users, settings) -> None:
    body = await gql(
        users, USERS, {"search": "pizza.example", "role": "STAFF"}, headers=admin(settings)
    )
    assert body["data"]["users"] == {
        "totalCount": 1,
        "edges": [{"node": {"email": "staff.downtown@pizza.example"}}],
    }
