"""Order-insensitive view of a supergraph SDL, for comparisons that tolerate ordering."""

from __future__ import annotations

from graphql import parse
from graphql.language import DefinitionNode, print_ast


def normalized_sdl(sdl: str) -> str:
    """Sort definitions, fields, values and applied directives; print the result."""
    document = parse(sdl, no_location=True)
    printed: list[str] = []
    for definition in document.definitions:
        printed.append(_sorted_definition(definition))
    return "\n\n".join(sorted(printed))


def _sorted_definition(node: DefinitionNode) -> str:
    for attr in ("fields", "values", "directives", "interfaces", "types", "arguments"):
        children = getattr(node, attr, None)
        if children:
            items = list(children)
            for child in items:
                for inner in ("directives", "arguments"):
                    grand = getattr(child, inner, None)
                    if grand:
                        object.__setattr__(child, inner, tuple(sorted(grand, key=print_ast)))
            object.__setattr__(node, attr, tuple(sorted(items, key=print_ast)))
    return print_ast(node)
