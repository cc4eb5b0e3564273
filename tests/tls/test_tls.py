"""TLS on every listener (ADR 0011): a subgraph and the router serve HTTPS with a throwaway
CA's certificate; the router's fetcher, JWKS fetch and subscription upstreams and the
service-to-service client verify it.

Processes: ``python -m subgraphs geo`` and two ``python -m router`` (one trusting the CA, one
trusting another CA), all on free ports under a temporary directory. The JWKS and websocket
tests serve in-process (asyncio / websockets) with the same kind of certificate.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection, serve

from router.auth.config import AuthConfig, JwksSource, JwtConfig
from router.auth.jwks import JwksCache
from router.config import RouterConfig
from router.errors import SUBGRAPH_UNAVAILABLE, SubgraphFetchError
from router.fetcher import (
    SubgraphFetcher,
    SubgraphHTTPClient,
    create_http_client,
    router_ssl_context,
)
from router.gateway import Gateway
from router.subscriptions.stream import QueuedSubscriber, open_stream
from router.subscriptions.upstream import SUBPROTOCOL, UpstreamSubscription
from router.supergraph import Supergraph
from shared.keys import KeyRing, generate_key
from shared.settings import Settings
from shared.subgraph_client import SubgraphUnavailable, call_subgraph

ROOT = Path(__file__).resolve().parents[2]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
STARTUP_SECONDS = 60.0
pytestmark = pytest.mark.timeout(180)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca(directory: Path, name: str) -> tuple[Path, x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, cert, key


def _server_cert(
    directory: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_pem_key(key))
    key_path.chmod(0o600)
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    ca: Path
    wrong_ca: Path
    key: Path
    geo_url: str
    router_url: str
    wrong_router_url: str
    logs: list[Path]


def _wait_ready(url: str, ca: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    context = ssl.create_default_context(cafile=str(ca))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url, verify=context, timeout=2.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("tls")
    ca, ca_cert, ca_key = _ca(tmp, "test-ca")
    wrong_ca, _, _ = _ca(tmp, "other-ca")
    cert, key = _server_cert(tmp, ca_cert, ca_key)
    geo_port, router_port, wrong_port = _free_port(), _free_port(), _free_port()
    geo_url = f"https://127.0.0.1:{geo_port}/graphql"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PIZZA_", "ROUTER_"))}
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def spawn(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = tmp / f"{name}.log"
        logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env={**base_env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        return process

    def router(name: str, port: int, trusted: Path) -> subprocess.Popen[bytes]:
        config = tmp / f"{name}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "override_subgraph_url": {"geo": geo_url},
                    "traffic_shaping": {"all": {"timeout": "5s"}},
                    "tls": {"subgraph": {"all": {"certificate_authorities": str(trusted)}}},
                }
            )
        )
        args = ["-m", "router", "--supergraph", str(SUPERGRAPH), "--config", str(config)]
        args += ["--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)]
        return spawn(name, args, {})

    try:
        geo = spawn(
            "geo",
            ["-m", "subgraphs", "geo", "--port", str(geo_port)],
            {
                "PIZZA_DATA_DIR": str(tmp),
                "PIZZA_TLS_CERT_FILE": str(cert),
                "PIZZA_TLS_KEY_FILE": str(key),
                "PIZZA_ACCESS_LOG": "false",
            },
        )
        good = router("router", router_port, ca)
        wrong = router("router-wrong-ca", wrong_port, wrong_ca)
        _wait_ready(f"https://127.0.0.1:{geo_port}/health", ca, geo, logs[0])
        _wait_ready(f"https://127.0.0.1:{router_port}/health", ca, good, logs[1])
        _wait_ready(f"https://127.0.0.1:{wrong_port}/health", ca, wrong, logs[2])
        yield Stack(
            ca=ca,
            wrong_ca=wrong_ca,
            key=key,
            geo_url=geo_url,
            router_url=f"https://127.0.0.1:{router_port}/graphql",
            wrong_router_url=f"https://127.0.0.1:{wrong_port}/graphql",
            logs=logs,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _verify(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def test_router_serves_tls_and_calls_subgraph_over_tls(stack: Stack) -> None:
    response = httpx.post(
        stack.router_url,
        json={"query": "{ stores { name } }"},
        verify=_verify(stack.ca),
        timeout=10.0,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["stores"] and all(store["name"] for store in body["data"]["stores"])


def test_plain_http_to_tls_port_fails(stack: Stack) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.post(
            stack.router_url.replace("https://", "http://"),
            json={"query": "{ __typename }"},
            timeout=5.0,
        )


def test_client_without_the_ca_refuses_router(stack: Stack) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.post(
            stack.router_url,
            json={"query": "{ __typename }"},
            verify=_verify(stack.wrong_ca),
            timeout=5.0,
        )


def test_router_trusting_another_ca_refuses_the_subgraph(stack: Stack) -> None:
    response = httpx.post(
        stack.wrong_router_url,
        json={"query": "{ stores { name } }"},
        verify=_verify(stack.ca),
        timeout=10.0,
    )
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == SUBGRAPH_UNAVAILABLE, errors
    # Still serving: a refused handshake is an error for the request, not a crash.
    again = httpx.get(
        stack.wrong_router_url.replace("/graphql", "/health"),
        verify=_verify(stack.ca),
        timeout=5.0,
    )
    assert again.status_code == 200


async def test_fetcher_verifies_against_configured_ca(stack: Stack) -> None:
    supergraph = Supergraph.parse(
        SUPERGRAPH.read_text(encoding="utf-8"), override_urls={"geo": stack.geo_url}
    )
    body = b'{"query": "{ stores { name } }"}'
    for trusted, ok in ((stack.ca, True), (stack.wrong_ca, False), (None, False)):
        client = create_http_client()
        config = RouterConfig(
            override_subgraph_url={"geo": stack.geo_url},
            subgraph_ca=str(trusted) if trusted else None,
            timeout=5.0,
        )
        fetcher = SubgraphFetcher(client=client, subgraphs=supergraph.subgraphs, config=config)
        try:
            if ok:
                payload = await fetcher.fetch("geo", body, {})
                assert payload["data"]["stores"]
            else:
                with pytest.raises(SubgraphFetchError) as raised:
                    await fetcher.fetch("geo", body, {})
                assert raised.value.code == SUBGRAPH_UNAVAILABLE
        finally:
            await client.aclose()


def test_fetcher_accepts_inline_pem_ca(stack: Stack) -> None:
    config = RouterConfig.from_mapping(
        {"tls": {"subgraph": {"all": {"certificate_authorities": stack.ca.read_text()}}}}
    )
    client = create_http_client()
    SubgraphFetcher(client=client, subgraphs={}, config=config)
    assert client.ca == stack.ca.read_text()


async def test_service_to_service_client_trusts_pizza_tls_ca_file(stack: Stack) -> None:
    query = "{ stores { name } }"
    trusted = Settings(tls_ca_file=str(stack.ca), subgraph_urls={"geo": stack.geo_url})
    data = await call_subgraph(settings=trusted, name="geo", query=query)
    assert data["stores"]
    untrusted = Settings(tls_ca_file=str(stack.wrong_ca), subgraph_urls={"geo": stack.geo_url})
    with pytest.raises(SubgraphUnavailable):
        await call_subgraph(settings=untrusted, name="geo", query=query)


def test_config_and_env_names() -> None:
    config = RouterConfig.from_mapping(
        {"supergraph": {"tls": {"cert_file": "c.pem", "key_file": "k.pem"}}}
    ).with_env({"ROUTER_SUBGRAPH_CA_FILE": "ca.pem"})
    assert (config.tls_cert_file, config.tls_key_file, config.subgraph_ca) == (
        "c.pem",
        "k.pem",
        "ca.pem",
    )
    env = RouterConfig().with_env({"ROUTER_TLS_CERT_FILE": "a", "ROUTER_TLS_KEY_FILE": "b"})
    assert (env.tls_cert_file, env.tls_key_file) == ("a", "b")
    assert Settings(tls_cert_file="a", tls_key_file="b").uvicorn_tls() == {
        "ssl_certfile": "a",
        "ssl_keyfile": "b",
    }
    assert Settings().uvicorn_tls() == {}
    with pytest.raises(ValueError):
        Settings(tls_cert_file="a").uvicorn_tls()


def test_keys_never_logged(stack: Stack) -> None:
    key_body = "".join(stack.key.read_text().splitlines()[1:-1])
    for log in stack.logs:
        text = log.read_text(errors="replace")
        assert "PRIVATE KEY" not in text, log
        assert key_body[:40] not in text.replace("\n", ""), log


# --- The JWKS fetch and subscription upstreams take the same CA (in-process servers) ---


@dataclass
class Pki:
    ca: Path
    wrong_ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    tmp = tmp_path_factory.mktemp("pki")
    ca, ca_cert, ca_key = _ca(tmp, "test-ca")
    wrong_ca, _, _ = _ca(tmp, "other-ca")
    cert, key = _server_cert(tmp, ca_cert, ca_key)
    return Pki(ca=ca, wrong_ca=wrong_ca, cert=cert, key=key)


@asynccontextmanager
async def _https_jwks(pki: Pki, ring: KeyRing) -> AsyncIterator[tuple[str, list[int]]]:
    """An HTTPS JWKS endpoint serving ``ring``; yields its URL and a one-item request count."""
    body = orjson.dumps(ring.jwks())
    served = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            served[0] += 1
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # a client that refused the certificate
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=pki.server_context())
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/.well-known/jwks.json", served
    finally:
        server.close()
        await server.wait_closed()


async def test_jwks_client_verifies_against_configured_ca(pki: Pki) -> None:
    ring = KeyRing([generate_key()])
    kid = ring.signing_key.kid
    async with _https_jwks(pki, ring) as (url, served):
        source = JwksSource(url=url, algorithms=("ES256",))
        cases = (
            (RouterConfig(subgraph_ca=str(pki.ca)), True),
            (RouterConfig(subgraph_ca=pki.ca.read_text()), True),  # inline PEM
            (RouterConfig(subgraph_ca=str(pki.wrong_ca)), False),
            (RouterConfig(), False),  # no bundle: the system's CAs, as before
        )
        for config, ok in cases:
            cache = JwksCache((source,), tls=router_ssl_context(config))
            try:
                found = await cache.key_for(kid)
            finally:
                await cache.close()
            assert cache.fetches >= 1
            assert (found is not None) is ok, config.subgraph_ca
        assert served[0] == 2  # only the trusting clients got as far as a request


@asynccontextmanager
async def _wss_subgraph(pki: Pki | None) -> AsyncIterator[tuple[str, list[int]]]:
    """A ``graphql-transport-ws`` subgraph sending one ``next`` then ``complete`` (over TLS
    unless ``pki`` is None); yields its ``http(s)://`` URL and a one-item subscription count."""
    subscribed = [0]

    async def handle(ws: ServerConnection) -> None:
        async for raw in ws:
            kind = orjson.loads(raw)["type"]
            if kind == "connection_init":
                await ws.send(orjson.dumps({"type": "connection_ack"}).decode())
            elif kind == "subscribe":
                subscribed[0] += 1
                payload = {"data": {"tick": 1}}
                await ws.send(
                    orjson.dumps({"id": "1", "type": "next", "payload": payload}).decode()
                )
                await ws.send(orjson.dumps({"id": "1", "type": "complete"}).decode())

    tls = pki.server_context() if pki is not None else None
    async with serve(handle, "127.0.0.1", 0, ssl=tls, subprotocols=[SUBPROTOCOL]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"{'https' if pki else 'http'}://127.0.0.1:{port}/graphql", subscribed


async def _collect(url: str, tls: ssl.SSLContext | None) -> list[dict[str, object]]:
    upstream = UpstreamSubscription(
        service="geo",
        url=url,
        operation="subscription { tick }",
        operation_name=None,
        variables={},
        headers=dict,
        give_up_after=0.3,
        max_backoff=0.05,
        tls=tls,
    )
    return [message async for message in upstream.messages()]


async def test_upstream_websocket_verifies_against_configured_ca(pki: Pki) -> None:
    async with _wss_subgraph(pki) as (url, subscribed):
        assert url.startswith("https://")
        trusted = router_ssl_context(RouterConfig(subgraph_ca=str(pki.ca)))
        assert await _collect(url, trusted) == [{"data": {"tick": 1}}]
        assert subscribed[0] == 1
        for refused in (router_ssl_context(RouterConfig(subgraph_ca=str(pki.wrong_ca))), None):
            messages = await _collect(url, refused)
            assert len(messages) == 1
            assert messages[0]["errors"][0]["extensions"]["code"] == SUBGRAPH_UNAVAILABLE  # type: ignore[index]
        assert subscribed[0] == 1
    # A plain ws:// subgraph is unaffected by a configured bundle.
    async with _wss_subgraph(None) as (url, subscribed):
        assert await _collect(url, trusted) == [{"data": {"tick": 1}}]
        assert subscribed[0] == 1


async def test_gateway_shares_one_context_between_its_clients(pki: Pki) -> None:
    source = JwksSource(url="https://users.test/.well-known/jwks.json", algorithms=("ES256",))
    auth = AuthConfig(jwt=JwtConfig(jwks=(source,)), claims_secret="test", directives=False)
    sdl = SUPERGRAPH.read_text(encoding="utf-8")
    query = 'subscription { orderUpdated(orderId: "o1") { id } }'
    for ca in (str(pki.ca), None):
        gateway = Gateway.from_sdl(sdl, RouterConfig(subgraph_ca=ca, auth=auth))
        await gateway.start()
        try:
            tls = gateway.subgraph_tls
            assert (tls is not None) is (ca is not None)
            assert gateway.auth.authenticator is not None
            assert gateway.auth.authenticator.jwks.tls is tls
            if ca is not None:
                client = gateway.client
                assert isinstance(client, SubgraphHTTPClient) and client._tls is tls
            stream = await open_stream(
                gateway,
                query=query,
                operation_name=None,
                variables=None,
                headers={},
                claims=None,
            )
            stream.attach(QueuedSubscriber(1))
            assert stream.shared is not None and stream.shared.upstream.tls is tls
            await stream.aclose()
        finally:
            await gateway.stop()
