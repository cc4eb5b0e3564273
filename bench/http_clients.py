"""Subgraph HTTP clients compared: httpx, aiohttp and the router's own (``router.fetcher``).

``python -m bench.http_clients [--requests 20000] [--concurrency 1,16]``
Starts the benchmark subgraphs (``bench.subgraphs``) in their own process and POSTs the
one-subgraph query to ``products`` with each client on one uvloop event loop: requests per
second and the mean client-side CPU time per request (process CPU time / requests). aiohttp is
not a dependency of the project: it is measured when importable (``pip install aiohttp``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import uvloop

from bench.gateways_benchmark import (
    DEFAULT_BASE_PORT,
    ONE_SUBGRAPH_DIRECT_QUERY,
    SUBGRAPH_NAMES,
    subgraph_url,
)
from bench.load import Service, port_open, wait_until
from router.fetcher import SubgraphHTTPClient

Post = Callable[[], Awaitable[bytes]]
HEADERS = {"content-type": "application/json", "accept": "application/json"}


async def _drive(post: Post, requests: int, concurrency: int) -> tuple[float, float]:
    """Requests per second and client CPU microseconds per request."""
    for _ in range(200):  # warm the pool
        await post()
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            body = await post()
            assert body.startswith(b'{"data"')

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return requests / wall, cpu / requests * 1e6


async def measure(url: str, requests: int, concurrency: int) -> dict[str, tuple[float, float]]:
    """Each available client's (req/s, CPU µs/request)."""
    body = json.dumps({"query": ONE_SUBGRAPH_DIRECT_QUERY}).encode()
    results: dict[str, tuple[float, float]] = {}

    limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def httpx_post() -> bytes:
            return (await client.post(url, content=body, headers=HEADERS)).content

        results["httpx"] = await _drive(httpx_post, requests, concurrency)

    try:
        import aiohttp  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        async with aiohttp.ClientSession() as session:

            async def aiohttp_post() -> bytes:
                async with session.post(url, data=body, headers=HEADERS) as response:
                    return bytes(await response.read())

            results["aiohttp"] = await _drive(aiohttp_post, requests, concurrency)

    own = SubgraphHTTPClient()

    async def own_post() -> bytes:
        return (await own.post(url, body, HEADERS))[1]

    results["router.fetcher"] = await _drive(own_post, requests, concurrency)
    await own.aclose()
    return results


def main(argv: list[str] | None = None) -> int:
    """Print one Markdown table per concurrency."""
    parser = argparse.ArgumentParser(prog="python -m bench.http_clients", description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", default="1,16")
    args = parser.parse_args(argv)
    subgraphs = Service(
        "bench-subgraphs",
        [sys.executable, "-m", "bench.subgraphs"],
        cwd=Path(__file__).resolve().parents[1],
        log_dir=Path(tempfile.mkdtemp(prefix="bench-http-")),
    )
    try:
        ports = [DEFAULT_BASE_PORT + i for i in range(len(SUBGRAPH_NAMES))]
        wait_until(lambda: all(port_open(p) for p in ports), timeout=60, what="starting subgraphs")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            results = uvloop.run(measure(subgraph_url("products"), args.requests, concurrency))
            print(f"\n{concurrency} concurrent request(s), {args.requests} requests each\n")
            print("| client | req/s | client CPU µs/request |\n|---|---:|---:|")
            for name, (rps, cpu_us) in results.items():
                print(f"| {name} | {rps:.0f} | {cpu_us:.0f} |")
    finally:
        subgraphs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
