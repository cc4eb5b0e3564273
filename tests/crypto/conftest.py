"""Fixtures of the encryption-at-rest tests: key rings and migrated SQLite databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from shared.crypto import DataKeyRing, generate_key, use_keyring

ROOT = Path(__file__).resolve().parents[2]


def ring(*kids: str, keys: dict[str, bytes] | None = None) -> DataKeyRing:
    """A ring of the given kids (fresh random keys unless ``keys`` has them)."""
    keys = keys or {}
    return DataKeyRing({kid: keys.get(kid) or generate_key() for kid in kids})


@pytest.fixture
def keyring() -> Iterator[DataKeyRing]:
    """A one-key ring the column types use during the test (the previous one after)."""
    active = ring("k1")
    previous = use_keyring(active)
    yield active
    use_keyring(previous)


def migrate(path: Path, subgraph: str, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade) the SQLite file ``path`` of ``subgraph`` to ``revision``."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "subgraphs" / subgraph / "migrations"))
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()
