"""GraphiQL explorer, served by the router from vendored files (no CDN, works offline).

In: browser requests: ``GET /graphql`` without a ``query`` parameter whose ``Accept`` header
prefers ``text/html`` to JSON, and ``GET /graphql/static/<file>`` for the page's assets.
Out: the explorer page (strict Content-Security-Policy: same-origin only, plus the same host's
``ws:``/``wss:`` origin for subscriptions over ``graphql-transport-ws``; no inline script) and
its assets (long-lived cache headers when the URL carries the asset's content hash, gzip when
accepted). Every other request to ``/graphql`` reaches the GraphQL route untouched. With the explorer
disabled, the page and the assets answer 404.

The assets in ``router/static/graphiql/`` are GraphiQL's and React's UMD bundles (versions and
licenses in the README there) plus the page's own ``explorer.js``/``explorer.css``.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
STATIC_PATH = "/graphql/static"

_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
# Served files, in the order the page loads them; nothing else under STATIC_DIR is reachable.
ASSET_TYPES: dict[str, str] = {
    "graphiql.min.css": _CSS,
    "explorer.css": _CSS,
    "react.production.min.js": _JS,
    "react-dom.production.min.js": _JS,
    "graphiql.min.js": _JS,
    "explorer.js": _JS,
}
_IMMUTABLE = "public, max-age=31536000, immutable"
_JSON_TYPES = frozenset({"application/json", "application/graphql-response+json"})

# Same origin only. GraphiQL's stylesheet embeds its fonts and icons as data: URLs; React and
# CodeMirror set styles through the CSSOM, which style-src does not restrict. connect-src gets the
# page's own host as ws:/wss: origins per request (see content_security_policy).
_POLICY_DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src {connect}",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(_POLICY_DIRECTIVES).format(connect="'self'")
# A Host header that is safe to put in a CSP source: host name or [IPv6] literal, optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def content_security_policy(host: str | None) -> str:
    """The page's policy, letting the explorer open its subscription WebSocket to ``host``.

    CSP Level 3 makes ``'self'`` match ``ws:``/``wss:`` on the page's host, but not every browser
    implements that (older Safari, Firefox before 2023), so the same host is listed explicitly
    with both schemes: behind a TLS-terminating proxy the router may see ``http`` while the
    browser uses ``wss:``. The host comes from the request's ``Host`` header, which the browser
    sets to the page's own origin; anything that is not a plain host[:port] gets ``'self'`` only.
    """
    connect = "'self'"
    if host and _HOST.fullmatch(host):
        host = host.lower()
        connect += f" ws://{host} wss://{host}"
    return "; ".join(_POLICY_DIRECTIVES).format(connect=connect)


_PAGE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
    "vary": "Accept",
}


@dataclass(slots=True)
class Asset:
    """One static file, held in memory with its content hash (its URL version)."""

    body: bytes
    content_type: str
    version: str
    gzipped: bytes | None = field(default=None, repr=False)


def load_assets(directory: Path = STATIC_DIR) -> dict[str, Asset]:
    """The served files, read once."""
    assets = {}
    for name, content_type in ASSET_TYPES.items():
        body = (directory / name).read_bytes()
        version = hashlib.sha256(body).hexdigest()[:16]
        assets[name] = Asset(body=body, content_type=content_type, version=version)
    return assets


def render_page(assets: dict[str, Asset]) -> bytes:
    """The explorer's HTML: links to the assets, relative to ``/graphql`` so a path prefix works."""

    def url(name: str) -> str:
        return html.escape(f"graphql/static/{name}?v={assets[name].version}")

    styles = "".join(
        f'<link rel="stylesheet" href="{url(name)}">\n'
        for name, kind in ASSET_TYPES.items()
        if kind == _CSS
    )
    scripts = "".join(
        f'<script src="{url(name)}" defer></script>\n'
        for name, kind in ASSET_TYPES.items()
        if kind == _JS
    )
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>GraphiQL · Pizza supergraph router</title>
{styles}{scripts}</head>
<body>
<header id="explorer-bar"></header>
<main id="graphiql"><p class="explorer-loading">Loading GraphiQL…</p></main>
<noscript>The GraphiQL explorer needs JavaScript.</noscript>
</body>
</html>
"""
    return page.encode("utf-8")


def prefers_html(accept: str) -> bool:
    """Whether an ``Accept`` header ranks ``text/html`` above every JSON type (browsers do)."""
    best_html: tuple[float, int] | None = None
    best_json: tuple[float, int] | None = None
    for position, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        rank = (quality, -position)
        media = media.lower()
        if media == "text/html" and (best_html is None or rank > best_html):
            best_html = rank
        elif media in _JSON_TYPES and (best_json is None or rank > best_json):
            best_json = rank
    return best_html is not None and (best_json is None or best_html > best_json)


def wants_explorer(request: Request) -> bool:
    """A browser asking for the page, not a GraphQL-over-HTTP GET."""
    return "query" not in request.query_params and prefers_html(request.headers.get("accept", ""))


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


async def _not_found_endpoint(_: Request) -> Response:
    return _not_found()


async def _gzipped(asset: Asset) -> bytes:
    if asset.gzipped is None:
        # Once per asset and process, off the event loop (graphiql.min.js is ~3.5 MB).
        asset.gzipped = await asyncio.to_thread(gzip.compress, asset.body, 6, mtime=0)
    return asset.gzipped


class _PageRoute(Route):
    """``GET /graphql`` that matches only browsers asking for the page.

    Every other request falls through to the GraphQL route, which this module never calls.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        match, child_scope = super().matches(scope)
        if match is Match.FULL and not wants_explorer(Request(scope)):
            return Match.NONE, {}
        return match, child_scope


def routes(*, enabled: bool) -> list[BaseRoute]:
    """Routes to list before the GraphQL route: the page on ``GET /graphql``, then the assets."""
    if not enabled:
        return [_PageRoute("/graphql", _not_found_endpoint, methods=["GET"])]
    assets = load_assets()
    page = render_page(assets)

    async def explorer_page(request: Request) -> Response:
        headers = {
            "content-security-policy": content_security_policy(request.headers.get("host")),
            **_PAGE_HEADERS,
        }
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    async def static_file(request: Request) -> Response:
        asset = assets.get(request.path_params["name"])
        if asset is None:
            return _not_found()
        etag = f'"{asset.version}"'
        versioned = request.query_params.get("v") == asset.version
        headers = {
            "etag": etag,
            "cache-control": _IMMUTABLE if versioned else "no-cache",
            "x-content-type-options": "nosniff",
            "vary": "Accept-Encoding",
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        body = asset.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = await _gzipped(asset)
            headers["content-encoding"] = "gzip"
        return Response(body, media_type=asset.content_type, headers=headers)

    return [
        _PageRoute("/graphql", explorer_page, methods=["GET"]),
        Route(STATIC_PATH + "/{name}", static_file, methods=["GET"]),
    ]
