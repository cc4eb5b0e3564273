"""Persisted query list: ids, safelist modes (log unknown, reject unknown, require ids) and
partners, who are always held to the list."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from router.edge.config import PartnersConfig
from router.edge.manifest import build_manifest, render_manifest
from router.edge.safelist import ClaimsPartnerPolicy, PersistedQueryList, normalize_body
from tests.edge.conftest import RouterFactory, code_of

TOP = "query Top {\n  topProducts(first: 1) {\n    upc\n  }\n}"
ME = "query Me {\n  me {\n    name\n  }\n}"
UNLISTED = "{ users { id } }"


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    operations = tmp_path / "operations"
    operations.mkdir()
    (operations / "top.graphql").write_text(TOP + "\n", encoding="utf-8")
    (operations / "me.graphql").write_text(ME + "\n", encoding="utf-8")
    path = tmp_path / "manifest.json"
    path.write_text(render_manifest(build_manifest(operations)), encoding="utf-8")
    return path


def ids(path: Path) -> dict[str, str]:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return {op["name"]: op["id"] for op in manifest["operations"]}


def by_id(operation_id: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": operation_id}}}


def pq(path: Path, **options: Any) -> dict[str, Any]:
    return {"enabled": True, "local_manifests": [str(path)], **options}


def test_ids_run_their_operation_over_post_and_get(
    edge_router: RouterFactory, manifest_path: Path
) -> None:
    router = edge_router(persisted_queries=pq(manifest_path))
    top = ids(manifest_path)["Top"]
    assert router.post(by_id(top)).json() == {"data": {"topProducts": [{"upc": "1"}]}}
    get = router.get({"extensions": json.dumps(by_id(top)["extensions"])})
    assert get.json() == {"data": {"topProducts": [{"upc": "1"}]}}


def test_unknown_id_is_404_not_in_list(edge_router: RouterFactory, manifest_path: Path) -> None:
    router = edge_router(apq={"enabled": False}, persisted_queries=pq(manifest_path))
    response = router.post(by_id("0" * 64))
    assert response.status_code == 404
    assert code_of(response) == "PERSISTED_QUERY_NOT_IN_LIST"
    assert response.headers["cache-control"].startswith("private, no-cache")


def test_unknown_id_falls_back_to_apq_when_apq_is_on(
    edge_router: RouterFactory, manifest_path: Path
) -> None:
    router = edge_router(persisted_queries=pq(manifest_path))
    assert code_of(router.post(by_id("0" * 64))) == "PERSISTED_QUERY_NOT_FOUND"


def test_log_unknown_logs_and_allows(
    edge_router: RouterFactory, manifest_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    router = edge_router(persisted_queries=pq(manifest_path, log_unknown=True))
    with caplog.at_level(logging.WARNING, logger="router.edge"):
        assert router.post({"query": UNLISTED}).json()["data"]["users"]
        assert router.post({"query": TOP}).json() == {"data": {"topProducts": [{"upc": "1"}]}}
    unknown = [r.getMessage() for r in caplog.records if "unknown operation" in r.getMessage()]
    assert len(unknown) == 1 and "users" in unknown[0]


def test_safelist_rejects_unknown_freeform_with_403(
    edge_router: RouterFactory, manifest_path: Path
) -> None:
    router = edge_router(
        apq={"enabled": False}, persisted_queries=pq(manifest_path, safelist={"enabled": True})
    )
    response = router.post({"query": UNLISTED})
    assert response.status_code == 403
    assert code_of(response) == "QUERY_NOT_IN_SAFELIST"
    # Listed bodies pass, also reformatted (whitespace, commas, comments do not matter).
    assert router.post({"query": TOP}).json() == {"data": {"topProducts": [{"upc": "1"}]}}
    reformatted = "# mine\nquery Top{topProducts(first:1),{upc}}"
    assert router.post({"query": reformatted}).json() == {"data": {"topProducts": [{"upc": "1"}]}}
    # Introspection stays available while introspection is on (as in Apollo Router).
    assert router.post({"query": "{ __schema { queryType { name } } }"}).json()["data"]


def test_require_id_refuses_all_freeform(edge_router: RouterFactory, manifest_path: Path) -> None:
    router = edge_router(
        apq={"enabled": False},
        persisted_queries=pq(manifest_path, safelist={"enabled": True, "require_id": True}),
    )
    response = router.post({"query": TOP})
    assert response.status_code == 400
    assert code_of(response) == "PERSISTED_QUERY_ID_REQUIRED"
    assert router.post(by_id(ids(manifest_path)["Top"])).json()["data"]


def test_id_and_body_together_need_apq(edge_router: RouterFactory, manifest_path: Path) -> None:
    router = edge_router(
        apq={"enabled": False}, persisted_queries=pq(manifest_path, safelist={"enabled": True})
    )
    top = ids(manifest_path)["Top"]
    response = router.post({"query": TOP, **by_id(top)})
    assert response.status_code == 400
    assert code_of(response) == "CANNOT_SEND_PQ_ID_AND_BODY"


def test_safelist_and_apq_cannot_both_be_on(manifest_path: Path) -> None:
    from router.config import RouterConfig

    with pytest.raises(ValueError, match="apq"):
        RouterConfig.from_mapping(
            {"persisted_queries": pq(manifest_path, safelist={"enabled": True})}
        )


def test_partners_by_client_name_are_held_to_the_list(
    edge_router: RouterFactory, manifest_path: Path
) -> None:
    router = edge_router(persisted_queries=pq(manifest_path, partners={"client_names": ["kiosk"]}))
    kiosk = {"apollographql-client-name": "kiosk"}
    refused = router.post({"query": UNLISTED}, headers=kiosk)
    assert refused.status_code == 403
    assert code_of(refused) == "QUERY_NOT_IN_SAFELIST"
    assert router.post({"query": TOP}, headers=kiosk).json()["data"]
    assert router.post(by_id(ids(manifest_path)["Me"]), headers=kiosk).json() == {
        "data": {"me": {"name": "Ada Lovelace"}}
    }
    # APQ is not a way around the list for partners ...
    apq = {"persistedQuery": {"version": 1, "sha256Hash": "1" * 64}}
    assert router.post({"extensions": apq}, headers=kiosk).status_code == 404
    # ... while other clients keep freeform GraphQL.
    assert router.post({"query": UNLISTED}).json()["data"]["users"]


def test_partners_are_restricted_even_without_a_manifest(edge_router: RouterFactory) -> None:
    router = edge_router(persisted_queries={"partners": {"client_names": ["kiosk"]}})
    response = router.post({"query": TOP}, headers={"apollographql-client-name": "kiosk"})
    assert response.status_code == 403  # fail closed
    assert router.post({"query": TOP}).json()["data"]


def test_partner_require_id(edge_router: RouterFactory, manifest_path: Path) -> None:
    router = edge_router(
        persisted_queries=pq(
            manifest_path, partners={"client_names": ["kiosk"], "require_id": True}
        )
    )
    kiosk = {"apollographql-client-name": "kiosk"}
    assert code_of(router.post({"query": TOP}, headers=kiosk)) == "PERSISTED_QUERY_ID_REQUIRED"
    assert router.post(by_id(ids(manifest_path)["Top"]), headers=kiosk).json()["data"]


def test_partner_policy_is_pluggable(edge_router: RouterFactory, manifest_path: Path) -> None:
    class HeaderPartners:
        def is_partner(self, request: Any) -> bool:
            return request.headers.get("x-partner") == "yes"

    router = edge_router(persisted_queries=pq(manifest_path), partner_policy=HeaderPartners())
    assert router.post({"query": UNLISTED}, headers={"x-partner": "yes"}).status_code == 403
    assert router.post({"query": UNLISTED}).status_code == 200


@pytest.mark.parametrize(
    ("claims", "partner"),
    [
        ({"sub": "p1", "roles": ["PARTNER"]}, True),
        ({"sub": "p1", "roles": ["partner", "CUSTOMER"]}, True),
        ({"sub": "p1", "role": "PARTNER"}, True),
        ({"sub": "c1", "roles": ["CUSTOMER"]}, False),
        (None, False),
    ],
)
def test_partner_role_comes_from_verified_claims(claims: Any, partner: bool) -> None:
    policy = ClaimsPartnerPolicy(PartnersConfig())
    request = SimpleNamespace(state=SimpleNamespace(claims=claims), headers={})
    assert policy.is_partner(request) is partner


def test_normalization_sorts_definitions_but_keeps_field_order() -> None:
    listed = PersistedQueryList.from_files([])
    assert len(listed) == 0
    a = "fragment A on T { a } query Q { ...A ...B } fragment B on U { b c }"
    b = "fragment B on U {b,c}\n# note\nquery Q { ...A ...B }\nfragment A on T { a }"
    assert normalize_body(a) == normalize_body(b)
    assert normalize_body(a) != normalize_body(a.replace("b c", "c b"))
    assert normalize_body("}}}") == "}}}"


async def test_partner_role_from_the_authentication_layer(manifest_path: Path) -> None:
    from starlette.requests import Request

    from router.edge import Edge, EdgeConfig
    from router.edge.config import PersistedQueriesConfig
    from router.errors import RequestError

    seen: list[Any] = []

    async def authenticate(headers: Any) -> dict[str, Any] | None:
        seen.append(headers.get("authorization"))
        if headers.get("authorization") == "Bearer partner":
            return {"sub": "usr_partner", "roles": ["PARTNER"]}
        if headers.get("authorization") == "Bearer forged":
            raise ValueError("bad signature")  # the gateway answers UNAUTHENTICATED later
        return None

    edge = Edge(
        EdgeConfig(persisted_queries=PersistedQueriesConfig(local_manifests=(str(manifest_path),))),
        authenticate=authenticate,
    )

    def request(token: str) -> Request:
        headers = [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
        ]
        return Request({"type": "http", "method": "POST", "headers": headers, "state": {}})

    partner = request("partner")
    await edge.admit(partner)
    assert partner.state.claims["sub"] == "usr_partner"
    with pytest.raises(RequestError) as refused:
        await edge.resolve({"query": UNLISTED}, partner)
    assert refused.value.code == "QUERY_NOT_IN_SAFELIST"
    assert (await edge.resolve({"query": TOP}, partner))["query"] == TOP

    customer = request("customer")
    await edge.admit(customer)
    assert (await edge.resolve({"query": UNLISTED}, customer))["query"] == UNLISTED
    forged = request("forged")
    await edge.admit(forged)
    assert forged.state.claims is None
    assert len(seen) == 3  # once per request
