"""Generate an Apollo persisted-query manifest from ``.graphql`` operation files.

In: a directory of ``.graphql`` files (operations and fragments; a fragment may live in any
file). Out: ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
[{"id", "name", "type", "body"}]}`` sorted by name, as ``@apollo/generate-persisted-query-
manifest`` writes it: one entry per named operation whose body is the operation and the
fragments it uses (operation first, fragments by name) printed by graphql's printer, and
whose id is the SHA-256 of that body. (Apollo Client's generator also adds ``__typename``
to selections because Apollo Client does; our clients send exactly these bodies.)
``python -m router manifest operations/ --output schema/persisted-queries.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)
from graphql.language import Visitor, visit

from router.edge.apq import sha256_hex
from router.edge.safelist import MANIFEST_FORMAT


class ManifestError(ValueError):
    """The operation files cannot make a manifest."""


def _spreads(node: Node) -> set[str]:
    names: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            names.add(spread.name.value)

    visit(node, Spreads())
    return names


def build_manifest(directory: str | Path, *, schema: GraphQLSchema | None = None) -> dict[str, Any]:
    """The manifest for every ``.graphql`` file under ``directory`` (validated if ``schema``)."""
    root = Path(directory)
    files = sorted(root.rglob("*.graphql"))
    if not files:
        raise ManifestError(f"no .graphql files under {root}")
    operations: dict[str, tuple[OperationDefinitionNode, Path]] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for path in files:
        try:
            document = parse(path.read_text(encoding="utf-8"), no_location=True)
        except Exception as error:
            raise ManifestError(f"{path}: {error}") from error
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    raise ManifestError(f"{path}: every persisted operation needs a name")
                name = definition.name.value
                if name in operations:
                    raise ManifestError(
                        f"{path}: operation {name} is also in {operations[name][1]}"
                    )
                operations[name] = (definition, path)
            elif isinstance(definition, FragmentDefinitionNode):
                if definition.name.value in fragments:
                    raise ManifestError(
                        f"{path}: fragment {definition.name.value} is defined twice"
                    )
                fragments[definition.name.value] = definition
            else:
                raise ManifestError(f"{path}: only operations and fragments belong here")
    entries = []
    for name in sorted(operations):
        operation, path = operations[name]
        used: set[str] = set()
        pending = _spreads(operation)
        while pending:
            fragment_name = pending.pop()
            if fragment_name in used:
                continue
            if fragment_name not in fragments:
                raise ManifestError(f"{path}: {name} uses unknown fragment {fragment_name}")
            used.add(fragment_name)
            pending |= _spreads(fragments[fragment_name])
        document = DocumentNode(definitions=(operation, *(fragments[f] for f in sorted(used))))
        if schema is not None:
            problems = validate(schema, document)
            if problems:
                raise ManifestError(f"{path}: {name}: {problems[0].message}")
        body = print_ast(document)
        entries.append(
            {
                "id": sha256_hex(body),
                "name": name,
                "type": operation.operation.value,
                "body": body,
            }
        )
    return {"format": MANIFEST_FORMAT, "version": 1, "operations": entries}


def render_manifest(manifest: dict[str, Any]) -> str:
    """The manifest as the committed file holds it."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
