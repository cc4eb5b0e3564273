"""ASGI app factory of the users subgraph.

Besides ``/graphql`` it publishes the public keys of its access tokens at
``GET /.well-known/jwks.json`` (what the router's ``authentication.router.jwt.jwks``
points at); see ``shared.keys`` for rotation, and ``POST /oauth/token`` (RFC 6749 password
and refresh-token grants) for clients that sign in over REST.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shared.keys import key_ring_for
from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.users import demo, events
from subgraphs.users.loaders import create_loaders
from subgraphs.users.schema import schema
from subgraphs.users.token_endpoint import add_token_endpoint

NAME = "users"
JWKS_PATH = "/.well-known/jwks.json"
JWKS_MAX_AGE_SECONDS = 300
JWKS_RESPONSE = {
    "description": "The JSON Web Key Set (RFC 7517): the public half of every published key.",
    "headers": {"Cache-Control": {"schema": {"type": "string"}}},
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["keys"],
                "properties": {
                    "keys": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kty", "kid"],
                            "properties": {
                                "kty": {"type": "string"},
                                "kid": {"type": "string"},
                                "use": {"type": "string"},
                                "alg": {"type": "string"},
                                "crv": {"type": "string"},
                                "x": {"type": "string"},
                                "y": {"type": "string"},
                            },
                        },
                    }
                },
            }
        }
    },
}


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The users subgraph app (its own runtime from settings unless one is given)."""
    runtime = runtime or SubgraphRuntime.create(NAME)
    keys = key_ring_for(runtime.settings)  # generates the first key now, not on first login
    runtime.extras["keys"] = keys
    app = create_subgraph_app(
        runtime=runtime,
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
    )

    @app.get(
        JWKS_PATH,
        tags=["auth"],
        summary="Public keys of the access tokens (JWKS)",
        response_class=JSONResponse,
        responses={200: JWKS_RESPONSE},
    )
    async def jwks() -> JSONResponse:
        return JSONResponse(
            keys.jwks(), headers={"cache-control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"}
        )

    add_token_endpoint(app, runtime)
    return app
