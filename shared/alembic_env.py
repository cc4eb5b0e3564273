"""The body of every subgraph's ``migrations/env.py``.

Enters: the connection :class:`shared.db.Database` hands to Alembic (or a URL for
command-line use) and the subgraph's metadata. Leaves: migrations applied.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, create_engine

from shared.db import UTCDateTime


def run_migrations(target_metadata: MetaData) -> None:
    """Run migrations on the given connection, or on ``sqlalchemy.url`` when offline."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection, target_metadata)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    sync_url = (url or "").replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    with create_engine(sync_url).connect() as conn:
        _run(conn, target_metadata)


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render project column types as plain SQLAlchemy ones in revisions."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
