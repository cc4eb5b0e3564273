"""Opaque identifiers."""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    """A fresh opaque id such as ``ord_6f1c...``; the prefix helps humans reading logs."""
    return f"{prefix}_{uuid.uuid4().hex}"


def demo_id(prefix: str, name: str) -> str:
    """A stable id for demo data, the same on every machine."""
    return f"{prefix}_{uuid.uuid5(uuid.NAMESPACE_URL, f'pizza:{prefix}:{name}').hex}"
