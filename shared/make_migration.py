"""Autogenerate a subgraph's Alembic revision against a scratch SQLite database.

``python -m shared.make_migration NAME "message"``: applies the existing
revisions to a temporary database, compares with ``models.py`` and writes the
difference as a new revision under ``subgraphs/NAME/migrations/versions``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Entry point."""
    name, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        config = Config()
        config.set_main_option("script_location", str(ROOT / "subgraphs" / name / "migrations"))
        config.set_main_option("sqlalchemy.url", f"sqlite:///{tmp}/scratch.db")
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    main()
