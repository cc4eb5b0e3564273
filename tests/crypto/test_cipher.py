"""The AES-GCM value format, the key ring and its sources."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from shared.crypto import (
    DataKeyError,
    DataKeyRing,
    DecryptionError,
    data_keyring_for,
    dump_keys,
    forget_cached_keyrings,
    generate_key,
    key_file,
    key_id_of,
    load_data_keyring,
    parse_keys,
)
from shared.settings import Settings
from tests.crypto.conftest import ring

SECRET = "+44 7700 900123"


def test_round_trip_format_and_random_nonces() -> None:
    keys = ring("a", "b")
    token = keys.encrypt(SECRET, "users.phone")
    assert token.startswith("v1:b:") and SECRET not in token
    blob = base64.b64decode(token.split(":", 2)[2])
    assert len(blob) == 12 + len(SECRET.encode()) + 16  # nonce | ciphertext | tag
    assert keys.decrypt(token, "users.phone") == SECRET
    assert keys.encrypt(SECRET, "users.phone") != token  # a fresh nonce every time


def test_column_name_is_authenticated() -> None:
    keys = ring("a")
    token = keys.encrypt(SECRET, "users.phone")
    with pytest.raises(DecryptionError, match=r"addresses\.line1") as info:
        keys.decrypt(token, "addresses.line1")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("position", [12, -1, 0])
def test_tampering_fails_without_plaintext(position: int) -> None:
    keys = ring("a")
    token = keys.encrypt(SECRET, "users.phone")
    prefix, blob = token.rsplit(":", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[position] ^= 0x01
    tampered = f"{prefix}:{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(DecryptionError, match="authentication failed") as info:
        keys.decrypt(tampered, "users.phone")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("token", ["v1:a", "v1:a:!!!", "v1:a:" + base64.b64encode(b"x").decode()])
def test_malformed_ciphertext(token: str) -> None:
    with pytest.raises(DecryptionError, match="malformed"):
        ring("a").decrypt(token, "users.phone")


def test_wrong_key_set_errors_without_leaking() -> None:
    token = ring("a").encrypt(SECRET, "users.phone")
    other = ring("a")  # same kid, another key
    with pytest.raises(DecryptionError) as wrong:
        other.decrypt(token, "users.phone")
    with pytest.raises(DecryptionError, match="not in the data key ring") as unknown:
        ring("z").decrypt(token, "users.phone")
    for error in (wrong, unknown):
        assert SECRET not in str(error.value)
        assert error.value.__cause__ is None
    assert wrong.value.__suppress_context__  # the InvalidTag is not chained in


def test_newest_key_encrypts_and_every_key_decrypts() -> None:
    old = ring("old")
    token = old.encrypt(SECRET, "users.phone")
    both = ring("old", "new", keys=dict(old.keys))
    assert key_id_of(both.encrypt(SECRET, "users.phone")) == "new"
    assert both.decrypt(token, "users.phone") == SECRET


def test_keys_never_in_repr_or_errors() -> None:
    key = generate_key()
    encoded = base64.b64encode(key).decode()
    keys = DataKeyRing({"a": key})
    assert encoded not in repr(keys) and repr(key) not in repr(keys)
    bad = json.dumps({"a": encoded[:-4] + "AAAA", "b": base64.b64encode(key[:16]).decode()})
    with pytest.raises(DataKeyError) as info:
        parse_keys(bad, source="PIZZA_DATA_KEYS")
    assert encoded[:10] not in str(info.value)
    with pytest.raises(DataKeyError, match="JSON object"):
        parse_keys("not json", source="PIZZA_DATA_KEYS")
    with pytest.raises(DataKeyError, match="not valid base64"):
        parse_keys(json.dumps({"a": "%%%"}), source="PIZZA_DATA_KEYS")


def test_environment_keys_keep_their_order(tmp_path) -> None:
    keys = {"first": generate_key(), "second": generate_key()}
    loaded = load_data_keyring(Settings(data_dir=tmp_path, data_keys=dump_keys(keys)))
    assert list(loaded.keys) == ["first", "second"] and loaded.newest_kid == "second"
    assert not (tmp_path / "keys").exists()


def test_embedded_mode_generates_a_private_key_file_once(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    forget_cached_keyrings()
    first = data_keyring_for(settings)
    path = key_file(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    forget_cached_keyrings()
    assert dict(load_data_keyring(settings).keys) == dict(first.keys)
