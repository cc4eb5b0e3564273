"""The public gateways benchmark's workload (graphql-hive/graphql-gateways-benchmark).

Four federation subgraphs (accounts, inventory, products, reviews) with the benchmark's data,
its nested ``TestQuery`` and a one-subgraph query. The SDL files here are the Federation 2
equivalents of the benchmark's Rust (async-graphql) subgraphs; ``supergraph.graphql`` is their
composition (checked against ``@apollo/composition`` by ``python -m bench.compose --check``).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
SUBGRAPH_NAMES = ("accounts", "inventory", "products", "reviews")
SUPERGRAPH_PATH = HERE / "supergraph.graphql"
TEST_QUERY = (HERE / "test_query.graphql").read_text(encoding="utf-8")
ONE_SUBGRAPH_QUERY = (HERE / "one_subgraph_query.graphql").read_text(encoding="utf-8")
# What a router sends the products subgraph for ONE_SUBGRAPH_QUERY (the "direct" baseline).
ONE_SUBGRAPH_DIRECT_QUERY = "{topProducts{upc name price weight}}"
DEFAULT_BASE_PORT = 4201


def subgraph_sdl(name: str) -> str:
    """The subgraph's Federation 2 SDL."""
    return (HERE / f"{name}.graphql").read_text(encoding="utf-8")


def subgraph_url(name: str, base_port: int = DEFAULT_BASE_PORT) -> str:
    """Where the benchmark subgraph ``name`` answers (one port per subgraph)."""
    return f"http://127.0.0.1:{base_port + SUBGRAPH_NAMES.index(name)}/graphql"
