"""The router's OpenAPI 3.1 document, served at ``GET /openapi.json``.

A static description of the router's HTTP surface: ``/graphql`` as GraphQL-over-HTTP
(``GET`` queries, ``POST`` JSON bodies and batches, with the statuses of ``router.errors``),
``/health``, ``/ready``, ``/metrics`` and this document. The GraphQL schema itself is
served by introspection, not here. ``tests/fuzz`` fuzzes the router against it
(ADR 0013), so a status or media type added to the server belongs here too.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/openapi.json"

_JSON = "application/json"
_GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

_GRAPHQL_ERRORS: dict[str, Any] = {"$ref": "#/components/schemas/GraphQLResponse"}
_GRAPHQL_CONTENT = {
    _JSON: {"schema": _GRAPHQL_ERRORS},
    _GRAPHQL_RESPONSE_JSON: {"schema": _GRAPHQL_ERRORS},
}


def _graphql_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": _GRAPHQL_CONTENT}


# Statuses of GraphQL-over-HTTP answers (router.server, router.edge; see router.errors).
_GRAPHQL_ERROR_RESPONSES: dict[str, Any] = {
    "400": _graphql_answer(
        "Malformed request (BAD_REQUEST, CSRF_ERROR, batching and persisted query errors) or, "
        "with application/graphql-response+json, a parse failure."
    ),
    "401": _graphql_answer("The bearer token fails verification (UNAUTHENTICATED)."),
    "403": _graphql_answer("Freeform GraphQL outside the safelist (QUERY_NOT_IN_SAFELIST)."),
    "404": _graphql_answer("Unknown persisted query id (PERSISTED_QUERY_NOT_IN_LIST)."),
    "413": _graphql_answer("The body is over the size limit (INVALID_GRAPHQL_REQUEST)."),
    "422": _graphql_answer(
        "With application/graphql-response+json: the operation fails validation or limits."
    ),
    "429": {
        **_graphql_answer("A rate limit (REQUEST_RATE_LIMITED)."),
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
}

_GRAPHQL_PARAMETERS = [
    {
        "name": "query",
        "in": "query",
        "required": False,
        "description": "The GraphQL document (queries only over GET).",
        "schema": {"type": "string"},
    },
    {"name": "operationName", "in": "query", "required": False, "schema": {"type": "string"}},
    {
        "name": "variables",
        "in": "query",
        "required": False,
        "description": "A JSON object.",
        "schema": {"type": "string"},
    },
    {
        "name": "extensions",
        "in": "query",
        "required": False,
        "description": "A JSON object (persistedQuery).",
        "schema": {"type": "string"},
    },
]

_HEALTH_STATUS = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "checks": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "pizza supergraph router",
        "version": "0.1.0",
        "description": "GraphQL-over-HTTP endpoint of the federated supergraph and its "
        "operational endpoints. Subscriptions also run over the graphql-transport-ws "
        "WebSocket on /graphql.",
    },
    "paths": {
        "/graphql": {
            "get": {
                "operationId": "graphqlGet",
                "summary": "A GraphQL query over GET (browsers asking for HTML get the explorer)",
                "tags": ["graphql"],
                "parameters": _GRAPHQL_PARAMETERS,
                "responses": {
                    "200": {
                        "description": "The GraphQL response (request errors with status 200 "
                        "as application/json), or the explorer page.",
                        "content": {
                            **_GRAPHQL_CONTENT,
                            "text/html": {"schema": {"type": "string"}},
                        },
                    },
                    **_GRAPHQL_ERROR_RESPONSES,
                    "405": {
                        **_graphql_answer("A mutation over GET (METHOD_NOT_ALLOWED)."),
                        "headers": {"Allow": {"schema": {"type": "string"}}},
                    },
                },
            },
            "post": {
                "operationId": "graphqlPost",
                "summary": "A GraphQL operation, a batch (JSON array) or a persisted query",
                "tags": ["graphql"],
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/GraphQLRequest"},
                                    {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/GraphQLRequest"},
                                    },
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "The GraphQL response (a list for a batch); a "
                        "subscription accepted as multipart/mixed streams its events.",
                        "content": {
                            _JSON: {
                                "schema": {
                                    "oneOf": [
                                        _GRAPHQL_ERRORS,
                                        {"type": "array", "items": _GRAPHQL_ERRORS},
                                    ]
                                }
                            },
                            _GRAPHQL_RESPONSE_JSON: {"schema": _GRAPHQL_ERRORS},
                            "multipart/mixed": {"schema": {"type": "string"}},
                        },
                    },
                    **_GRAPHQL_ERROR_RESPONSES,
                },
            },
        },
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness",
                "tags": ["health"],
                "responses": {
                    "200": {
                        "description": "The process answers.",
                        "content": {
                            _JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["status"],
                                    "properties": {"status": {"const": "ok"}},
                                }
                            }
                        },
                    }
                },
            }
        },
        "/ready": {
            "get": {
                "operationId": "ready",
                "summary": "Readiness: supergraph loaded, gateway started (and subgraphs)",
                "tags": ["health"],
                "parameters": [
                    {
                        "name": "subgraphs",
                        "in": "query",
                        "required": False,
                        "description": "true or 1: also probe every subgraph's /health.",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "Ready.",
                        "content": {_JSON: {"schema": _HEALTH_STATUS}},
                    },
                    "503": {
                        "description": "Not ready; checks say what is not.",
                        "content": {_JSON: {"schema": _HEALTH_STATUS}},
                    },
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "tags": ["observability"],
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        PATH: {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["meta"],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document of the router.",
                        "content": {_JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "GraphQLRequest": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "operationName": {"type": ["string", "null"]},
                    "variables": {"type": ["object", "null"]},
                    "extensions": {"type": ["object", "null"]},
                },
            },
            "GraphQLResponse": {
                "type": "object",
                "properties": {
                    "data": {"type": ["object", "null"]},
                    "errors": {"type": "array", "items": {"type": "object"}},
                    "extensions": {"type": "object"},
                },
            },
        }
    },
}

_BODY = orjson.dumps(DOCUMENT)


async def openapi_endpoint(_: Request) -> Response:
    """``GET /openapi.json``."""
    return Response(_BODY, media_type="application/json")


def route() -> Route:
    """The route serving the document."""
    return Route(PATH, openapi_endpoint, methods=["GET"])
