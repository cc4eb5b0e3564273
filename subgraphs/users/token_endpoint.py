"""``POST /oauth/token``: sign-in over REST for clients that are not GraphQL (RFC 6749).

Enters: a form (``application/x-www-form-urlencoded``, the OAuth 2.0 norm) or JSON body
with ``grant_type=password`` (``username`` or ``email``, ``password``) or
``grant_type=refresh_token`` (``refresh_token``). Leaves: ``{access_token, token_type,
expires_in, refresh_token}`` with ``Cache-Control: no-store``, or an RFC 6749 error body
(``invalid_request``, ``unsupported_grant_type``, ``invalid_grant``) with status 400.
The rules are the ``login``/``refreshToken`` mutations' (``service.login``/``refresh``).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.errors import Unauthenticated
from shared.subgraph import SubgraphRuntime
from subgraphs.users import service

TOKEN_PATH = "/oauth/token"
MAX_BODY_BYTES = 16 * 1024
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Tokens (RFC 6749 section 5.1).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in", "refresh_token"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"type": "string", "enum": ["Bearer"]},
                        "expires_in": {"type": "integer"},
                        "refresh_token": {"type": "string"},
                    },
                }
            }
        },
    },
    400: {
        "description": "An RFC 6749 section 5.2 error.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "string",
                            "enum": ["invalid_request", "unsupported_grant_type", "invalid_grant"],
                        },
                        "error_description": {"type": "string"},
                    },
                }
            }
        },
    },
}


def _error(code: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "error_description": description}, status_code=400, headers=NO_STORE
    )


async def _read_params(request: Request) -> dict[str, str] | None:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            data = orjson.loads(body)
            if not isinstance(data, dict):
                return None
            return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        if content_type == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qsl

            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return None
    return None


def add_token_endpoint(app: FastAPI, runtime: SubgraphRuntime) -> None:
    """Register ``POST /oauth/token`` on the users app."""

    @app.post(
        TOKEN_PATH,
        tags=["auth"],
        summary="Issue tokens: password or refresh_token grant (RFC 6749)",
        response_class=JSONResponse,
        responses=TOKEN_RESPONSES,
    )
    async def token(request: Request) -> JSONResponse:
        params = await _read_params(request)
        if params is None:
            return _error(
                "invalid_request",
                "Send a form (application/x-www-form-urlencoded) or JSON object of strings.",
            )
        grant = params.get("grant_type")
        try:
            async with runtime.db.session() as session:
                if grant == "password":
                    email = params.get("username") or params.get("email")
                    password = params.get("password")
                    if not email or not password:
                        return _error("invalid_request", "username and password are required.")
                    pair = await service.login(
                        session=session, settings=runtime.settings, email=email, password=password
                    )
                elif grant == "refresh_token":
                    if not params.get("refresh_token"):
                        return _error("invalid_request", "refresh_token is required.")
                    pair = await service.refresh(
                        session=session,
                        settings=runtime.settings,
                        refresh_token=params["refresh_token"],
                    )
                else:
                    return _error(
                        "unsupported_grant_type", "grant_type must be password or refresh_token."
                    )
                await session.commit()
        except Unauthenticated as error:
            return _error("invalid_grant", error.message)
        return JSONResponse(
            {
                "access_token": pair.access_token,
                "token_type": "Bearer",
                "expires_in": pair.expires_in,
                "refresh_token": pair.refresh_token,
            },
            headers=NO_STORE,
        )
