"""``make bench``: our router against ``@apollo/gateway`` and Hive Gateway, same run, same machine.

``python -m bench.run [--duration 30] [--connections 50] [--workers 2] [--quick]
[--gateways ours,apollo,hive] [--skip-pizza] [--json results.json]``

Workloads, each gateway in turn on the same subgraphs:
(a) the public gateways benchmark: its nested ``TestQuery`` (~87 KB response, 4 subgraphs)
    with ``--connections`` constant connections (its k6 run uses 50 VUs); the subgraphs are
    ``bench.subgraphs`` (memoized responses, measured here directly);
(b) the pizza golden-path read (``OrderReadBack``) over our own eight subgraphs;
(c) added latency: a one-subgraph query (``topProducts``) through each gateway vs the same
    subgraph called directly, one connection, p50/p99 difference.
Every gateway is first checked to answer each workload correctly (the same data as
``@apollo/gateway``, no errors); a wrong answer or any error is reported, never hidden.
Prints req/s, p50/p95/p99, errors, peak RSS of the gateway's process tree and the ratios of
ours to each other gateway. Speed is never asserted; the exit status is 1 only when our router
answered wrongly or with errors (every gateway's failures are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.gateways import GATEWAY_NAMES, LABELS, gateway_spec, js_installed, start_gateway
from bench.gateways_benchmark import (
    DEFAULT_BASE_PORT,
    ONE_SUBGRAPH_DIRECT_QUERY,
    ONE_SUBGRAPH_QUERY,
    SUBGRAPH_NAMES,
    SUPERGRAPH_PATH,
    TEST_QUERY,
    subgraph_url,
)
from bench.load import (
    LoadResult,
    PeakRSS,
    Service,
    paired_latency,
    port_open,
    post_json,
    run_wrk,
    wait_until,
    wrk_available,
)

GATEWAY_PORT = 4300
# (ours, theirs, minimum req/s ratio) on workload (a); like for like on deduplication.
TARGETS = (("ours", "hive", 1.5), ("ours+dedup", "hive+dedup", 1.5), ("ours", "apollo", 4.0))
ADDED_P99_TARGET_MS = 2.0


@dataclass
class Measurement:
    """One gateway on one workload."""

    gateway: str
    correct: bool
    problem: str = ""
    load: LoadResult | None = None
    peak_rss_mb: float = 0.0


@dataclass
class Results:
    """Everything one run measured."""

    settings: dict[str, Any]
    subgraph_direct: LoadResult | None = None
    gateways_benchmark: list[Measurement] = field(default_factory=list)
    pizza: list[Measurement] = field(default_factory=list)
    latency: list[Measurement] = field(default_factory=list)
    # The subgraph called directly, measured alternately with each row of ``latency``.
    latency_direct: list[LoadResult] = field(default_factory=list)

    def failures(self) -> list[str]:
        """Gateways that answered wrongly or with errors."""
        found = []
        for workload, rows in (
            ("gateways-benchmark", self.gateways_benchmark),
            ("pizza", self.pizza),
            ("one-subgraph", self.latency),
        ):
            for row in rows:
                errors = row.load.errors if row.load else 0
                if not row.correct or errors:
                    found.append(f"{workload}/{row.gateway}: {row.problem or f'{errors} errors'}")
        return found


def _body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {"query": query}
    if variables:
        payload["variables"] = variables
    return json.dumps(payload).encode()


def _answer(url: str, body: bytes, headers: dict[str, str] | None) -> Any:
    status, payload = post_json(url, body, headers=headers)
    if status != 200 or not isinstance(payload, dict):
        raise RuntimeError(f"HTTP {status}: {str(payload)[:300]}")
    return payload


def _check(payload: dict[str, Any], reference: Any) -> str:
    if payload.get("errors"):
        return f"GraphQL errors: {json.dumps(payload['errors'])[:300]}"
    if reference is not None and payload.get("data") != reference:
        return "data differs from @apollo/gateway's"
    return ""


class Bench:
    """Runs the workloads."""

    def __init__(self, args: argparse.Namespace, log_dir: Path) -> None:
        self.args = args
        self.log_dir = log_dir
        self.url = f"http://127.0.0.1:{GATEWAY_PORT}/graphql"

    def say(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def with_gateway(
        self,
        name: str,
        supergraph: Path,
        ready_body: bytes,
        headers: dict[str, str] | None,
        work: Callable[[Service], None],
        tag: str,
        router_config: Path | None = None,
    ) -> None:
        wait_until(lambda: not port_open(GATEWAY_PORT), timeout=30, what="waiting for the port")
        spec = gateway_spec(
            name,
            supergraph=supergraph,
            port=GATEWAY_PORT,
            processes=self.args.workers,
            router_config=router_config,
        )
        service = start_gateway(spec, log_dir=self.log_dir, tag=tag)
        try:

            def ready() -> bool:
                if not port_open(GATEWAY_PORT):
                    return False
                status, _ = post_json(self.url, ready_body, headers=headers, timeout=10)
                return status == 200

            wait_until(ready, timeout=120, what=f"starting {name}", service=service)
            work(service)
        finally:
            service.stop()

    def measure(
        self,
        name: str,
        service: Service,
        body: bytes,
        reference: Any,
        headers: dict[str, str] | None,
    ) -> Measurement:
        """Check the answer, warm up, then load ``self.url`` while sampling RSS."""
        try:
            problem = _check(_answer(self.url, body, headers), reference)
        except (OSError, RuntimeError) as error:
            problem = str(error)
        if problem:
            self.say(f"  {name}: WRONG ANSWER: {problem}")
            return Measurement(name, correct=False, problem=problem)
        args = self.args
        run_wrk(
            self.url,
            body,
            connections=args.connections,
            duration=args.warmup,
            headers=headers,
        )
        sampler = PeakRSS(service.pid)
        sampler.start()
        try:
            load = run_wrk(
                self.url,
                body,
                connections=args.connections,
                duration=args.duration,
                headers=headers,
            )
        finally:
            peak = sampler.stop()
        self.say(f"  {name}: {load.rps:.0f} req/s, p99 {load.p99_ms:.1f} ms, {load.errors} errors")
        return Measurement(name, correct=True, load=load, peak_rss_mb=peak / 2**20)

    def reference(self, body: bytes, supergraph: Path, headers: dict[str, str] | None) -> Any:
        """``@apollo/gateway``'s data for ``body`` (the reference every gateway must match)."""
        if "apollo" not in self.args.gateways:
            return None
        found: list[Any] = []

        def work(_: Service) -> None:
            found.append(_answer(self.url, body, headers).get("data"))

        self.with_gateway("apollo", supergraph, body, headers, work, "-reference")
        return found[0]

    def gateways_benchmark(self, results: Results) -> None:
        args = self.args
        body = _body(TEST_QUERY)
        one_body = _body(ONE_SUBGRAPH_QUERY)
        products = subgraph_url("products", args.base_port)
        direct_body = _body(ONE_SUBGRAPH_DIRECT_QUERY)
        self.say("(a) subgraphs, measured directly (one-subgraph query)")
        results.subgraph_direct = run_wrk(
            products, direct_body, connections=args.connections, duration=min(args.duration, 10)
        )
        self.say(f"  subgraph: {results.subgraph_direct.rps:.0f} req/s")
        expected_one = _answer(products, direct_body, None)["data"]
        supergraph = SUPERGRAPH_PATH
        reference = self.reference(body, supergraph, None)
        for name in args.gateways:
            self.say(f"(a) gateways benchmark TestQuery: {name}")

            def work(service: Service, name: str = name) -> None:
                results.gateways_benchmark.append(
                    self.measure(name, service, body, reference, None)
                )
                if "+" in name:  # deduplication changes nothing for one connection
                    return
                # (c) added latency on the one-subgraph query, same gateway process.
                try:
                    problem = _check(_answer(self.url, one_body, None), expected_one)
                except (OSError, RuntimeError) as error:
                    problem = str(error)
                if problem:
                    results.latency.append(Measurement(name, correct=False, problem=problem))
                    return
                direct = (products, direct_body)
                paired_latency(direct, (self.url, one_body), seconds=args.warmup)
                baseline, load = paired_latency(
                    direct, (self.url, one_body), seconds=args.latency_duration
                )
                results.latency_direct.append(baseline)
                results.latency.append(Measurement(name, correct=True, load=load))

            self.with_gateway(name, supergraph, body, None, work, "")

    def pizza(self, results: Results) -> None:
        from bench import pizza

        args = self.args
        data_dir = Path(tempfile.mkdtemp(prefix="bench-pizza-", dir=self.log_dir))
        self.say("(b) pizza golden path: starting the embedded subgraphs")
        stack = pizza.start_stack(
            data_dir=data_dir,
            router_port=args.pizza_port,
            python=sys.executable,
            log_dir=self.log_dir,
        )
        try:
            token, variables = pizza.place_order(f"http://127.0.0.1:{args.pizza_port}/graphql")
            # Ours verifies the token (JWKS) and signs the claims for the subgraphs itself; the
            # Node gateways cannot, so they get the claims header pre-signed (see bench.pizza).
            ours_headers = {"authorization": f"Bearer {token}"}
            node_headers = {pizza.CLAIMS_HEADER: pizza.presigned_claims(token)}
            ours_supergraph, node_supergraph = pizza.supergraph_for(args.pizza_port, self.log_dir)
            router_config = pizza.router_yaml(args.pizza_port, self.log_dir)
            body = _body(pizza.READ_QUERY, variables)
            reference = self.reference(body, node_supergraph, node_headers)
            for name in [g for g in args.gateways if "+" not in g]:
                self.say(f"(b) pizza OrderReadBack: {name}")
                headers = ours_headers if name == "ours" else node_headers

                def work(
                    service: Service, name: str = name, headers: dict[str, str] = headers
                ) -> None:
                    results.pizza.append(self.measure(name, service, body, reference, headers))

                self.with_gateway(
                    name,
                    ours_supergraph if name == "ours" else node_supergraph,
                    body,
                    headers,
                    work,
                    "-pizza",
                    router_config=router_config if name == "ours" else None,
                )
        finally:
            stack.stop()


def _ratio(ours: Measurement | None, other: Measurement) -> str:
    if ours is None or ours.load is None or other.load is None or not other.load.rps:
        return "-"
    return f"{ours.load.rps / other.load.rps:.2f}x"


def _row(rows: list[Measurement], name: str) -> Measurement | None:
    return next((r for r in rows if r.gateway == name), None)


def _table(title: str, rows: list[Measurement], direct: LoadResult | None = None) -> list[str]:
    lines = [
        title,
        "",
        "| gateway | req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MB | ours ÷ this |",
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        # Compared with ours in the same deduplication setting.
        ours = _row(rows, "ours+dedup" if row.gateway.endswith("+dedup") else "ours")
        if row.load is None:
            lines.append(f"| {LABELS[row.gateway]} | WRONG ANSWER: {row.problem} | | | | | | |")
            continue
        load = row.load
        lines.append(
            f"| {LABELS[row.gateway]} | {load.rps:.0f} | {load.p50_ms:.1f} | {load.p95_ms:.1f} | "
            f"{load.p99_ms:.1f} | {load.errors} | {row.peak_rss_mb:.0f} | {_ratio(ours, row)} |"
        )
    if direct is not None:
        lines.append(
            f"| subgraph, direct (one-subgraph query) | {direct.rps:.0f} | {direct.p50_ms:.1f} | "
            f"{direct.p95_ms:.1f} | {direct.p99_ms:.1f} | {direct.errors} | | |"
        )
    return lines


def report(results: Results) -> str:
    """The Markdown tables and the target lines."""
    settings = results.settings
    lines = [
        f"Settings: {settings['duration']} s per run after {settings['warmup']} s warm-up, "
        f"{settings['connections']} connections, {settings['workers']} processes per gateway, "
        f"{os.cpu_count()} CPUs, load average before the run {settings['loadavg']}.",
        "",
    ]
    if results.gateways_benchmark:
        lines += _table(
            "(a) gateways benchmark, TestQuery", results.gateways_benchmark, results.subgraph_direct
        )
        lines.append("")
        rows = results.gateways_benchmark
        for mine, theirs, target in TARGETS:
            ours, other = _row(rows, mine), _row(rows, theirs)
            if ours and other and ours.load and other.load and other.load.rps:
                ratio = ours.load.rps / other.load.rps
                verdict = "met" if ratio >= target and not ours.load.errors else "MISSED"
                lines.append(
                    f"- {LABELS[mine]} ÷ {LABELS[theirs]}: {ratio:.2f}x (target ≥ {target}x): "
                    f"{verdict}"
                )
        lines.append("")
    if results.latency:
        lines += [
            "(c) added latency, one-subgraph query, 1 connection, one request at a time "
            "(gateway and direct subgraph calls alternating)",
            "",
            "| gateway | p50 ms | p99 ms | direct p50 ms | direct p99 ms | added p50 ms "
            "| added p99 ms | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        directs = iter(results.latency_direct)
        verdict_line = ""
        for row in results.latency:
            if row.load is None:
                lines.append(f"| {LABELS[row.gateway]} | WRONG ANSWER: {row.problem} |||||||")
                continue
            load, direct = row.load, next(directs)
            lines.append(
                f"| {LABELS[row.gateway]} | {load.p50_ms:.2f} | {load.p99_ms:.2f} | "
                f"{direct.p50_ms:.2f} | {direct.p99_ms:.2f} | "
                f"{load.p50_ms - direct.p50_ms:.2f} | {load.p99_ms - direct.p99_ms:.2f} | "
                f"{load.errors + direct.errors} |"
            )
            if row.gateway == "ours":
                added = load.p99_ms - direct.p99_ms
                verdict = "met" if added <= ADDED_P99_TARGET_MS else "MISSED"
                verdict_line = f"- ours, added p99: {added:.2f} ms (target ≤ 2 ms): {verdict}"
        lines += ["", verdict_line, ""] if verdict_line else [""]
    if results.pizza:
        lines += _table("(b) pizza golden-path read, OrderReadBack", results.pizza)
        lines.append("")
    failures = results.failures()
    lines.append(
        "Every gateway answered correctly with zero errors."
        if not failures
        else "FAILURES: " + "; ".join(failures)
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=30, help="seconds of load per run")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of warm-up load")
    parser.add_argument("--connections", type=int, default=50, help="constant connections")
    parser.add_argument("--workers", type=int, default=2, help="processes per gateway")
    parser.add_argument(
        "--latency-duration", type=float, default=15, help="seconds of the 1-connection run"
    )
    parser.add_argument("--gateways", default=",".join(GATEWAY_NAMES), help="comma-separated")
    parser.add_argument("--skip-pizza", action="store_true", help="workload (a) and (c) only")
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, help=argparse.SUPPRESS)
    parser.add_argument("--pizza-port", type=int, default=4400, help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds per run, few connections (smoke)"
    )
    parser.add_argument("--json", help="also write the results as JSON here")
    parser.add_argument("--log-dir", help="keep the processes' logs here")
    return parser


def run(argv: list[str] | None = None) -> Results:
    """Run the benchmark; the results (raises when the machine lacks wrk or bench/js)."""
    args = _parser().parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.latency_duration = 2, 1, 2
        args.connections = min(args.connections, 4)
    args.gateways = [g for g in args.gateways.split(",") if g]
    unknown = set(args.gateways) - set(GATEWAY_NAMES)
    if unknown:
        raise SystemExit(f"unknown gateways: {sorted(unknown)}")
    if not wrk_available():
        raise SystemExit("wrk is missing: apt-get install wrk (Debian/Ubuntu) or brew install wrk")
    if not js_installed():
        raise SystemExit("bench/js/node_modules is missing: cd bench/js && npm ci")
    if args.base_port != DEFAULT_BASE_PORT:
        raise SystemExit("the benchmark supergraph routes to ports 4201..4204")
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="bench-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "duration": args.duration,
        "warmup": args.warmup,
        "connections": args.connections,
        "workers": args.workers,
        "gateways": args.gateways,
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    results = Results(settings=settings)
    bench = Bench(args, log_dir)
    subgraphs = Service(
        "bench-subgraphs",
        [sys.executable, "-m", "bench.subgraphs", "--base-port", str(args.base_port)],
        cwd=Path(__file__).resolve().parents[1],
        log_dir=log_dir,
    )
    try:
        ports = [args.base_port + i for i in range(len(SUBGRAPH_NAMES))]
        wait_until(
            lambda: all(port_open(p) for p in ports),
            timeout=60,
            what="starting the benchmark subgraphs",
            service=subgraphs,
        )
        bench.gateways_benchmark(results)
    finally:
        subgraphs.stop()
    if not args.skip_pizza:
        bench.pizza(results)
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(results), indent=2), encoding="utf-8")
    bench.say(f"logs in {log_dir}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Run, print the report; 1 when our router answered wrongly or with errors.

    Another gateway's errors (``@apollo/gateway`` timing out behind slow subgraphs) are
    reported in the output but do not fail the run.
    """
    results = run(argv)
    print(report(results))
    return (
        1
        if any(f.split(":")[0].endswith(("/ours", "/ours+dedup")) for f in results.failures())
        else 0
    )


if __name__ == "__main__":
    sys.exit(main())
