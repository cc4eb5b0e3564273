"""A subgraph's background work runs between the subgraph's start and its shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import strawberry
from asgi_lifespan import LifespanManager

from shared.bus import InProcessBus
from shared.settings import Settings
from shared.subgraph import (
    BackgroundWork,
    SubgraphRuntime,
    create_schema,
    create_subgraph_app,
)


@strawberry.type
class Query:
    @strawberry.field(description="Always true.")
    def up(self) -> bool:
        return True


class RecordingBus(InProcessBus):
    """The in-process bus, noting when it starts and stops."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__()
        self.steps = steps

    async def start(self) -> None:
        await super().start()
        self.steps.append("bus started")

    async def stop(self) -> None:
        self.steps.append("bus stopping")
        await super().stop()


def recorded(name: str, steps: list[str]) -> BackgroundWork:
    """Background work that notes when it is entered and exited, and what was up then."""

    @asynccontextmanager
    async def work(runtime: SubgraphRuntime) -> AsyncIterator[None]:
        relay_running = runtime.relay is not None and runtime.relay.running
        steps.append(f"{name} entered (relay running: {relay_running})")
        try:
            yield
        finally:
            relay_running = runtime.relay is not None and runtime.relay.running
            steps.append(f"{name} exited (relay running: {relay_running})")

    return work


async def test_background_work_runs_after_start_and_stops_before_shutdown(
    tmp_path: Path,
) -> None:
    steps: list[str] = []
    runtime = SubgraphRuntime.create(
        "reviews",  # any subgraph with an outbox: its relay runs too
        settings=Settings(data_dir=tmp_path, load_demo_data=False),
        bus=RecordingBus(steps),
    )
    runtime.owns_bus = True
    dispose = runtime.db.dispose

    async def recorded_dispose() -> None:
        steps.append("database disposed")
        await dispose()

    runtime.db.dispose = recorded_dispose  # type: ignore[method-assign]
    app = create_subgraph_app(
        runtime=runtime,
        schema=create_schema(query=Query),
        make_loaders=lambda _: None,
        register_consumers=lambda _: steps.append("consumers registered"),
        background=(recorded("first", steps), recorded("second", steps)),
    )

    async with LifespanManager(app):
        steps.append("serving")

    assert steps == [
        "consumers registered",
        "bus started",
        "first entered (relay running: True)",
        "second entered (relay running: True)",
        "serving",
        "second exited (relay running: True)",
        "first exited (relay running: True)",
        "bus stopping",
        "database disposed",
    ]
