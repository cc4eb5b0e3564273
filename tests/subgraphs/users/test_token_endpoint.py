"""users: ``POST /oauth/token``, the REST sign-in (RFC 6749 password and refresh grants)."""

from __future__ import annotations

from shared import demo_ids

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_password_grant_issues_tokens_that_refresh_rotates(start_subgraph) -> None:
    users = await start_subgraph("users")
    response = await users.post(
        "/oauth/token",
        content=f"grant_type=password&username=customer%40pizza.example&password={demo_ids.DEMO_PASSWORD}",
        headers=FORM,
    )
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert tokens["access_token"].count(".") == 2
    refreshed = await users.post(
        "/oauth/token",
        json={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    spent = await users.post(
        "/oauth/token",
        json={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"


async def test_wrong_password_is_invalid_grant(start_subgraph) -> None:
    users = await start_subgraph("users")
    response = await users.post(
        "/oauth/token",
        json={"grant_type": "password", "username": "customer@pizza.example", "password": "nope"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_bad_requests_get_rfc_6749_errors(start_subgraph) -> None:
    users = await start_subgraph("users")
    cases = [
        (
            {"content": b"[1, 2]", "headers": {"content-type": "application/json"}},
            "invalid_request",
        ),
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            "invalid_request",
        ),
        ({"content": b"grant_type=password", "headers": FORM}, "invalid_request"),
        ({"json": {"grant_type": "client_credentials"}}, "unsupported_grant_type"),
        ({"content": b"x", "headers": {"content-type": "text/plain"}}, "invalid_request"),
    ]
    for kwargs, code in cases:
        response = await users.post("/oauth/token", **kwargs)
        assert (response.status_code, response.json()["error"]) == (400, code), kwargs


async def test_the_endpoint_is_in_the_openapi_document(start_subgraph) -> None:
    users = await start_subgraph("users")
    document = (await users.get("/openapi.json")).json()
    assert set(document["paths"]["/oauth/token"]["post"]["responses"]) >= {"200", "400"}
