"""Load generation and process measurement for the benchmark: wrk runs, peak RSS, processes.

``wrk`` (C, event loop per thread) drives the gateways: a Lua script POSTs one body over
keep-alive connections and counts every response that is not a 200 or whose body contains
``"errors"``; the summary (req/s, p50/p95/p99 from wrk's full latency histogram, socket errors)
is printed by the script and parsed here. Added latency is measured without wrk
(``paired_latency``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
local file = io.open(os.getenv("BENCH_BODY_FILE"), "rb")
wrk.body = file:read("*a")
file:close()

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) failed = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failed = failed + 1 end
end
function done(summary, latency, requests)
  local failed_total = 0
  for _, thread in ipairs(threads) do failed_total = failed_total + thread:get("failed") end
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d failed=%d socket_errors=%d\\n",
    summary.requests, summary.duration, failed_total,
    e.connect + e.read + e.write + e.timeout))
  io.write(string.format("BENCH p50_us=%d p95_us=%d p99_us=%d max_us=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One wrk run."""

    requests: int
    seconds: float
    errors: int  # non-200, GraphQL errors in the body, socket errors and timeouts
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    """Whether ``wrk`` is on the PATH."""
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    body: bytes,
    *,
    connections: int,
    duration: float,
    threads: int = 2,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> LoadResult:
    """Drive ``url`` with ``connections`` keep-alive connections for ``duration`` seconds."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_WRK_SCRIPT, encoding="utf-8")
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        env = {
            **os.environ,
            "BENCH_BODY_FILE": str(body_file),
            "BENCH_HEADERS": "".join(f"{k}: {v}\n" for k, v in (headers or {}).items()),
        }
        completed = subprocess.run(
            [
                "wrk",
                f"-t{max(1, min(threads, connections))}",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                f"--timeout={timeout:g}s",
                "-s",
                str(script),
                url,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + timeout + 60,
        )
    values: dict[str, int] = {}
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH "):
            for item in line.split()[1:]:
                key, value = item.split("=")
                values[key] = int(value)
    if "requests" not in values:
        raise RuntimeError(f"unexpected wrk output:\n{completed.stdout}\n{completed.stderr}")
    return LoadResult(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        errors=values["failed"] + values["socket_errors"],
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
    )


class _SequentialClient:
    """One keep-alive connection sending one request at a time; every request timed."""

    def __init__(self, url: str, body: bytes) -> None:
        parts = urlsplit(url)
        self.path = parts.path or "/"
        self.body = body
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.samples: list[int] = []
        self.errors = 0
        self.seconds = 0.0

    def run(self, seconds: float) -> None:
        headers = {"content-type": "application/json"}
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            begin = time.perf_counter_ns()
            self.connection.request("POST", self.path, body=self.body, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
            self.samples.append(time.perf_counter_ns() - begin)
            if response.status != 200 or b'"errors"' in raw:
                self.errors += 1
        self.seconds += time.perf_counter() - started

    def result(self) -> LoadResult:
        self.connection.close()
        samples = sorted(self.samples)

        def percentile(p: float) -> float:
            return samples[min(len(samples) - 1, int(len(samples) * p / 100))] / 1e6

        return LoadResult(
            requests=len(samples),
            seconds=self.seconds,
            errors=self.errors,
            p50_ms=percentile(50) if samples else 0.0,
            p95_ms=percentile(95) if samples else 0.0,
            p99_ms=percentile(99) if samples else 0.0,
        )


def paired_latency(
    direct: tuple[str, bytes], gateway: tuple[str, bytes], *, seconds: float, slices: int = 10
) -> tuple[LoadResult, LoadResult]:
    """Latency of the subgraph called directly and through a gateway, one request at a time.

    The two alternate in ``slices`` short runs so both see the same machine (other processes'
    load shifts over seconds). wrk's percentiles are not used here: they include its
    coordinated-omission correction (synthetic samples derived from the mean request interval),
    which turns one stall at tens of thousands of requests per second into hundreds of samples.
    Each request is timed on its own; the client's overhead is the same for both targets, so it
    cancels out of the added latency (gateway minus direct).
    """
    clients = _SequentialClient(*direct), _SequentialClient(*gateway)
    for _ in range(slices):
        for client in clients:
            client.run(seconds / slices)
    return clients[0].result(), clients[1].result()


def post_json(
    url: str, body: bytes, *, headers: Mapping[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """One POST; the status and the decoded JSON body (``None`` when it is not JSON)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            parts.path or "/",
            body=body,
            headers={"content-type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, None


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(roots: list[int]) -> list[int]:
    """``roots`` and all their live descendants (Linux /proc)."""
    tree = _children()
    found, stack = [], list(roots)
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, ()))
    return found


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (Linux /proc)."""
    total = 0
    for pid in process_tree([root]):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


class PeakRSS(threading.Thread):
    """Samples a process tree's RSS every ``interval`` seconds; ``peak`` is the largest seen."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop_event.set()
        self.join()
        return self.peak


class Service:
    """A process group started for the benchmark (a gateway or subgraphs), stopped by its id."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        log_dir: Path,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends workers too
        )

    @property
    def pid(self) -> int:
        """The root process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the root process still runs."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The end of the service's output, for error messages."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # workers may outlive their parent
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def wait_until(
    predicate: Any, *, timeout: float, what: str, service: Service | None = None
) -> None:
    """Poll ``predicate`` until it is true; raise with the service's log after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and not service.alive():
            raise RuntimeError(f"{service.name} exited while {what}:\n{service.log_tail()}")
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    tail = f":\n{service.log_tail()}" if service is not None else ""
    raise RuntimeError(f"timed out {what}{tail}")
