"""A generic federation subgraph built from SDL text and canned data (graphql-core).

In: a subgraph's SDL (Federation 2) and the case's canned data. Out: ``GenericSubgraph``,
which executes subgraph operations (``_service``, ``_entities`` and the SDL's own fields),
and ``SubgraphHost``, one ASGI app serving every subgraph of every case at
``/<case>/<subgraph>/graphql`` while counting the requests each case receives.

The subgraphs are strict so that planning mistakes show up as differences: an ``@external``
field resolves only when a representation sent it or an ``@provides`` path provided it, and a
``@requires`` field only when its required fields came with the representation.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLUnionType,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    SelectionSetNode,
    build_ast_schema,
    graphql_sync,
    parse,
    value_from_ast_untyped,
)

from tests.differential.harness import Computed, Fail

PROVIDED = "__provided__"
"""Key of the fields an object may resolve although they are ``@external`` (name → nested)."""

Provided = dict[str, Any]


def _field_set(text: str) -> SelectionSetNode:
    return parse("{" + text + "}").definitions[0].selection_set  # type: ignore[attr-defined,no-any-return]


def _provided_tree(selection_set: SelectionSetNode | None) -> Provided:
    tree: Provided = {}
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            tree[node.name.value] = _provided_tree(node.selection_set)
        else:  # inline fragment in a field set
            tree.update(_provided_tree(node.selection_set))  # type: ignore[attr-defined]
    return tree


def _value_tree(value: Any) -> Provided:
    """The fields present in a representation value, as a provided tree."""
    if isinstance(value, list):
        tree: Provided = {}
        for item in value:
            tree.update(_value_tree(item))
        return tree
    if isinstance(value, dict):
        return {k: _value_tree(v) for k, v in value.items() if k != "__typename"}
    return {}


def _merge_trees(a: Provided | None, b: Provided | None) -> Provided:
    merged: Provided = dict(a or {})
    for key, value in (b or {}).items():
        merged[key] = _merge_trees(merged.get(key), value)
    return merged


def _with_provided(value: Any, tree: Provided) -> Any:
    if isinstance(value, list):
        return [_with_provided(item, tree) for item in value]
    if isinstance(value, dict):
        return {**value, PROVIDED: _merge_trees(value.get(PROVIDED), tree)}
    return value


def _project(value: Any, selection_set: SelectionSetNode | None) -> Any:
    if selection_set is None or value is None:
        return value
    if isinstance(value, list):
        return [_project(item, selection_set) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        node.name.value: _project(value.get(node.name.value), node.selection_set)
        for node in selection_set.selections
        if isinstance(node, FieldNode)
    }


def _directive_args(node: Any, name: str) -> list[dict[str, Any]]:
    return [
        {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}
        for d in node.directives or ()
        if d.name.value == name
    ]


class GenericSubgraph:
    """One subgraph of a case: its executable schema and federation metadata."""

    def __init__(
        self,
        *,
        name: str,
        sdl: str,
        implements: dict[str, set[str]],
        data: Callable[[], dict[str, list[dict[str, Any]]]],
    ) -> None:
        self.name = name
        self.sdl = sdl
        self.implements = implements
        self.data = data
        document = parse(sdl)
        self.keys: dict[str, list[SelectionSetNode]] = {}
        self.externals: set[tuple[str, str]] = set()
        self.provides: dict[tuple[str, str], Provided] = {}
        self.requires: dict[tuple[str, str], Provided] = {}
        self._read_metadata(document)
        self.schema = build_ast_schema(self._executable(document), assume_valid_sdl=True)
        for type_ in self.schema.type_map.values():
            if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
                type_.resolve_type = _resolve_type

    def _read_metadata(self, document: DocumentNode) -> None:
        for definition in document.definitions:
            if not isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
                continue
            type_name = definition.name.value
            for key in _directive_args(definition, "key"):
                self.keys.setdefault(type_name, []).append(_field_set(str(key["fields"])))
            type_external = bool(_directive_args(definition, "external"))
            for field_node in definition.fields or ():
                field_name = field_node.name.value
                if type_external or _directive_args(field_node, "external"):
                    self.externals.add((type_name, field_name))
                for provides in _directive_args(field_node, "provides"):
                    self.provides[(type_name, field_name)] = _provided_tree(
                        _field_set(str(provides["fields"]))
                    )
                for requires in _directive_args(field_node, "requires"):
                    self.requires[(type_name, field_name)] = _provided_tree(
                        _field_set(str(requires["fields"]))
                    )

    def _executable(self, document: DocumentNode) -> DocumentNode:
        entities = sorted(
            d.name.value
            for d in document.definitions
            if isinstance(d, ObjectTypeDefinitionNode) and _directive_args(d, "key")
        )
        has_query = any(
            getattr(d, "name", None) is not None and d.name.value == "Query"  # type: ignore[attr-defined]
            for d in document.definitions
        )
        extra = ["scalar _Any", "type _Service { sdl: String! }"]
        root_fields = ["_service: _Service!"]
        if entities:
            extra.append("union _Entity = " + " | ".join(entities))
            root_fields.append("_entities(representations: [_Any!]!): [_Entity]!")
        extra.append(
            ("extend type Query" if has_query else "type Query")
            + " { "
            + " ".join(root_fields)
            + " }"
        )
        additions = parse("\n".join(extra))
        return DocumentNode(definitions=(*document.definitions, *additions.definitions))

    # Execution -------------------------------------------------------------------------

    def execute(
        self, body: dict[str, Any], store: dict[str, list[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run one subgraph request against ``store``; the GraphQL response."""
        root: dict[str, Any] = {}
        for root_type in ("Query", "Mutation"):
            for record in store.get(root_type, ()):
                root.update(record)
        result = graphql_sync(
            self.schema,
            str(body.get("query") or ""),
            root_value=root,
            variable_values=body.get("variables") or {},
            operation_name=body.get("operationName"),
            field_resolver=lambda source, info, **args: self._resolve(source, info, args, store),
        )
        return result.formatted  # type: ignore[return-value]

    def _resolve(
        self,
        source: Any,
        info: GraphQLResolveInfo,
        args: dict[str, Any],
        store: dict[str, list[dict[str, Any]]],
    ) -> Any:
        parent = info.parent_type.name
        name = info.field_name
        if parent == "Query" and name == "_entities":
            return [self._entity(rep, store) for rep in args["representations"]]
        if parent == "Query" and name == "_service":
            return {"sdl": self.sdl}
        if not isinstance(source, dict):
            return None
        provided: Provided = source.get(PROVIDED) or {}
        nested: Provided | None = None
        if (parent, name) in self.externals:
            if name not in provided:
                raise GraphQLError(
                    f"{parent}.{name} is @external in {self.name} and was not provided"
                )
            nested = provided[name]
        required = self.requires.get((parent, name))
        if required is not None and not _covers(provided, required):
            raise GraphQLError(
                f"{parent}.{name} in {self.name} was resolved without its @requires fields"
            )
        value = source.get(name)
        if isinstance(value, Computed):
            value = value.resolve(source, args)
        if isinstance(value, Fail):
            raise GraphQLError(value.message)
        tree = _merge_trees(nested, self.provides.get((parent, name)))
        return _with_provided(value, tree) if tree else value

    def _entity(self, rep: dict[str, Any], store: dict[str, list[dict[str, Any]]]) -> Any:
        typename = str(rep.get("__typename"))
        record = self._find(typename, rep, store)
        if record is None:
            return None
        schema_type = self.schema.get_type(typename)
        concrete = typename if isinstance(schema_type, GraphQLObjectType) else record["__typename"]
        base = {k: v for k, v in record.items() if (concrete, k) not in self.externals}
        fields = {k: v for k, v in rep.items() if k != "__typename"}
        return {**base, **fields, "__typename": concrete, PROVIDED: _value_tree(fields)}

    def _find(
        self, typename: str, rep: dict[str, Any], store: dict[str, list[dict[str, Any]]]
    ) -> dict[str, Any] | None:
        candidates = [
            record
            for type_name, records in store.items()
            if type_name == typename or typename in self.implements.get(type_name, ())
            for record in records
        ]
        for key in self.keys.get(typename, ()):
            names = [n.name.value for n in key.selections if isinstance(n, FieldNode)]
            if not all(n in rep for n in names):
                continue
            wanted = _project(rep, key)
            for record in candidates:
                if _project(record, key) == wanted:
                    return record
        return None


def _covers(provided: Provided, required: Provided) -> bool:
    return all(
        name in provided and _covers(provided[name], nested) for name, nested in required.items()
    )


def _resolve_type(value: Any, _info: GraphQLResolveInfo, _abstract: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


class SubgraphHost:
    """ASGI app serving the subgraphs of every case; counts requests per case."""

    def __init__(self) -> None:
        self.subgraphs: dict[tuple[str, str], GenericSubgraph] = {}
        self.stores: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.factories: dict[str, Callable[[], dict[str, list[dict[str, Any]]]]] = {}
        self.counts: dict[str, Counter[str]] = {}
        self.down: dict[str, frozenset[str]] = {}
        self.log: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.lock = threading.Lock()

    def add(self, case: str, subgraph: GenericSubgraph) -> None:
        """Serve ``subgraph`` at ``/<case>/<subgraph.name>/graphql``."""
        self.subgraphs[(case, subgraph.name)] = subgraph
        self.factories[case] = subgraph.data
        self.counts.setdefault(case, Counter())
        self.log.setdefault(case, [])

    def reset(self, case: str, *, down: frozenset[str] = frozenset()) -> None:
        """Fresh data and zero counts for ``case``; ``down`` subgraphs answer HTTP 500."""
        with self.lock:
            self.stores[case] = self.factories[case]()
            self.counts[case] = Counter()
            self.log[case] = []
            self.down[case] = down

    def fetches(self, case: str) -> Counter[str]:
        """Requests per subgraph of ``case`` since the last reset."""
        with self.lock:
            return Counter(self.counts[case])

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        parts = [p for p in scope["path"].split("/") if p]
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        subgraph = self.subgraphs.get((parts[0], parts[1])) if len(parts) == 3 else None
        if subgraph is None:
            await _reply(send, 404, b"unknown subgraph")
            return
        case = parts[0]
        request = json.loads(body or b"{}")
        with self.lock:
            self.counts[case][subgraph.name] += 1
            self.log[case].append((subgraph.name, request))
            store = self.stores.setdefault(case, self.factories[case]())
            is_down = subgraph.name in self.down.get(case, ())
        if is_down:
            await _reply(send, 500, b"subgraph is down", content_type=b"text/plain")
            return
        result = subgraph.execute(request, store)
        await _reply(send, 200, json.dumps(result).encode())


async def _reply(
    send: Any, status: int, body: bytes, *, content_type: bytes = b"application/json"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type)],
        }
    )
    await send({"type": "http.response.body", "body": body})
