"""The GraphiQL explorer: served by the router itself, with no request leaving the machine.

HTTP tests check the page, its Content-Security-Policy and the assets; the browser test drives
Debian's headless Chromium (``/usr/bin/chromium``) through Playwright: load ``GET /graphql``,
type and run a query, sign in as the demo customer and run ``{ me { name } }``; and, signed in,
subscribe to ``orderUpdated`` of an order the test placed over HTTP, advance it as staff and see
the streamed update in the result panel.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from router import graphiql
from router.config import RouterConfig
from router.server import create_app
from shared import demo_ids
from subgraphs.embedded import SUPERGRAPH_PATH
from tests.e2e.conftest import RunningStack
from tests.e2e.test_golden_path import call, next_open_evening
from tests.e2e.test_order_lifecycle import (
    ADVANCE,
    PLACE,
    STORE,
    VARIANT_ID,
    find_variant,
    login,
    until,
)

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
DEMO_EMAIL = "customer@pizza.example"
DEMO_PASSWORD = "pizza-demo-1"

STORES_QUERY = "{ stores { name } }"
ME_QUERY = "{ me { name } }"

# The value of a CodeMirror editor inside GraphiQL, by the editor's container selector.
EDITOR_VALUE = "selector => document.querySelector(selector + ' .CodeMirror').CodeMirror.getValue()"
QUERY_EDITOR = ".graphiql-query-editor"
RESPONSE = ".graphiql-response"


def _asset_urls(page: str) -> list[str]:
    return [
        part.split('"', 1)[0] for part in page.split('="')[1:] if part.startswith("graphql/static/")
    ]


async def test_browser_get_serves_the_explorer_page(shared_embedded_stack: RunningStack) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            shared_embedded_stack.router_url, headers={"accept": BROWSER_ACCEPT}
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>GraphiQL" in response.text
    assert {urlsplit(url).path for url in _asset_urls(response.text)} == {
        f"graphql/static/{name}" for name in graphiql.ASSET_TYPES
    }


async def test_explorer_page_has_a_strict_content_security_policy(
    shared_embedded_stack: RunningStack,
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            shared_embedded_stack.router_url, headers={"accept": BROWSER_ACCEPT}
        )
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    # Same origin, plus this host's ws:/wss: origin for GraphiQL's subscription socket.
    host = urlsplit(shared_embedded_stack.router_url).netloc
    assert policy["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "<script>" not in response.text
    assert "http://" not in response.text and "https://" not in response.text


@pytest.mark.parametrize(
    "accept", ["application/json", "application/graphql-response+json", "*/*", ""]
)
async def test_json_clients_never_get_the_page(
    shared_embedded_stack: RunningStack, accept: str
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            shared_embedded_stack.router_url,
            headers={"accept": accept, "apollo-require-preflight": "true"},  # past CSRF checks
        )
    assert "html" not in response.headers["content-type"]
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_get_with_a_query_still_executes_for_a_browser(
    shared_embedded_stack: RunningStack,
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            shared_embedded_stack.router_url,
            params={"query": STORES_QUERY},
            headers={"accept": BROWSER_ACCEPT, "apollo-require-preflight": "true"},  # CSRF
        )
    assert response.headers["content-type"] == "application/json"
    assert "Downtown" in {store["name"] for store in response.json()["data"]["stores"]}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (BROWSER_ACCEPT, True),
        ("text/html", True),
        ("application/json, text/html", False),
        ("text/html;q=0.5, application/json", False),
        ("application/json;q=0.1, text/html", True),
        ("text/html;q=0", False),
        ("*/*", False),
        ("", False),
    ],
)
def test_page_is_served_only_when_html_ranks_above_json(accept: str, expected: bool) -> None:
    assert graphiql.prefers_html(accept) is expected


@pytest.mark.parametrize("name", list(graphiql.ASSET_TYPES))
async def test_versioned_assets_are_cached_long_with_their_content_type(
    shared_embedded_stack: RunningStack, name: str
) -> None:
    async with httpx.AsyncClient() as client:
        page = await client.get(
            shared_embedded_stack.router_url, headers={"accept": BROWSER_ACCEPT}
        )
        (url,) = [url for url in _asset_urls(page.text) if urlsplit(url).path.endswith(f"/{name}")]
        response = await client.get(httpx.URL(shared_embedded_stack.router_url).join(url))
    assert response.status_code == 200
    assert response.headers["content-type"] == graphiql.ASSET_TYPES[name]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (graphiql.STATIC_DIR / name).read_bytes()


async def test_unversioned_asset_is_revalidated_by_etag(
    shared_embedded_stack: RunningStack,
) -> None:
    url = shared_embedded_stack.router_url + "/static/explorer.js"
    async with httpx.AsyncClient() as client:
        first = await client.get(url)
        again = await client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["README.md", "LICENSE.react", "..%2Fgraphiql.py", "nope.js"])
async def test_files_outside_the_asset_list_are_not_served(
    shared_embedded_stack: RunningStack, name: str
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{shared_embedded_stack.router_url}/static/{name}")
    assert response.status_code == 404


async def test_disabled_explorer_answers_404_to_browsers() -> None:
    config = RouterConfig.from_mapping({"supergraph": {"explorer": {"enabled": False}}})
    app = create_app(supergraph_sdl=SUPERGRAPH_PATH.read_text(encoding="utf-8"), config=config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        page = await client.get("/graphql", headers={"accept": BROWSER_ACCEPT})
        asset = await client.get("/graphql/static/graphiql.min.js")
    assert config.explorer_enabled is False
    assert (page.status_code, asset.status_code) == (404, 404)


def _require_browser() -> None:
    missing = f"{CHROMIUM} is missing (apt-get install chromium)" if not CHROMIUM.exists() else None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing = "the playwright package is missing (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {missing}")
        pytest.skip(missing)


async def _type_query(page: Page, text: str) -> None:
    await page.locator(f"{QUERY_EDITOR} .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(text)
    # CodeMirror closes brackets as they are typed; what it holds must still be the query.
    typed = await page.evaluate(EDITOR_VALUE, QUERY_EDITOR)
    assert " ".join(typed.split()) == text


async def _run_and_read(page: Page, expected: str) -> str:
    from playwright.async_api import expect

    await page.locator(".graphiql-execute-button").click()
    await expect(page.locator(RESPONSE)).to_contain_text(expected, timeout=15_000)
    return await page.evaluate(EDITOR_VALUE, RESPONSE)


async def test_explorer_runs_queries_and_signs_in_in_headless_chromium(
    shared_embedded_stack: RunningStack, tmp_path: Path
) -> None:
    _require_browser()
    from playwright.async_api import Route, async_playwright, expect

    origin = urlsplit(shared_embedded_stack.router_url)
    outside: list[str] = []

    async def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            user_data_dir=tmp_path / "chromium-profile",
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            await context.route("**/*", only_this_machine)
            await context.add_init_script(
                "window.__cspViolations = [];"
                "document.addEventListener('securitypolicyviolation', e =>"
                " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            page = context.pages[0] if context.pages else await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            response = await page.goto(shared_embedded_stack.router_url)
            assert response is not None and response.ok
            await expect(page.locator(f"{QUERY_EDITOR} .CodeMirror")).to_be_visible()

            await _type_query(page, STORES_QUERY)
            assert '"name": "Downtown"' in await _run_and_read(page, "Downtown")

            await page.fill("#explorer-bar input[name=email]", DEMO_EMAIL)
            await page.fill("#explorer-bar input[name=password]", DEMO_PASSWORD)
            await page.click("#explorer-bar button[type=submit]")
            await expect(page.get_by_test_id("signed-in")).to_contain_text("Casey Customer")
            await page.get_by_role("button", name="Headers").click()
            await expect(page.locator(".graphiql-editor-tool")).to_contain_text(
                '"Authorization": "Bearer '
            )

            await _type_query(page, ME_QUERY)
            assert '"name": "Casey Customer"' in await _run_and_read(page, "Casey Customer")
            await page.screenshot(path=tmp_path / "graphiql.png")

            token = await page.evaluate("sessionStorage.getItem('router-explorer.token')")
            local = await page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
            violations = await page.evaluate("window.__cspViolations")
        finally:
            await context.close()

    assert token and token not in local, "the token must stay in sessionStorage only"
    assert outside == [], f"requests left {origin.hostname}: {outside}"
    assert violations == []
    assert errors == []


PAYMENT = "query($id: ID!) { order(id: $id) { status payment { status } } }"


async def _place_order(client: httpx.AsyncClient, url: str, customer: str) -> str:
    """A demo customer's delivery order at Downtown, placed over HTTP, its payment authorized."""
    store = (await call(client, url, STORE, {"id": demo_ids.STORE_DOWNTOWN}))["store"]
    menu = await call(client, url, VARIANT_ID, {"s": store["id"]})
    placed = await call(
        client,
        url,
        PLACE,
        {
            "i": {
                "storeId": store["id"],
                "serviceMethod": "DELIVERY",
                "scheduledFor": await next_open_evening(client, url, store),
                "deliveryAddress": {
                    "line1": "1100 Congress Ave",
                    "city": "Austin",
                    "postcode": "78701",
                    "location": {"lat": 30.2747, "lng": -97.7404},
                },
                "lines": [{"variantId": find_variant(menu, "MARGHERITA-12-THIN"), "quantity": 1}],
                "paymentMethod": {"type": "CARD", "token": "tok_visa"},
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        customer,
    )
    order_id = placed["placeOrder"]["order"]["id"]

    async def read() -> dict[str, Any]:
        return (await call(client, url, PAYMENT, {"id": order_id}, customer))["order"]

    await until(read, lambda o: bool(o["payment"]) and o["payment"]["status"] == "AUTHORIZED")
    return order_id


@asynccontextmanager
async def _local_chromium(tmp_path: Path, outside: list[str]) -> AsyncIterator[BrowserContext]:
    """Headless Chromium, fresh profile; requests not to 127.0.0.1 are aborted into ``outside``."""
    from playwright.async_api import Route, async_playwright

    async def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            user_data_dir=tmp_path / "chromium-profile",
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            await context.route("**/*", only_this_machine)
            await context.add_init_script(
                "window.__cspViolations = [];"
                "document.addEventListener('securitypolicyviolation', e =>"
                " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            yield context
        finally:
            await context.close()


async def test_explorer_streams_a_subscription_over_websocket_in_headless_chromium(
    shared_embedded_stack: RunningStack, tmp_path: Path
) -> None:
    _require_browser()
    from playwright.async_api import WebSocket, expect

    url = shared_embedded_stack.router_url
    origin = urlsplit(url)
    async with httpx.AsyncClient(timeout=30) as client:
        customer = await login(client, url, DEMO_EMAIL)
        staff = await login(client, url, "staff.downtown@pizza.example")
        order_id = await _place_order(client, url, customer)

        outside: list[str] = []
        sockets: list[str] = []
        async with _local_chromium(tmp_path, outside) as context:
            page = context.pages[0] if context.pages else await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            def opened(socket: WebSocket) -> None:
                sockets.append(socket.url)

            page.on("websocket", opened)

            response = await page.goto(url)
            assert response is not None and response.ok
            await page.fill("#explorer-bar input[name=email]", DEMO_EMAIL)
            await page.fill("#explorer-bar input[name=password]", DEMO_PASSWORD)
            await page.click("#explorer-bar button[type=submit]")
            await expect(page.get_by_test_id("signed-in")).to_contain_text("Casey Customer")

            # The order as it is now: the subscription is registered upstream once this shows.
            await _type_query(
                page, f'subscription {{ orderUpdated(orderId: "{order_id}") {{ id status }} }}'
            )
            await page.locator(".graphiql-execute-button").click()
            await expect(page.locator(RESPONSE)).to_contain_text(order_id, timeout=15_000)
            first = await page.evaluate(EDITOR_VALUE, RESPONSE)
            assert '"PREP"' not in first

            # Staff moves the order on over HTTP; the explorer's socket streams the change.
            advanced = await call(client, url, ADVANCE, {"i": {"orderId": order_id}}, staff)
            assert advanced["advanceOrder"]["order"]["status"] == "PREP"
            await expect(page.locator(RESPONSE)).to_contain_text('"status": "PREP"', timeout=15_000)
            streamed = await page.evaluate(EDITOR_VALUE, RESPONSE)
            await page.screenshot(path=tmp_path / "graphiql-subscription.png")

            local = await page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
            violations = await page.evaluate("window.__cspViolations")

    assert f'"id": "{order_id}"' in streamed and "errors" not in streamed
    assert sockets == [f"ws://{origin.netloc}{origin.path}"]
    assert customer not in local
    assert outside == [], f"requests left {origin.hostname}: {outside}"
    assert violations == []
    assert errors == []
