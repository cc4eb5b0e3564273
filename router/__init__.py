"""A Python Apollo Federation 2 router.

Pipeline, one module per stage: ``server`` (HTTP in/out) → ``gateway`` (the pipeline without
HTTP) → ``operation`` (parse, validate, normalize; cached) → ``planner`` with
``fetch_groups`` (a ``QueryPlan`` from ``plan``; cached) → ``executor`` with ``fetcher``
(subgraph HTTP) → ``response`` (shape the client's data). ``supergraph`` and ``api_schema``
load the supergraph SDL; ``config`` reads ``router.yaml``; ``errors`` lists the codes;
``edge`` (a package) guards the HTTP edge: CORS, CSRF, rate limits, APQ, persisted queries,
operation limits.
"""

from router.config import RouterConfig
from router.supergraph import Supergraph

__all__ = ["RouterConfig", "Supergraph"]
