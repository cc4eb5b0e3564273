"""GraphQL literal values as plain Python data, printed the way Apollo prints them.

In: graphql-core value AST nodes (directive arguments, default values).
Out: Python values (``str``, ``int``, ``float``, ``bool``, ``None``, ``list``,
``dict``, ``EnumLiteral``), equality as Apollo's ``valueEquals`` and
``value_to_string`` matching ``@apollo/federation-internals`` ``valueToString``.
"""

from __future__ import annotations

import json
from typing import Any

from graphql.language import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)


class EnumLiteral(str):
    """An enum value literal: printed bare, compared by name."""

    __slots__ = ()


def from_ast(node: ValueNode) -> Any:
    """Convert a literal value node to Python data."""
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, EnumValueNode):
        return EnumLiteral(node.value)
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, ListValueNode):
        return [from_ast(v) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: from_ast(f.value) for f in node.fields}
    if isinstance(node, VariableNode):
        return EnumLiteral(f"${node.name.value}")
    raise TypeError(f"unsupported value node {node.kind}")


def value_to_string(value: Any) -> str:
    """Print a value as Apollo's ``valueToString`` does."""
    if value is None:
        return "null"
    if isinstance(value, EnumLiteral):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(value_to_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_to_string(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"unsupported value {value!r}")


def values_equal(a: Any, b: Any) -> bool:
    """Structural equality that keeps enum literals apart from strings."""
    if isinstance(a, EnumLiteral) != isinstance(b, EnumLiteral):
        return False
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    return bool(a == b)
