"""Encryption at rest of personal data: AES-GCM column values with a rotating key ring.

Enters: data keys from ``PIZZA_DATA_KEYS`` (JSON ``{"<kid>": "<base64 of 32 bytes>"}``, the
last one encrypts, all of them decrypt) or, when that is empty, from
``PIZZA_DATA_DIR/keys/data-keys.json`` (generated once, mode 0600). Leaves: the
:class:`EncryptedString` and :class:`EncryptedFloat` column types, which store
``v1:<kid>:<base64(nonce | ciphertext | tag)>`` with the column's qualified name
(``table.column``) as associated data, so a value copied to another column does not
decrypt; and ``python -m shared.crypto rotate --subgraph NAME``, which re-encrypts a
subgraph's values with the newest key (ADR 0012).

A stored value without the ``v1:`` prefix is plaintext written before the migration that
introduced encryption, and is read as is. Key material never appears in logs, ``repr`` or
error messages; decryption errors name the column and the key id, never the value.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import importlib
import json
import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, MetaData, Text, TypeDecorator, and_, column, select, table, update
from sqlalchemy.engine import Connection

from shared.settings import SUBGRAPH_NAMES, Settings, get_settings

log = logging.getLogger(__name__)

PREFIX = "v1:"
KEY_FILE = "data-keys.json"
NONCE_BYTES = 12
KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class DataKeyError(ValueError):
    """The data keys are missing or malformed (the message never holds key material)."""


class DecryptionError(ValueError):
    """A stored value does not decrypt: unknown key id, wrong key, tampering or bad format."""


@dataclass(frozen=True)
class DataKeyRing:
    """Named AES-256 keys; the last one encrypts, every one of them decrypts."""

    keys: Mapping[str, bytes] = field(repr=False)
    source: str = "memory"

    def __post_init__(self) -> None:
        if not self.keys:
            raise DataKeyError("the data key ring is empty")
        for kid, key in self.keys.items():
            if not _KID.match(kid):
                raise DataKeyError(f"data key id {kid!r} must match [A-Za-z0-9_.-]{{1,64}}")
            if len(key) != KEY_BYTES:
                raise DataKeyError(f"data key {kid!r} must be {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return f"DataKeyRing(kids={list(self.keys)!r}, source={self.source!r})"

    @property
    def newest_kid(self) -> str:
        """The id of the key that encrypts."""
        return next(reversed(self.keys))

    def encrypt(self, plaintext: str, associated_data: str) -> str:
        """``v1:<kid>:<base64(nonce|ciphertext|tag)>`` of ``plaintext`` under the newest key."""
        kid = self.newest_kid
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[kid]).encrypt(nonce, plaintext.encode(), associated_data.encode())
        return f"{PREFIX}{kid}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, associated_data: str) -> str:
        """The plaintext of a ``v1:`` value; :class:`DecryptionError` if it does not decrypt."""
        kid, blob = _split(token, associated_data)
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionError(
                f"cannot decrypt {associated_data}: key {kid!r} is not in the data key ring"
            )
        try:
            plaintext = AESGCM(key).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data.encode()
            )
        except InvalidTag:
            raise DecryptionError(
                f"cannot decrypt {associated_data} with key {kid!r}: "
                "authentication failed (wrong key or tampered value)"
            ) from None
        return plaintext.decode()


def is_encrypted(value: object) -> bool:
    """Whether a stored value is a ``v1:`` ciphertext (anything else is legacy plaintext)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(token: str) -> str:
    """The key id a ``v1:`` value was encrypted with."""
    return token[len(PREFIX) :].split(":", 1)[0]


def _split(token: str, associated_data: str) -> tuple[str, bytes]:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] + ":" != PREFIX:
        raise DecryptionError(f"cannot decrypt {associated_data}: malformed ciphertext")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"cannot decrypt {associated_data}: malformed ciphertext") from None
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError(f"cannot decrypt {associated_data}: malformed ciphertext")
    return parts[1], blob


# --- key sources --------------------------------------------------------------------------


def generate_key() -> bytes:
    """A fresh random AES-256 key."""
    return AESGCM.generate_key(bit_length=256)


def new_kid() -> str:
    """A key id that sorts by creation time."""
    return f"d{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(2)}"


def parse_keys(value: str, *, source: str) -> dict[str, bytes]:
    """``{"<kid>": "<base64 key>"}`` decoded; :class:`DataKeyError` naming no key material."""
    shape = f'{source} must be a JSON object {{"<kid>": "<base64 of 32 bytes>"}}'
    try:
        mapping = json.loads(value)
    except json.JSONDecodeError:
        raise DataKeyError(shape) from None
    if not isinstance(mapping, dict) or not mapping:
        raise DataKeyError(shape)
    keys: dict[str, bytes] = {}
    for kid, encoded in mapping.items():
        try:
            key = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            raise DataKeyError(f"{source}: key {kid!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise DataKeyError(f"{source}: key {kid!r} must decode to {KEY_BYTES} bytes")
        keys[str(kid)] = key
    return keys


def dump_keys(keys: Mapping[str, bytes]) -> str:
    """The JSON form of ``keys`` (what ``PIZZA_DATA_KEYS`` and the key file hold)."""
    return json.dumps({kid: base64.b64encode(key).decode() for kid, key in keys.items()})


def key_file(settings: Settings) -> Path:
    """Where embedded mode keeps its data keys."""
    return Path(settings.data_dir) / "keys" / KEY_FILE


def _write_key_file(path: Path, keys: Mapping[str, bytes], *, replace: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if replace:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(dump_keys(keys))
        os.replace(tmp, path)
    else:
        # Written whole to a private file, then linked into place: the link fails if another
        # process got there first (FileExistsError), and a reader never sees a partial file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(dump_keys(keys))
            os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def load_data_keyring(settings: Settings) -> DataKeyRing:
    """The ring the settings describe; generates the key file when neither source has keys."""
    if settings.data_keys:
        return DataKeyRing(parse_keys(settings.data_keys, source="PIZZA_DATA_KEYS"), "env")
    path = key_file(settings)
    if not path.exists():
        if settings.mode != "embedded":
            log.warning(
                "PIZZA_DATA_KEYS is not set: generating a data key file under %s "
                "(every replica of a subgraph needs the same keys)",
                path.parent,
            )
        with contextlib.suppress(FileExistsError):  # another process generated it first
            _write_key_file(path, {new_kid(): generate_key()}, replace=False)
    return DataKeyRing(parse_keys(path.read_text(), source=str(path)), str(path))


_rings: dict[tuple[str, str], DataKeyRing] = {}
_override: DataKeyRing | None = None
_lock = threading.Lock()


def data_keyring_for(settings: Settings) -> DataKeyRing:
    """The process-wide ring of these settings (loaded once per key source)."""
    source = (str(Path(settings.data_dir).resolve()), settings.data_keys)
    with _lock:
        ring = _rings.get(source)
        if ring is None:
            ring = _rings[source] = load_data_keyring(settings)
        return ring


def use_keyring(ring: DataKeyRing | None) -> DataKeyRing | None:
    """Make ``ring`` the one the column types use (``None``: back to the settings'); the previous."""
    global _override
    with _lock:
        previous, _override = _override, ring
    return previous


def configure(settings: Settings) -> DataKeyRing:
    """Use the ring of ``settings`` for every encrypted column of this process."""
    ring = data_keyring_for(settings)
    use_keyring(ring)
    return ring


def current_keyring() -> DataKeyRing:
    """The ring the column types use: the configured one, else that of the environment."""
    ring = _override
    return ring if ring is not None else data_keyring_for(get_settings())


def forget_cached_keyrings() -> None:
    """Drop the cached rings (after the key file or the environment changed)."""
    with _lock:
        _rings.clear()


# --- column types -------------------------------------------------------------------------


class EncryptedString(TypeDecorator[str]):
    """A string encrypted on bind and decrypted on read; legacy plaintext is read as is.

    ``associated_data`` is the column's qualified name (``"users.phone"``): it is
    authenticated with every value, so ciphertext moved to another column fails.
    """

    impl = Text
    cache_ok = True

    def __init__(self, associated_data: str):
        super().__init__()
        self.associated_data = associated_data

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return current_keyring().encrypt(str(value), self.associated_data)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not is_encrypted(value):
            return value
        return current_keyring().decrypt(value, self.associated_data)


class EncryptedFloat(TypeDecorator[float]):
    """A float stored as the ciphertext of its ``repr`` (exact round trip)."""

    impl = Text
    cache_ok = True

    def __init__(self, associated_data: str):
        super().__init__()
        self.associated_data = associated_data

    def process_bind_param(self, value: float | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return current_keyring().encrypt(repr(float(value)), self.associated_data)

    def process_result_value(self, value: object, dialect: Dialect) -> float | None:
        if value is None:
            return None
        if is_encrypted(value):
            return float(current_keyring().decrypt(str(value), self.associated_data))
        return float(value)  # type: ignore[arg-type]


ENCRYPTED_TYPES = (EncryptedString, EncryptedFloat)


# --- bulk re-encryption (migrations and rotation) -----------------------------------------


def reencrypt_columns(
    connection: Connection,
    table_name: str,
    key_columns: Iterable[str],
    columns: Mapping[str, str],
    ring: DataKeyRing | None = None,
    *,
    decrypt: bool = False,
) -> int:
    """Rewrite raw values of ``columns`` (name → associated data); the number changed.

    Encrypting (the default) turns plaintext and values of older keys into ciphertext of the
    newest key; ``decrypt=True`` turns ciphertext back into plaintext (downgrades). Each
    update is conditional on the raw value it read, so a concurrent write is not clobbered.
    ``ring`` defaults to :func:`current_keyring`, loaded only when a value needs it (an empty
    database, e.g. the scratch one of ``shared.make_migration``, creates no key file).
    """
    keys = list(key_columns)
    raw = table(table_name, *(column(name, Text) for name in [*keys, *columns]))
    changed = 0
    rows = connection.execute(select(*(raw.c[name] for name in [*keys, *columns]))).all()
    for row in rows:
        values = row._mapping
        for name, associated_data in columns.items():
            value = values[name]
            if value is None or (decrypt and not is_encrypted(value)):
                continue
            ring = ring or current_keyring()
            if decrypt:
                new = ring.decrypt(value, associated_data)
            elif is_encrypted(value):
                if key_id_of(value) == ring.newest_kid:
                    continue
                new = ring.encrypt(ring.decrypt(value, associated_data), associated_data)
            else:
                new = ring.encrypt(str(value), associated_data)
            condition = and_(*(raw.c[k] == values[k] for k in keys), raw.c[name] == value)
            changed += connection.execute(update(raw).where(condition).values({name: new})).rowcount
    return changed


def encrypted_columns(metadata: MetaData) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Per table of ``metadata``: its primary key columns and encrypted columns (→ AD)."""
    found: dict[str, tuple[list[str], dict[str, str]]] = {}
    for tbl in metadata.sorted_tables:
        columns = {
            c.name: c.type.associated_data
            for c in tbl.columns
            if isinstance(c.type, ENCRYPTED_TYPES)
        }
        if columns:
            found[tbl.name] = ([c.name for c in tbl.primary_key.columns], columns)
    return found


def rotate_metadata(connection: Connection, metadata: MetaData, ring: DataKeyRing) -> int:
    """Re-encrypt every encrypted column of ``metadata`` with the newest key; values changed."""
    return sum(
        reencrypt_columns(connection, name, keys, columns, ring)
        for name, (keys, columns) in encrypted_columns(metadata).items()
    )


async def rotate(
    subgraph: str, *, settings: Settings | None = None, ring: DataKeyRing | None = None
) -> int:
    """Re-encrypt subgraph ``subgraph``'s personal data with the newest key; values changed."""
    from sqlalchemy.ext.asyncio import create_async_engine

    if subgraph not in SUBGRAPH_NAMES:
        raise ValueError(f"unknown subgraph {subgraph!r}")
    settings = settings or get_settings()
    ring = ring or data_keyring_for(settings)
    metadata = importlib.import_module(f"subgraphs.{subgraph}.models").Base.metadata
    engine = create_async_engine(settings.database_url(subgraph))
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(rotate_metadata, metadata, ring)
    finally:
        await engine.dispose()


def add_key(settings: Settings) -> str:
    """Embedded mode: append a new newest key to the key file; its id."""
    if settings.data_keys:
        raise DataKeyError(
            "PIZZA_DATA_KEYS is set: add the new key there (last position), then rotate"
        )
    path = key_file(settings)
    keys = dict(load_data_keyring(settings).keys)
    kid = new_kid()
    keys[kid] = generate_key()
    _write_key_file(path, keys, replace=True)
    forget_cached_keyrings()
    return kid


def main(argv: list[str] | None = None) -> int:
    """``python -m shared.crypto rotate --subgraph NAME`` | ``add-key``."""
    parser = argparse.ArgumentParser(prog="python -m shared.crypto")
    commands = parser.add_subparsers(dest="command", required=True)
    rotate_parser = commands.add_parser(
        "rotate", help="re-encrypt a subgraph's personal data with the newest data key"
    )
    rotate_parser.add_argument("--subgraph", required=True, choices=["users", "delivery"])
    commands.add_parser("add-key", help="embedded mode: add a newest key to the key file")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "add-key":
        print(f"added data key {add_key(settings)} to {key_file(settings)}")
        return 0
    ring = data_keyring_for(settings)
    changed = asyncio.run(rotate(args.subgraph, settings=settings, ring=ring))
    print(f"{args.subgraph}: re-encrypted {changed} values with data key {ring.newest_kid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
