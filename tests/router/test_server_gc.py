"""The router freezes its start-up objects out of the garbage collector's generations."""

from __future__ import annotations

import gc
from pathlib import Path

from router.config import RouterConfig
from tests.router.conftest import start_router

FIXTURE = Path(__file__).parent / "fixtures" / "supergraph.graphql"


def test_startup_objects_are_frozen_out_of_garbage_collection() -> None:
    gc.unfreeze()
    server = start_router(FIXTURE.read_text(), RouterConfig())
    try:
        assert gc.get_freeze_count() > 0
    finally:
        server.stop()
        gc.unfreeze()
