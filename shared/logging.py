"""JSON logs: one line per request, with its request id and trace id (structlog).

In: request facts (method, path, status, duration, operation, error codes) from the router's
and the subgraphs' HTTP middleware. Out: one JSON object per line on stdout through the
``pizza.access`` logger (``PIZZA_ACCESS_LOG=false`` silences it).

The lines go through the standard ``logging`` machinery, rendered to JSON by structlog, so a
deployment may route or silence them like any other logger; ``configure_logging`` installs
the stdout handler once per process.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from typing import Any

import structlog

ACCESS_LOGGER = "pizza.access"
REQUEST_ID_HEADER = "x-request-id"
_MAX_REQUEST_ID = 128

_render = structlog.processors.JSONRenderer(sort_keys=False)
_timestamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
_access = logging.getLogger(ACCESS_LOGGER)


def configure_logging(*, environ: dict[str, str] | None = None) -> None:
    """Send ``pizza.*`` logs as JSON lines to stdout (once per process)."""
    environ = dict(os.environ) if environ is None else environ
    pizza = logging.getLogger("pizza")
    if any(getattr(h, "_pizza_json", False) for h in pizza.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._pizza_json = True  # type: ignore[attr-defined]
    pizza.addHandler(handler)
    pizza.propagate = False  # no second, differently formatted copy through the root logger
    enabled = environ.get("PIZZA_ACCESS_LOG", "true").lower() not in ("0", "false", "no")
    _access.setLevel(logging.INFO if enabled else logging.WARNING)


def request_id_from(headers: Any) -> str:
    """The caller's ``x-request-id`` when it sent a sane one, else a new id."""
    value = headers.get(REQUEST_ID_HEADER) if headers is not None else None
    if value and len(value) <= _MAX_REQUEST_ID and value.isprintable():
        return str(value)
    return uuid.uuid4().hex


def log_request(**fields: Any) -> None:
    """Write one access line (a JSON object: ``event="request"`` plus ``fields``)."""
    if not _access.isEnabledFor(logging.INFO):
        return
    event: dict[str, Any] = {"event": "request", "level": "info", **fields}
    _access.info(_render(None, "info", _timestamp(None, "info", event)))
