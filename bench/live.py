"""``make bench-live``: live tracking (``driverPosition``) through the router under many subscribers.

``python -m bench.live [--subscribers N] [--streams M] [--duration S] [--rate R]
[--client-processes P] [--json results.json]``

The embedded stack (``python -m subgraphs.embedded``: router + eight subgraphs, SQLite, the
in-process live hub) runs in its own process; with ``--router-workers W`` the clients go
through ``python -m router --workers W`` in front of it instead of the stack's own router.
Through the router a customer places ``M`` DELIVERY orders at the downtown store and its
staff give them to the store's drivers, two orders each, as ``tests/subscriptions`` does
(Ana and Ben, then drivers the admin creates). Then
``N`` ``graphql-transport-ws`` clients (``bench.ws_client``: a minimal protocol client, so
that the load generator stays cheaper than the server; many per process on one asyncio loop,
spread over ``P`` client processes) subscribe to ``driverPosition(orderId)`` as
the customer on ``GET /graphql``, round-robin over the ``M`` orders. Once every client has its
first event, each driver posts ``postDriverPosition`` ``R`` times a second for ``S`` seconds
on a fixed schedule. The wall-clock send time (taken just before the POST) travels in the
position's ``speed`` field (``time.time() % 100``), so each client computes the end-to-end
latency (post sent -> event received) at receipt, with no shared state.

Prints delivered messages/s (and against the number expected), p50/p99/max latency, the
server's RSS before and after the subscribers connected (memory per subscriber), the server's
and the clients' CPU use during the run. Bounded in count and time; everything stops by
itself. The exit status is 1 only when a subscriber failed to connect or got no message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import resource
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.load import PeakRSS, Service, port_open, process_tree, tree_rss_bytes, wait_until

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROUTER_PORT = 4500  # subgraphs on the next eight ports
ROUTER_PORT_OFFSET = 20  # --router-workers: the separate router's port, after the stack's
MAX_STREAMS = 200  # orders followed; beyond Ana's and Ben's four the admin creates drivers
SUBSCRIPTION = (
    "subscription($id: ID!) { driverPosition(orderId: $id) { location { lat lng } speed at } }"
)
POST = """
mutation($lat: Float!, $lng: Float!, $heading: Float, $speed: Float) {
  postDriverPosition(input: {lat: $lat, lng: $lng, heading: $heading, speed: $speed}) {
    driver { id }
  }
}"""
WRAP = 100.0  # speed = send time modulo this (speed must be 0..100 m/s)


# --------------------------------------------------------------------------- client processes


@dataclass
class _Stats:
    connected: int = 0
    subscribed: int = 0  # got the first event (the current position)
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def _subscriber(
    url: str,
    token: str,
    order_id: str,
    index: int,
    counts: list[int],
    latencies: array,
    stats: _Stats,
    gate: asyncio.Semaphore,
) -> None:
    from bench.ws_client import Subscriber

    first = True
    client: Subscriber

    def on_next(payload: dict[str, Any]) -> None:
        nonlocal first
        received = time.time()
        if payload.get("errors"):
            client._fail(f"errors: {payload['errors']}")
            return
        if first:
            first = False
            stats.subscribed += 1
        speed = payload["data"]["driverPosition"]["speed"]
        if speed is not None:  # a timed position (not the one posted at setup)
            counts[index] += 1
            latencies.append(((received % WRAP) - speed) % WRAP)

    client = Subscriber(
        url=url, token=token, query=SUBSCRIPTION, variables={"id": order_id}, on_next=on_next
    )
    try:
        async with gate:
            await client.connect()
        stats.connected += 1
        raise RuntimeError(await client.closed)
    except asyncio.CancelledError:
        client.close()
        raise
    except Exception as error:
        stats.failed += 1
        if len(stats.errors) < 5:
            stats.errors.append(f"{type(error).__name__}: {str(error)[:200]}")


async def _client_main(
    url: str,
    token: str,
    orders: list[str],
    first_index: int,
    count: int,
    stop: Any,
    out: Any,
) -> None:
    counts = [0] * count
    latencies = array("d")
    stats = _Stats()
    gate = asyncio.Semaphore(100)  # handshakes in flight at once
    tasks = [
        asyncio.create_task(
            _subscriber(
                url,
                token,
                orders[(first_index + i) % len(orders)],
                i,
                counts,
                latencies,
                stats,
                gate,
            )
        )
        for i in range(count)
    ]
    last_report = None
    while not stop.is_set():
        report = (stats.connected, stats.subscribed, stats.failed)
        if report != last_report:
            out.put(("progress", os.getpid(), report))
            last_report = report
        await asyncio.sleep(0.2)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put(
        (
            "result",
            os.getpid(),
            {
                "counts": counts,
                "latencies": latencies.tobytes(),
                "connected": stats.connected,
                "subscribed": stats.subscribed,
                "failed": stats.failed,
                "errors": stats.errors,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            },
        )
    )
    for task in tasks:
        task.cancel()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)


def _client_process(*args: Any) -> None:
    _raise_fd_limit()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_client_main(*args))


# --------------------------------------------------------------------------- the stack


def _raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(roots: list[int]) -> float:
    """CPU time of ``roots`` and their live descendants (uvicorn workers)."""
    total = 0.0
    for pid in process_tree(roots):
        with contextlib.suppress(OSError):
            total += _cpu_seconds(pid)
    return total


def _start_router(port: int, workers: int, log_dir: Path) -> Service:
    """``python -m router --workers N`` in front of the stack's subgraphs (ports after ``port``)."""
    from bench.pizza import router_yaml, supergraph_for

    supergraph, _ = supergraph_for(port, log_dir)
    config = router_yaml(port, log_dir)
    with config.open("a", encoding="utf-8") as file:
        file.write(
            "subscription:\n  replay_latest: [Subscription.orderUpdated, "
            "Subscription.driverPosition]\n"
        )
    router_port = port + ROUTER_PORT_OFFSET
    argv = [sys.executable, "-m", "router", "--supergraph", str(supergraph), "--config"]
    argv += [str(config), "--port", str(router_port), "--workers", str(workers)]
    router = Service("live-router", argv, cwd=ROOT, env={}, log_dir=log_dir)
    wait_until(
        lambda: port_open(router_port), timeout=60, what="starting the router", service=router
    )
    return router


@dataclass
class Setup:
    url: str
    token: str  # the customer's
    orders: list[str]
    drivers: list[tuple[str, list[str]]]  # (driver token, the orders they carry)


CREATE_DRIVER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }
"""
ORDERS_PER_DRIVER = 2  # delivery's MAX_ORDERS_PER_DRIVER: each driver carries two orders


async def _drivers(client: httpx.AsyncClient, url: str, count: int) -> list[tuple[Any, str]]:
    """``count`` downtown drivers signed in: Ana and Ben, then drivers the admin creates
    (delivery learns of them through ``UserRegistered``)."""
    from shared import demo_ids
    from tests.auth.conftest import sign_in

    ids = {name: i for i, (name, _) in demo_ids.DRIVERS.items()}
    drivers = []
    for name in ("Ana", "Ben")[:count]:
        email = f"{name.lower()}.driver@pizza.example"
        drivers.append((await sign_in(client, url, email, demo_ids.DEMO_PASSWORD), ids[name]))
    if count > len(drivers):
        admin = await sign_in(client, url, "admin@pizza.example", demo_ids.DEMO_PASSWORD)
        run = os.urandom(3).hex()
        for n in range(count - len(drivers)):
            email = f"bench-{run}-{n}.driver@pizza.example"
            created = await admin.data(
                CREATE_DRIVER,
                {
                    "input": {
                        "email": email,
                        "name": f"Bench Driver {n}",
                        "password": demo_ids.DEMO_PASSWORD,
                        "roles": ["DRIVER"],
                        "storeId": demo_ids.STORE_DOWNTOWN,
                    }
                },
            )
            driver_id = created["createUser"]["user"]["id"]
            drivers.append((await sign_in(client, url, email, demo_ids.DEMO_PASSWORD), driver_id))
    return drivers


async def _setup(url: str, streams: int) -> Setup:
    from tests.subscriptions.conftest import eventually, make_world
    from tests.subscriptions.test_driver_position import ASSIGN, AVAILABLE, DELIVERY

    async with httpx.AsyncClient(timeout=60) as client:
        world = await make_world(client, url)
        drivers = await _drivers(client, url, -(-streams // ORDERS_PER_DRIVER))
        carried: list[list[str]] = [[] for _ in drivers]
        orders = []
        for i in range(streams):
            order_id = await world.place_order(world.alice, "DELIVERY")

            async def delivery_exists(order_id: str = order_id) -> Any:
                return (await world.staff.data(DELIVERY, {"id": order_id}))["order"]["delivery"]

            await eventually(delivery_exists, timeout=30)
            caller, driver_id = drivers[i % len(drivers)]
            if not carried[i % len(drivers)]:

                async def available(caller: Any = caller) -> Any:
                    return await caller.data(AVAILABLE)  # a new driver: once delivery knows them

                await eventually(available, timeout=30)
            await world.staff.data(ASSIGN, {"id": order_id, "driver": driver_id})
            carried[i % len(drivers)].append(order_id)
            orders.append(order_id)
        for order_id in orders:

            async def picked_up(order_id: str = order_id) -> bool:
                order = (await world.staff.data(DELIVERY, {"id": order_id}))["order"]
                return order["delivery"]["status"] == "PICKED_UP"

            await eventually(picked_up, timeout=30)
        for caller, _ in drivers:  # a current position (speed null: not timed)
            await caller.data(POST, {"lat": 30.2680, "lng": -97.7420, "heading": 0})
        return Setup(
            url=url,
            token=str(world.alice.token),
            orders=orders,
            drivers=[(str(c.token), carried[i]) for i, (c, _) in enumerate(drivers)],
        )


async def _post_positions(setup: Setup, rate: float, duration: float) -> dict[str, Any]:
    """Each driver posts ``rate`` positions a second on a fixed schedule for ``duration`` s."""
    posted = [0] * len(setup.drivers)
    post_ms: list[float] = []
    failures: list[str] = []
    start = time.monotonic() + 0.2

    async def driver(index: int, token: str, client: httpx.AsyncClient) -> None:
        k = 0
        headers = {"authorization": f"Bearer {token}"}
        # Drivers are spread evenly over the interval rather than posting together.
        offset = index / len(setup.drivers) / rate
        while True:
            due = start + offset + k / rate
            if due - start >= duration:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            k += 1
            sent = time.time()
            variables = {
                "lat": 30.2680 + 0.0001 * (k % 100),
                "lng": -97.7420,
                "heading": float(k % 360),
                "speed": round(sent % WRAP, 6),
            }
            began = time.perf_counter()
            try:
                response = await client.post(
                    setup.url, json={"query": POST, "variables": variables}, headers=headers
                )
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(f"HTTP {response.status_code}: {str(body)[:200]}")
                posted[index] += 1
            except Exception as error:
                if len(failures) < 5:
                    failures.append(f"{type(error).__name__}: {error}")
            post_ms.append((time.perf_counter() - began) * 1000)

    limits = httpx.Limits(max_connections=len(setup.drivers) * 4)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        began = time.monotonic()
        await asyncio.gather(*(driver(i, t, client) for i, (t, _) in enumerate(setup.drivers)))
        elapsed = time.monotonic() - began
    return {"posted": posted, "post_ms": post_ms, "failures": failures, "seconds": elapsed}


# --------------------------------------------------------------------------- the run


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    hard = _raise_fd_limit()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    port = args.port
    wait_until(lambda: not port_open(port), timeout=30, what="waiting for the router port")
    env = {
        "PIZZA_DATA_DIR": str(log_dir / "data"),
        "PIZZA_ROUTER_PORT": str(port),
        "PIZZA_SUBGRAPH_BASE_PORT": str(port + 1),
    }
    say(f"starting the embedded stack on :{port} (logs in {log_dir})")
    stack = Service(
        "live-stack",
        [sys.executable, "-m", "subgraphs.embedded"],
        cwd=ROOT,
        env=env,
        log_dir=log_dir,
    )
    context = mp.get_context("spawn")
    children: list[Any] = []
    router: Service | None = None
    try:
        wait_until(lambda: port_open(port), timeout=120, what="starting the stack", service=stack)
        url = f"http://127.0.0.1:{port}/graphql"
        if args.router_workers:
            say(f"starting python -m router --workers {args.router_workers}")
            router = _start_router(port, args.router_workers, log_dir)
            url = f"http://127.0.0.1:{port + ROUTER_PORT_OFFSET}/graphql"
        servers = [stack.pid] + ([router.pid] if router else [])
        setup = asyncio.run(asyncio.wait_for(_setup(url, args.streams), 180))
        say(f"{len(setup.orders)} orders on their way, {len(setup.drivers)} drivers")
        time.sleep(1.0)
        rss_before = sum(tree_rss_bytes(pid) for pid in servers)
        processes = args.client_processes or (1 if args.subscribers <= 1000 else 2)
        stop, out = context.Event(), context.Queue()
        per = [
            args.subscribers // processes + (i < args.subscribers % processes)
            for i in range(processes)
        ]
        first = 0
        ws_url = url.replace("http://", "ws://")
        for count in per:
            child = context.Process(
                target=_client_process,
                args=(ws_url, setup.token, setup.orders, first, count, stop, out),
                daemon=True,
            )
            child.start()
            children.append(child)
            first += count
        progress: dict[int, tuple[int, int, int]] = {}
        connect_began = time.monotonic()
        deadline = connect_began + args.connect_timeout
        last_said = 0.0
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                kind, pid, report = out.get(timeout=0.5)
                if kind == "progress":
                    progress[pid] = report
            subscribed = sum(r[1] for r in progress.values())
            failed = sum(r[2] for r in progress.values())
            if time.monotonic() - last_said > 5:
                say(f"  subscribed {subscribed}/{args.subscribers}, failed {failed}")
                last_said = time.monotonic()
            if subscribed + failed >= args.subscribers:
                break
            for service in (stack, router):
                if service is not None and not service.alive():
                    raise RuntimeError(f"{service.name} stopped:\n{service.log_tail()}")
        connect_seconds = time.monotonic() - connect_began
        subscribed = sum(r[1] for r in progress.values())
        say(f"  {subscribed} subscribed in {connect_seconds:.1f} s; settling")
        time.sleep(2.0)
        rss_after = sum(tree_rss_bytes(pid) for pid in servers)
        sampler = PeakRSS(router.pid if router else stack.pid)
        sampler.start()
        cpu_before = _tree_cpu_seconds(servers)
        say(f"posting {args.rate}/s per driver for {args.duration} s")
        posting = asyncio.run(_post_positions(setup, args.rate, args.duration))
        time.sleep(args.drain)
        server_cpu = _tree_cpu_seconds(servers) - cpu_before
        peak_rss = sampler.stop()
        stop.set()
        results: dict[int, dict[str, Any]] = {}
        collect_deadline = time.monotonic() + 60
        while len(results) < len(children) and time.monotonic() < collect_deadline:
            with contextlib.suppress(queue.Empty):
                kind, pid, report = out.get(timeout=1)
                if kind == "result":
                    results[pid] = report
    finally:
        for child in children:
            child.join(timeout=15)
            if child.is_alive():
                child.kill()
        if router is not None:
            router.stop()
        stack.stop()

    counts: list[int] = []
    latencies: list[float] = []
    for report in results.values():
        counts += report["counts"]
        values = array("d")
        values.frombytes(report["latencies"])
        latencies += values.tolist()
    latencies = sorted(v * 1000 for v in latencies)
    window = posting["seconds"] + args.drain
    posts_per_order = {
        order: posted
        for (_, carried), posted in zip(setup.drivers, posting["posted"], strict=True)
        for order in carried
    }
    expected = sum(
        posts_per_order[setup.orders[i % len(setup.orders)]] for i in range(args.subscribers)
    )
    delivered = sum(counts)
    post_ms = sorted(posting["post_ms"])
    return {
        "settings": {
            "subscribers": args.subscribers,
            "streams": len(setup.orders),
            "drivers": len(setup.drivers),
            "rate_per_driver": args.rate,
            "duration": args.duration,
            "client_processes": len(children),
            "router_workers": args.router_workers,
            "cpus": os.cpu_count(),
            "fd_limit": hard,
            "loadavg": os.getloadavg()[0],
        },
        "connect_seconds": round(connect_seconds, 1),
        "connected": sum(r["connected"] for r in results.values()),
        "subscribed": sum(r["subscribed"] for r in results.values()),
        "failed": sum(r["failed"] for r in results.values()),
        "client_errors": [e for r in results.values() for e in r["errors"]][:5],
        "subscribers_without_messages": sum(1 for c in counts if c == 0)
        + (args.subscribers - len(counts)),
        "posts": sum(posting["posted"]),
        "post_failures": posting["failures"],
        "post_p50_ms": round(_percentile(post_ms, 50), 1),
        "post_p99_ms": round(_percentile(post_ms, 99), 1),
        "expected_messages": expected,
        "delivered_messages": delivered,
        "delivered_per_second": round(delivered / window, 1) if window else 0.0,
        "latency_p50_ms": round(_percentile(latencies, 50), 1),
        "latency_p99_ms": round(_percentile(latencies, 99), 1),
        "latency_max_ms": round(latencies[-1], 1) if latencies else 0.0,
        "server_rss_before_mb": round(rss_before / 2**20, 1),
        "server_rss_subscribed_mb": round(rss_after / 2**20, 1),
        "server_rss_peak_mb": round(peak_rss / 2**20, 1),
        "rss_per_subscriber_kb": round((rss_after - rss_before) / 1024 / max(1, subscribed), 1),
        "server_cpu_percent": round(100 * server_cpu / window, 0) if window else 0.0,
        "client_cpu_seconds": [round(r["cpu_seconds"], 1) for r in results.values()],
    }


def report(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        f"subscribers {s['subscribers']} on {s['streams']} stream(s), {s['drivers']} driver(s) "
        f"posting {s['rate_per_driver']}/s for {s['duration']} s, {s['client_processes']} "
        f"client process(es), {s['cpus']} CPUs, load average {s['loadavg']:.1f}, "
        + (
            f"router: python -m router --workers {s['router_workers']} (stack: subgraphs)"
            if s["router_workers"]
            else "router: the stack's own (one process with the subgraphs)"
        ),
        f"  subscribed {result['subscribed']} in {result['connect_seconds']} s, failed "
        f"{result['failed']}, without any timed message {result['subscribers_without_messages']}",
        f"  posts {result['posts']} (POST p50 {result['post_p50_ms']} ms, p99 "
        f"{result['post_p99_ms']} ms), failures {len(result['post_failures'])}",
        f"  delivered {result['delivered_messages']}/{result['expected_messages']} messages, "
        f"{result['delivered_per_second']} msg/s",
        f"  latency post -> client: p50 {result['latency_p50_ms']} ms, p99 "
        f"{result['latency_p99_ms']} ms, max {result['latency_max_ms']} ms",
        f"  server RSS {result['server_rss_before_mb']} MB -> {result['server_rss_subscribed_mb']}"
        f" MB subscribed (peak {result['server_rss_peak_mb']} MB"
        + (" router" if s["router_workers"] else "")
        + "): "
        f"{result['rss_per_subscriber_kb']} KB per subscriber",
        f"  server CPU {result['server_cpu_percent']}% of one core during posting; client CPU "
        f"seconds {result['client_cpu_seconds']}",
    ]
    for error in result["client_errors"] + result["post_failures"]:
        lines.append(f"  error: {error}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="N websocket clients")
    parser.add_argument(
        "--streams", type=int, default=1, help=f"M orders followed (1..{MAX_STREAMS})"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of posting")
    parser.add_argument("--rate", type=float, default=1.0, help="positions per second per driver")
    parser.add_argument(
        "--client-processes", type=int, default=0, help="0: 1 up to 1000 subscribers, else 2"
    )
    parser.add_argument("--connect-timeout", type=float, default=300.0)
    parser.add_argument("--drain", type=float, default=3.0, help="seconds after the last post")
    parser.add_argument("--port", type=int, default=DEFAULT_ROUTER_PORT)
    parser.add_argument(
        "--router-workers",
        type=int,
        default=0,
        help="0: the stack's own router; N: python -m router --workers N in front of it",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.streams <= MAX_STREAMS:
        parser.error(f"--streams must be 1..{MAX_STREAMS}")
    if args.subscribers < 1 or args.rate <= 0 or args.duration <= 0:
        parser.error("--subscribers, --rate and --duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    print(report(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    ok = not result["failed"] and not result["subscribers_without_messages"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
