"""Plan execution: run the fetches of a ``QueryPlan`` and merge their results.

In: a ``QueryPlan``, the request's variables and forwarded headers, a ``SubgraphFetcher``.
Out: the merged data (plain dicts, still holding the hidden key fields) and the errors, with
subgraph error paths rewritten to the client's paths. Parallel nodes run with
``asyncio.gather``; a ``Flatten`` collects the objects at its path, sends each distinct
representation once, and merges every entity back into all objects that produced it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson

from router import errors
from router.fetcher import SubgraphFetcher
from router.plan import (
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    RequiredField,
    RequiredFragment,
    RequiredSelection,
    SequenceNode,
)

Path = list[str | int]


class _Execution:
    __slots__ = ("data", "errors", "fetcher", "headers", "variables")

    def __init__(
        self, fetcher: SubgraphFetcher, variables: Mapping[str, Any], headers: Mapping[str, str]
    ) -> None:
        self.fetcher = fetcher
        self.variables = variables
        self.headers = headers
        self.data: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []

    async def run(self, node: PlanNode) -> None:
        if isinstance(node, FetchNode):
            await self.root_fetch(node)
        elif isinstance(node, FlattenNode):
            await self.entity_fetch(node)
        elif isinstance(node, SequenceNode):
            for child in node.nodes:
                await self.run(child)
        elif isinstance(node, ParallelNode):
            await asyncio.gather(*(self.run(child) for child in node.nodes))

    def body(self, fetch: FetchNode, representations: list[Any] | None = None) -> bytes:
        variables = {n: self.variables[n] for n in fetch.variable_usages if n in self.variables}
        if representations is not None:
            variables["representations"] = representations
        request: dict[str, Any] = {"query": fetch.operation, "variables": variables}
        if fetch.operation_name:
            request["operationName"] = fetch.operation_name
        return orjson.dumps(request)

    async def send(
        self, fetch: FetchNode, body: bytes, flatten_path: Path | None
    ) -> dict[str, Any] | None:
        try:
            return await self.fetcher.fetch(
                fetch.service_name, body, self.headers, shareable=fetch.operation_kind == "query"
            )
        except errors.SubgraphFetchError as error:
            self.errors.append(error.to_graphql(flatten_path))
            return None

    async def root_fetch(self, fetch: FetchNode) -> None:
        response = await self.send(fetch, self.body(fetch), None)
        if response is None:
            return
        data = response.get("data")
        if isinstance(data, dict):
            deep_merge(self.data, data)
        for error in response.get("errors") or ():
            self.errors.append(_subgraph_error(error, fetch.service_name, error.get("path")))

    async def entity_fetch(self, flatten: FlattenNode) -> None:
        fetch = flatten.node
        if not isinstance(fetch, FetchNode) or fetch.requires is None:
            await self.run(fetch)
            return
        by_type = {fragment.type_condition: fragment for fragment in fetch.requires}
        representations: list[Any] = []
        targets: list[list[tuple[dict[str, Any], LinkedPath]]] = []
        index_of: dict[bytes, int] = {}
        for obj, path in collect_objects(self.data, flatten.path):
            fragment = by_type.get(obj.get("__typename", ""))
            if fragment is None:
                continue
            representation = _representation(obj, fragment.selections)
            if representation is None:
                continue
            representation["__typename"] = fragment.entity_type or fragment.type_condition
            identity = orjson.dumps(representation, option=orjson.OPT_SORT_KEYS)
            index = index_of.get(identity)
            if index is None:
                index = index_of[identity] = len(representations)
                representations.append(representation)
                targets.append([])
            targets[index].append((obj, path))
        if not representations:
            return
        response = await self.send(fetch, self.body(fetch, representations), list(flatten.path))
        if response is None:
            return
        entities = (response.get("data") or {}).get("_entities")
        if isinstance(entities, list):
            for index, entity in enumerate(entities[: len(targets)]):
                if isinstance(entity, dict):
                    for obj, _ in targets[index]:
                        deep_merge(obj, entity)
        for error in response.get("errors") or ():
            self.errors.append(_subgraph_error(error, fetch.service_name, _repath(error, targets)))


def _representation(
    obj: dict[str, Any], selections: tuple[RequiredSelection, ...]
) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    typename = obj.get("__typename")
    for selection in selections:
        if isinstance(selection, RequiredFragment):
            if selection.type_condition == typename:
                nested = _representation(obj, selection.selections)
                if nested is None:
                    return None
                result.update(nested)
            continue
        assert isinstance(selection, RequiredField)
        if selection.response_key not in obj:
            return None
        value = obj[selection.response_key]
        if selection.selections and value is not None:
            value = _required_value(value, selection.selections)
            if value is None:
                return None
        result[selection.name] = value
    return result


def _required_value(value: Any, selections: tuple[RequiredSelection, ...]) -> Any:
    if isinstance(value, list):
        return [_required_value(item, selections) if item is not None else None for item in value]
    if isinstance(value, dict):
        return _representation(value, selections)
    return value


LinkedPath = tuple[Any, str | int] | None
"""A concrete path as ``(parent, key)`` links, built cheaply; ``materialize`` lists it."""


def materialize(path: LinkedPath) -> Path:
    """The response keys and list indexes of a linked path, root first."""
    keys: Path = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def collect_objects(data: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], LinkedPath]]:
    """The objects at ``path`` in ``data`` (``"@"`` walks list items) with their concrete paths.

    Walks level by level; the paths are linked tuples, materialized only for error paths.
    """
    level: list[tuple[Any, LinkedPath]] = [(data, None)]
    for step in path:
        following: list[tuple[Any, LinkedPath]] = []
        append = following.append
        if step == "@":
            for value, at in level:
                if isinstance(value, list):
                    for i, item in enumerate(value):
                        if item is not None:
                            append((item, (at, i)))
        else:
            for value, at in level:
                if isinstance(value, dict):
                    child = value.get(step)
                    if child is not None:
                        append((child, (at, step)))
        level = following
    found: list[tuple[dict[str, Any], LinkedPath]] = []
    for value, at in level:
        _collect_leaf(value, at, found)
    return found


def _collect_leaf(
    value: Any, at: LinkedPath, found: list[tuple[dict[str, Any], LinkedPath]]
) -> None:
    if isinstance(value, dict):
        found.append((value, at))
    elif isinstance(value, list):  # a list not covered by "@" in the path
        for i, item in enumerate(value):
            if item is not None:
                _collect_leaf(item, (at, i), found)


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Merge ``source`` into ``target`` in place (objects recursively, lists item by item)."""
    for key, value in source.items():
        existing = target.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            deep_merge(existing, value)
        elif isinstance(existing, list) and isinstance(value, list) and len(existing) == len(value):
            _merge_lists(existing, value)
        else:
            target[key] = value


def _merge_lists(target: list[Any], source: list[Any]) -> None:
    for i, value in enumerate(source):
        existing = target[i]
        if isinstance(existing, dict) and isinstance(value, dict):
            deep_merge(existing, value)
        elif isinstance(existing, list) and isinstance(value, list) and len(existing) == len(value):
            _merge_lists(existing, value)
        else:
            target[i] = value


def _repath(
    error: dict[str, Any], targets: list[list[tuple[dict[str, Any], LinkedPath]]]
) -> Path | None:
    """Map ``["_entities", i, ...rest]`` to the client path of representation ``i``."""
    path = error.get("path")
    if not isinstance(path, list) or len(path) < 2 or path[0] != "_entities":
        return None
    index = path[1]
    if not isinstance(index, int) or not 0 <= index < len(targets) or not targets[index]:
        return None
    return [*materialize(targets[index][0][1]), *path[2:]]


def _subgraph_error(error: Any, service: str, path: Any) -> dict[str, Any]:
    if not isinstance(error, dict):
        return errors.graphql_error(str(error), extra={"serviceName": service})
    result: dict[str, Any] = {"message": str(error.get("message", "Subgraph error"))}
    if isinstance(path, list):
        result["path"] = path
    extensions = dict(error.get("extensions") or {})
    extensions.setdefault("serviceName", service)
    result["extensions"] = extensions
    return result


async def execute_plan(
    plan: QueryPlan,
    *,
    fetcher: SubgraphFetcher,
    variables: Mapping[str, Any],
    headers: Mapping[str, str],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``plan``; the merged data and the errors collected on the way."""
    execution = _Execution(fetcher, variables, headers)
    if plan.node is not None:
        await execution.run(plan.node)
    return execution.data, execution.errors


async def continue_plan(
    node: PlanNode,
    *,
    data: dict[str, Any],
    fetcher: SubgraphFetcher,
    variables: Mapping[str, Any],
    headers: Mapping[str, str],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``node`` on data a root fetch already produced (a subscription's event)."""
    execution = _Execution(fetcher, variables, headers)
    execution.data = data
    await execution.run(node)
    return execution.data, execution.errors
