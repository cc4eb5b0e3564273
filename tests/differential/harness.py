"""Differential cases as data: subgraph SDL, canned data and the queries to compare.

A ``Case`` is a small supergraph: subgraphs written as federation SDL (``sdl`` adds the
``@link`` import of the federation directives it uses), a factory of canned data shared by all
its subgraphs (``obj`` builds typed records; records reference each other directly), and
queries. Every query runs through our router and through ``@apollo/gateway`` over the same
subgraphs; responses and fetch counts are compared (see ``test_differential.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FEDERATION_DIRECTIVES = (
    "key",
    "requires",
    "provides",
    "external",
    "shareable",
    "override",
    "inaccessible",
    "interfaceObject",
    "tag",
)
_DIRECTIVE_USE = re.compile(r"@(\w+)")

# Headings of KNOWN_DIFFERENCES.md.
ALIASED_KEY_FIELDS = "A client field takes the response key of a key or required field"
FAILED_FETCH_ERRORS = "Errors of failed subgraph fetches"


def sdl(body: str) -> str:
    """Subgraph SDL: ``body`` with a Federation 2.7 ``@link`` importing the directives it uses."""
    used = sorted(set(_DIRECTIVE_USE.findall(body)) & set(FEDERATION_DIRECTIVES))
    imports = ", ".join(f'"@{name}"' for name in used)
    header = f'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [{imports}])\n'
    return header + body.strip() + "\n"


def obj(typename: str, **fields: Any) -> dict[str, Any]:
    """A canned record of ``typename``."""
    return {"__typename": typename, **fields}


@dataclass(frozen=True, slots=True)
class Computed:
    """A field computed by a subgraph from the object it resolves and the field's arguments.

    For an entity the object holds the representation's fields (``@requires`` values come
    from the router, not from the canned data).
    """

    resolve: Callable[[dict[str, Any], dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Fail:
    """A field whose resolver raises a GraphQL error with ``message``."""

    message: str = "boom"


@dataclass(frozen=True, slots=True)
class Query:
    """One operation of a case."""

    text: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    down: frozenset[str] = frozenset()
    """Subgraphs answering HTTP 500 during this query."""
    known_difference: str | None = None
    """Heading in ``KNOWN_DIFFERENCES.md``: Apollo's response is known to be wrong here."""
    expected: dict[str, Any] = field(default_factory=dict)
    """With ``known_difference``: our ``data`` and/or ``error_paths`` where they differ from
    Apollo's (a missing key must still equal Apollo's)."""


@dataclass(frozen=True, slots=True)
class Case:
    """One supergraph with its subgraphs, data and queries."""

    name: str
    subgraphs: dict[str, str]
    """Subgraph name → SDL."""
    data: Callable[[], dict[str, list[dict[str, Any]]]]
    """Fresh canned data: type name → records; ``Query``/``Mutation`` hold one root record."""
    queries: dict[str, Query | str] = field(default_factory=dict)

    def query(self, name: str) -> Query:
        """The query ``name`` (plain strings are queries without variables)."""
        value = self.queries[name]
        return value if isinstance(value, Query) else Query(value)
