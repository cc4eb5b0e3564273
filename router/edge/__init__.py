"""The router's request edge: what happens to a request before the gateway plans it.

One module per concern: ``config`` (router.yaml sections), ``csrf``, ``cors``,
``rate_limit``, ``apq`` (automatic persisted queries), ``safelist`` (persisted query list,
partners), ``limits`` (depth/height/root fields/aliases and demand control, cached per
prepared operation), ``manifest`` (``python -m router manifest``), ``errors`` (codes), and
``pipeline`` (``Edge``: the object ``router.server`` calls). docs/adr/0008-router-edge.md
explains the choices.
"""

from router.edge.config import EdgeConfig
from router.edge.pipeline import Edge

__all__ = ["Edge", "EdgeConfig"]
