"""Signing keys of the access tokens: an ES256 (P-256) key ring with rotation.

Enters: settings. ``PIZZA_JWT_PRIVATE_KEYS`` (a JSON object ``{"<kid>": "<PEM>", ...}``,
the last entry signs) when set; otherwise PEM files ``<kid>.pem`` under
``PIZZA_DATA_DIR/keys/`` (mode 0600), one generated on first start.
Leaves: a :class:`KeyRing` whose newest key signs and whose every key is published
in the JWKS (``GET /.well-known/jwks.json`` on users) until it is retired.

Rotation: :meth:`KeyRing.rotate` adds a new key that signs from now on; tokens
signed by the older keys stay valid while those keys are published.
:meth:`KeyRing.retire` removes a key: tokens it signed are rejected from then on.
Private keys are never logged nor put in an exception message.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from shared.settings import Settings

log = logging.getLogger(__name__)

ALGORITHM = "ES256"
KEY_FILE_SUFFIX = ".pem"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key pair of the ring, named by its ``kid``."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(kid={self.kid!r})"

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (``kty``, ``crv``, ``x``, ``y``, ``kid``, ``alg``, ``use``)."""
        jwk = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def private_pem(self) -> bytes:
        """PKCS#8 PEM of the private key (for the key file only)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def new_kid() -> str:
    """A sortable key id: creation time, then randomness (``20261125T0227-9f3a1c2b``)."""
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"


def generate_key(kid: str | None = None) -> SigningKey:
    """A fresh P-256 key pair."""
    return SigningKey(kid=kid or new_kid(), private_key=ec.generate_private_key(ec.SECP256R1()))


def _load_pem(kid: str, pem: bytes) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        # The message of cryptography's error may quote the input: do not chain it.
        raise ValueError(f"The private key {kid!r} is not a PEM private key.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"The private key {kid!r} must be an EC P-256 key (ES256).")
    return SigningKey(kid=kid, private_key=key)


class KeyRing:
    """The signing keys, oldest first; the newest signs, all are published."""

    def __init__(self, keys: list[SigningKey], *, directory: Path | None = None) -> None:
        if not keys:
            raise ValueError("A key ring needs at least one key.")
        self._keys = list(keys)
        self.directory = directory
        self._lock = threading.Lock()
        self._seen_mtime = self._directory_mtime()

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """Every published key, oldest first."""
        self._reload_if_changed()
        return tuple(self._keys)

    @property
    def signing_key(self) -> SigningKey:
        """The key new tokens are signed with (the newest)."""
        return self.keys[-1]

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set: the public half of every published key."""
        return {"keys": [key.public_jwk for key in self.keys]}

    def rotate(self) -> SigningKey:
        """Add a new key that signs from now on; the old ones stay published."""
        key = generate_key()
        with self._lock:
            if self.directory is not None:
                _write_key(self.directory, key)
                self._seen_mtime = self._directory_mtime()
            self._keys.append(key)
        log.info("access-token signing key rotated: new kid %s", key.kid)
        return key

    def retire(self, kid: str) -> None:
        """Stop publishing ``kid``: tokens it signed are rejected once verifiers refresh."""
        with self._lock:
            remaining = [k for k in self._keys if k.kid != kid]
            if not remaining:
                raise ValueError("The last key of the ring cannot be retired; rotate first.")
            if self.directory is not None:
                (self.directory / f"{kid}{KEY_FILE_SUFFIX}").unlink(missing_ok=True)
                self._seen_mtime = self._directory_mtime()
            self._keys = remaining
        log.info("access-token signing key %s retired", kid)

    def _directory_mtime(self) -> float | None:
        if self.directory is None:
            return None
        try:
            return self.directory.stat().st_mtime
        except OSError:
            return None

    def _reload_if_changed(self) -> None:
        """Pick up keys another process added or removed (``python -m subgraphs.users.keys``)."""
        if self.directory is None or self._directory_mtime() == self._seen_mtime:
            return
        with self._lock:
            keys = _read_directory(self.directory)
            if keys:
                self._keys = keys
            self._seen_mtime = self._directory_mtime()


def _write_key(directory: Path, key: SigningKey) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / f"{key.kid}{KEY_FILE_SUFFIX}"
    # Written whole under a hidden name, then linked into place (no reader sees half a PEM).
    tmp = directory / f".{key.kid}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(key.private_pem())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_directory(directory: Path) -> list[SigningKey]:
    files = sorted(directory.glob(f"*{KEY_FILE_SUFFIX}"))  # kids sort by creation time
    return [_load_pem(path.stem, path.read_bytes()) for path in files]


def keys_from_environment(value: str) -> list[SigningKey]:
    """Keys from ``PIZZA_JWT_PRIVATE_KEYS`` (``{"<kid>": "<PEM>"}``, the last one signs)."""
    try:
        mapping = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(
            'PIZZA_JWT_PRIVATE_KEYS must be a JSON object {"<kid>": "<PEM>"}'
        ) from None
    if not isinstance(mapping, dict) or not mapping:
        raise ValueError('PIZZA_JWT_PRIVATE_KEYS must be a JSON object {"<kid>": "<PEM>"}')
    return [_load_pem(str(kid), str(pem).encode()) for kid, pem in mapping.items()]


def load_key_ring(settings: Settings) -> KeyRing:
    """The key ring the settings describe; generates a first key file when there is none."""
    if settings.jwt_private_keys:
        return KeyRing(keys_from_environment(settings.jwt_private_keys))
    directory = Path(settings.data_dir) / "keys"
    keys = _read_directory(directory) if directory.exists() else []
    if not keys:
        if settings.mode != "embedded":
            log.warning(
                "PIZZA_JWT_PRIVATE_KEYS is not set: generating a signing key under %s "
                "(every users replica needs the same keys)",
                directory,
            )
        key = generate_key()
        _write_key(directory, key)
        keys = [key]
    return KeyRing(keys, directory=directory)


_rings: dict[tuple[str, str], KeyRing] = {}
_rings_lock = threading.Lock()


def key_ring_for(settings: Settings) -> KeyRing:
    """The process-wide key ring of these settings (loaded once per key source)."""
    source = (str(Path(settings.data_dir).resolve()), settings.jwt_private_keys)
    with _rings_lock:
        ring = _rings.get(source)
        if ring is None:
            ring = _rings[source] = load_key_ring(settings)
        return ring
