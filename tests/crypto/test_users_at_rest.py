"""Users: phone and address lines are ciphertext in the database, plaintext through the ORM."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from shared.crypto import DecryptionError, dump_keys, main, rotate, use_keyring
from shared.db import Database, utcnow
from shared.settings import Settings, get_settings
from subgraphs.users.models import Address, User
from tests.crypto.conftest import ROOT, migrate, ring

PHONE = "+44 7700 900123"
LINE1 = "221B Baker Street"
INSTRUCTIONS = "Ring twice, the dog is friendly"


def users_db(tmp_path: Path) -> Database:
    return Database(
        url=f"sqlite+aiosqlite:///{tmp_path / 'users.db'}",
        migrations_dir=ROOT / "subgraphs" / "users" / "migrations",
    )


async def seed(db: Database) -> None:
    async with db.session() as session:
        session.add(
            User(
                id="u1",
                email="ada@example.com",
                name="Ada Lovelace",
                phone=PHONE,
                password_hash="x",
                roles="CUSTOMER",
                created_at=utcnow(),
            )
        )
        session.add(
            Address(
                id="a1",
                user_id="u1",
                label="Home",
                line1=LINE1,
                line2=None,
                city="London",
                postcode="NW1 6XE",
                instructions=INSTRUCTIONS,
                is_default=True,
                created_at=utcnow(),
            )
        )
        await session.commit()


async def raw(db: Database, sql: str) -> tuple:
    async with db.engine.connect() as connection:
        return tuple((await connection.execute(text(sql))).one())


async def read_user(db: Database) -> User:
    async with db.session() as session:
        return (
            await session.scalars(
                select(User).options(selectinload(User.addresses)).where(User.id == "u1")
            )
        ).one()


async def test_raw_columns_hold_ciphertext_orm_reads_plaintext(tmp_path, keyring) -> None:
    db = users_db(tmp_path)
    await db.migrate()
    await seed(db)
    (phone,) = await raw(db, "SELECT phone FROM users")
    line1, line2, instructions, city = await raw(
        db, "SELECT line1, line2, instructions, city FROM addresses"
    )
    for value, secret in ((phone, PHONE), (line1, LINE1), (instructions, INSTRUCTIONS)):
        assert value.startswith("v1:k1:") and secret not in value
    assert line2 is None and city == "London"  # NULL stays NULL; the city is not personal
    user = await read_user(db)
    assert user.phone == PHONE
    assert (user.addresses[0].line1, user.addresses[0].instructions) == (LINE1, INSTRUCTIONS)
    async with db.session() as session:  # email and name stay searchable
        found = await session.scalars(
            select(User.id).where(User.email == "ada@example.com", User.name.ilike("%love%"))
        )
        assert list(found) == ["u1"]
    await db.dispose()


async def test_tampered_row_fails_to_decrypt(tmp_path, keyring) -> None:
    db = users_db(tmp_path)
    await db.migrate()
    await seed(db)
    (phone,) = await raw(db, "SELECT phone FROM users")
    forged = phone[:-6] + ("AAAA==" if not phone.endswith("AAAA==") else "BBBB==")
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE users SET phone = :p"), {"p": forged})
    with pytest.raises(DecryptionError, match=r"users\.phone") as info:
        await read_user(db)
    assert PHONE not in str(info.value)
    await db.dispose()


async def test_migration_encrypts_existing_plaintext_and_downgrade_restores(
    tmp_path, keyring
) -> None:
    path = tmp_path / "users.db"
    migrate(path, "users", "0003")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO users (id, email, name, phone, password_hash, roles, created_at, active)"
            " VALUES ('u1', 'ada@example.com', 'Ada', ?, 'x', 'CUSTOMER', '2026-01-01', 1)",
            (PHONE,),
        )
        connection.execute(
            "INSERT INTO addresses (id, user_id, label, line1, city, postcode, instructions,"
            " is_default, created_at) VALUES ('a1', 'u1', 'Home', ?, 'London', 'N1', ?, 1,"
            " '2026-01-01')",
            (LINE1, INSTRUCTIONS),
        )
    db = users_db(tmp_path)
    # Before the data step, plaintext rows are read as is.
    assert (await read_user(db)).phone == PHONE
    migrate(path, "users", "head")
    (phone,) = await raw(db, "SELECT phone FROM users")
    (line1,) = await raw(db, "SELECT line1 FROM addresses")
    assert phone.startswith("v1:k1:") and line1.startswith("v1:k1:")
    user = await read_user(db)
    assert (user.phone, user.addresses[0].line1) == (PHONE, LINE1)
    await db.dispose()
    migrate(path, "users", "0003", down=True)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT phone FROM users").fetchone() == (PHONE,)
        assert connection.execute("SELECT instructions FROM addresses").fetchone() == (
            INSTRUCTIONS,
        )


async def test_rotation_reencrypts_with_the_newest_key(tmp_path, keyring) -> None:
    db = users_db(tmp_path)
    await db.migrate()
    await seed(db)
    both = ring("k1", "k2", keys=dict(keyring.keys))
    use_keyring(both)
    assert (await read_user(db)).phone == PHONE  # old rows stay readable before rotating
    (before,) = await raw(db, "SELECT phone FROM users")
    assert before.startswith("v1:k1:")
    changed = await rotate("users", settings=Settings(data_dir=tmp_path), ring=both)
    assert changed == 3  # phone, line1, instructions (line2 is NULL)
    (after,) = await raw(db, "SELECT phone FROM users")
    assert after.startswith("v1:k2:")
    assert await rotate("users", settings=Settings(data_dir=tmp_path), ring=both) == 0
    use_keyring(ring("k2", keys=dict(both.keys)))  # the old key can now be retired
    assert (await read_user(db)).addresses[0].line1 == LINE1
    use_keyring(ring("k1", keys=dict(keyring.keys)))  # the wrong key set
    with pytest.raises(DecryptionError, match="'k2' is not in the data key ring") as info:
        await read_user(db)
    assert PHONE not in str(info.value) and LINE1 not in str(info.value)
    await db.dispose()


async def test_rotate_command_line(tmp_path, keyring, monkeypatch, capsys) -> None:
    db = users_db(tmp_path)
    await db.migrate()
    await seed(db)
    await db.dispose()
    both = ring("k1", "k2", keys=dict(keyring.keys))
    monkeypatch.setenv("PIZZA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PIZZA_DATA_KEYS", dump_keys(both.keys))
    get_settings.cache_clear()
    try:
        # asyncio.run needs a thread without a running loop
        import asyncio

        await asyncio.to_thread(main, ["rotate", "--subgraph", "users"])
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "users: re-encrypted 3 values with data key k2" in out
    for key in both.keys.values():
        assert dump_keys({"x": key})[8:-2] not in out
    (phone,) = await raw(users_db(tmp_path), "SELECT phone FROM users")
    assert phone.startswith("v1:k2:")
