"""Response shaping: the client's data from the merged subgraph data.

In: the normalized operation (``NSelection``), the merged data from the executor (with hidden
key fields), the errors so far and any locally computed introspection values. Out: ``data``
exactly as the client selected it (aliases applied, hidden fields dropped, ``__typename``
resolved) with nulls propagated by the API schema's nullability; a null in a non-null field
adds an error unless one already covers that path.
"""

from __future__ import annotations

from typing import Any

from router.operation import INTROSPECTION_FIELDS, NON_NULL, NField, NSelection

# Paths are built lazily as linked tuples (parent, key) and only materialized for errors.
LinkedPath = tuple[Any, str | int] | None
_INVALID = object()  # a null that must bubble to the nearest nullable parent


def _materialize(path: LinkedPath) -> list[str | int]:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


class _Shaper:
    __slots__ = ("error_paths", "errors", "introspection")

    def __init__(self, errors: list[dict[str, Any]], introspection: dict[str, Any] | None) -> None:
        self.errors = errors
        self.introspection = introspection or {}
        self.error_paths: list[list[Any]] | None = None

    def object(
        self, obj: dict[str, Any], selection: NSelection, static_type: str | None, path: LinkedPath
    ) -> Any:
        typename = obj.get("__typename") or static_type
        fields = selection.by_type.get(typename) if typename else None
        if fields is None:
            # An @interfaceObject answers with the interface name; the planner only leaves
            # that name when every runtime type selects the same fields.
            fields = next(iter(selection.by_type.values()), None)
            if fields is None:
                return {}
        out: dict[str, Any] = {}
        for nfield in fields:
            key = nfield.response_key
            name = nfield.name
            if name == "__typename":
                out[key] = typename
            elif name in INTROSPECTION_FIELDS:
                out[key] = self.introspection.get(key)
            else:
                value = obj.get(key)
                # Leaves that are present and not lists are copied as they are.
                if value is None or nfield.is_list or nfield.selection is not None:
                    value = self.complete(value, nfield, 0, (path, key))
                    if value is _INVALID:
                        return _INVALID
                out[key] = value
        return out

    def complete(self, value: Any, nfield: NField, depth: int, path: LinkedPath) -> Any:
        modifiers = nfield.modifiers
        if depth < len(modifiers) and modifiers[depth] == NON_NULL:
            result = self.inner(value, nfield, depth + 1, path)
            if result is None:
                self.null_error(nfield, path)
                return _INVALID
            return result
        result = self.inner(value, nfield, depth, path)
        return None if result is _INVALID else result

    def inner(self, value: Any, nfield: NField, depth: int, path: LinkedPath) -> Any:
        if value is None:
            return None
        if depth < len(nfield.modifiers):  # a list (non-null was consumed by the caller)
            if not isinstance(value, list):
                return None
            items: list[Any] = []
            for index, item in enumerate(value):
                completed = self.complete(item, nfield, depth + 1, (path, index))
                if completed is _INVALID:
                    return _INVALID
                items.append(completed)
            return items
        selection = nfield.selection
        if selection is None:
            return value
        if not isinstance(value, dict):
            return None
        return self.object(value, selection, nfield.object_type, path)

    def null_error(self, nfield: NField, path: LinkedPath) -> None:
        keys = _materialize(path)
        if self._covered(keys):
            return
        message = f"Cannot return null for non-nullable field {nfield.parent_type}.{nfield.name}."
        self.errors.append({"message": message, "path": keys})
        if self.error_paths is not None:
            self.error_paths.append(keys)

    def _covered(self, path: list[str | int]) -> bool:
        if self.error_paths is None:
            self.error_paths = [e["path"] for e in self.errors if isinstance(e.get("path"), list)]
        return any(_paths_overlap(known, path) for known in self.error_paths)


def _paths_overlap(known: list[Any], path: list[str | int]) -> bool:
    for a, b in zip(known, path, strict=False):
        if a != b and not (a == "@" and isinstance(b, int)):
            return False
    return True


def shape_data(
    root: NSelection,
    data: dict[str, Any] | None,
    errors: list[dict[str, Any]],
    *,
    introspection: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The client's ``data`` (``None`` when a null bubbled to the root); may append errors."""
    root_type = next(iter(root.by_type))
    shaped = _Shaper(errors, introspection).object(data or {}, root, root_type, None)
    return None if shaped is _INVALID else shaped
