"""Schemathesis against the REST endpoints' OpenAPI documents: no 5xx, responses as documented.

Router: its static ``/openapi.json`` (``/graphql`` over HTTP, ``/health``, ``/ready``,
``/metrics``). Users: JWKS and health. Payments: webhooks, invoice PDFs and health. The
subgraphs' ``/graphql`` routes are left to the GraphQL fuzz (``test_graphql_fuzz``).
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import CSRF_HEADERS, FuzzStack
from tests.fuzz.runner import fuzz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# (schema fixture, method, path): every REST operation the documents must hold.
OPERATIONS = [
    ("router_openapi", "GET", "/graphql"),
    ("router_openapi", "POST", "/graphql"),
    ("router_openapi", "GET", "/health"),
    ("router_openapi", "GET", "/ready"),
    ("router_openapi", "GET", "/metrics"),
    ("router_openapi", "GET", "/openapi.json"),
    ("users_openapi", "GET", "/health"),
    ("users_openapi", "GET", "/ready"),
    ("users_openapi", "GET", "/.well-known/jwks.json"),
    ("users_openapi", "POST", "/oauth/token"),
    ("payments_openapi", "GET", "/health"),
    ("payments_openapi", "GET", "/ready"),
    ("payments_openapi", "POST", "/webhooks/payments"),
    ("payments_openapi", "GET", "/invoices/{number}.pdf"),
]
DOCUMENTED_ERRORS = {
    ("router_openapi", "POST", "/graphql"): {"400", "401", "403", "404", "413", "429"},
    ("users_openapi", "GET", "/.well-known/jwks.json"): {"200"},
    ("users_openapi", "POST", "/oauth/token"): {"200", "400"},
    ("payments_openapi", "POST", "/webhooks/payments"): {"200", "400", "413", "503"},
    ("payments_openapi", "GET", "/invoices/{number}.pdf"): {"200", "401", "403", "404"},
}


@pytest.mark.parametrize(("documents", "method", "path"), OPERATIONS)
def test_rest_operation_conforms(
    documents: str, method: str, path: str, request: pytest.FixtureRequest
) -> None:
    schema: schemathesis.BaseSchema = request.getfixturevalue(documents)
    headers = CSRF_HEADERS if documents == "router_openapi" else None
    fuzz(schema[path][method], checks=CHECKS, headers=headers)


@pytest.mark.parametrize(("documents", "method", "path"), list(DOCUMENTED_ERRORS))
def test_statuses_are_documented(
    documents: str, method: str, path: str, request: pytest.FixtureRequest
) -> None:
    schema: schemathesis.BaseSchema = request.getfixturevalue(documents)
    responses = schema.raw_schema["paths"][path][method.lower()]["responses"]
    assert DOCUMENTED_ERRORS[(documents, method, path)] <= set(responses)


@pytest.mark.parametrize("roles", [("CUSTOMER",), ("ADMIN",)])
def test_invoice_pdf_as_a_caller(
    roles: tuple[str, ...], payments_openapi: schemathesis.BaseSchema, fuzz_stack: FuzzStack
) -> None:
    """Past authentication: unknown numbers (404) and others' invoices (403), never a 5xx."""
    headers = fuzz_stack.claims_header(roles=roles)
    fuzz(payments_openapi["/invoices/{number}.pdf"]["GET"], checks=CHECKS, headers=headers)


@pytest.mark.slow
@pytest.mark.parametrize(("documents", "method", "path"), OPERATIONS)
def test_rest_operation_conforms_long(
    documents: str, method: str, path: str, request: pytest.FixtureRequest
) -> None:
    schema: schemathesis.BaseSchema = request.getfixturevalue(documents)
    headers = CSRF_HEADERS if documents == "router_openapi" else None
    fuzz(schema[path][method], checks=CHECKS, headers=headers, max_examples=500)
