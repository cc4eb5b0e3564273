"""Names as Apollo spells them in supergraphs and in composition messages.

In: subgraph names, lists of words, enum value names.
Out: ``join__Graph`` value names (``sanitizeGraphQLName``), the
``subgraphs "a" and "b"`` phrasing and ``joinStrings`` of Apollo's messages,
enum literals for applied-directive arguments, and the kind labels used in
``TYPE_KIND_MISMATCH``.
"""

from __future__ import annotations

import re
from typing import Any

from router.composition.values import EnumLiteral

KIND_LABELS = {
    "object": "Object Type",
    "interface": "Interface Type",
    "union": "Union Type",
    "enum": "Enum Type",
    "input": "Input Object Type",
    "scalar": "Scalar Type",
}


def sanitize_graph_name(name: str) -> str:
    """Apollo's ``sanitizeGraphQLName`` for ``join__Graph`` values."""
    out = re.sub(r"[^0-9A-Za-z_]", "_", name)
    if re.match(r"^\d", out):
        out = "_" + out
    if re.search(r"_\d+$", out):
        out += "_"
    return out.upper()


def subgraph_names(names: list[str]) -> str:
    """``subgraph "a"`` / ``subgraphs "a" and "b"``."""
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return "subgraph " + quoted[0]
    return "subgraphs " + join_strings(quoted, ", ")


def join_strings(
    items: list[str], sep: str = ", ", first_sep: str | None = None, last_sep: str = " and "
) -> str:
    """Apollo's ``joinStrings``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return items[0] + (first_sep or last_sep) + items[1]
    return items[0] + (first_sep or sep) + sep.join(items[1:-1]) + last_sep + items[-1]


def enum_literal(name: str) -> Any:
    """An enum value as an applied-directive argument (printed bare)."""
    return EnumLiteral(name)
